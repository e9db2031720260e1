"""The policy: what is stored about whom, why, for how long, and who may receive it (S1).

Every class here is a frozen attrs value with no I/O; reading and writing policy files
lives in :mod:`praclox_privacy.formats.policy`. Cross-references between entries (a purpose
naming a category, a rule naming a relation type) are checked by
:func:`praclox_privacy.domain.check_policy`, not by the constructors, so that a
policy file with many mistakes gets all of them reported at once.
"""

import enum
import re
from collections.abc import Iterator
from typing import Protocol, TypeVar

import attrs

from .errors import InvalidValue
from .periods import Period

__all__ = [
    "COLLECTED",
    "ConsentExtension",
    "ConsentKind",
    "Controller",
    "DataCategory",
    "DataOrigin",
    "DisclosurePolicy",
    "Dpo",
    "Labels",
    "LegalBasis",
    "LegalHold",
    "LifecycleEvent",
    "Party",
    "Policy",
    "Purpose",
    "Recipient",
    "RelationKind",
    "RelationType",
    "RetentionAction",
    "RetentionRule",
    "StaffAccessPolicy",
    "StatementSettings",
    "SupervisoryAuthority",
]

COLLECTED = "collected"
"""The lifecycle event that every item has: the instant it was collected (stored)."""

_ID_RE = re.compile(r"[a-z][a-z0-9_]*")


def _identifier(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InvalidValue(
            attribute.name,
            f"{value!r} is not a valid identifier (lower-case letters, digits and '_', "
            "starting with a letter)",
        )


def _non_empty(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not value.strip():
        raise InvalidValue(attribute.name, "must not be empty")


def _email(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in value):
        raise InvalidValue(attribute.name, f"{value!r} is not an e-mail address")


def _tuple_of_str(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("expected a list of strings, not a single string")
    return tuple(value)  # type: ignore[arg-type]


def _optional_email(
    instance: object, attribute: "attrs.Attribute[str | None]", value: object
) -> None:
    if value is not None:
        _email(instance, attribute, value)  # type: ignore[arg-type]


class LegalBasis(enum.StrEnum):
    """The lawful bases of GDPR Art. 6(1)."""

    CONSENT = "consent"
    """Art. 6(1)(a): the person consented."""
    CONTRACT = "contract"
    """Art. 6(1)(b): needed for a contract with the person, or steps before one."""
    LEGAL_OBLIGATION = "legal_obligation"
    """Art. 6(1)(c): a law obliges the controller."""
    VITAL_INTERESTS = "vital_interests"
    """Art. 6(1)(d): to protect someone's life."""
    PUBLIC_TASK = "public_task"
    """Art. 6(1)(e): a task in the public interest."""
    LEGITIMATE_INTEREST = "legitimate_interest"
    """Art. 6(1)(f): the controller's legitimate interest, which must be stated."""

    @property
    def article(self) -> str:
        """The article and point, e.g. ``Art. 6(1)(b) GDPR``."""
        letter = "abcdef"[list(LegalBasis).index(self)]
        return f"Art. 6(1)({letter}) GDPR"


class RetentionAction(enum.StrEnum):
    """What happens to an item when its retention period is over."""

    ERASE = "erase"
    ANONYMISE = "anonymise"


class RelationKind(enum.StrEnum):
    """Whether a relation type is held by an organisation or a natural person."""

    ORGANISATION = "organisation"
    PERSON = "person"


class DataOrigin(enum.StrEnum):
    """Where the data about a relation type comes from (GDPR Art. 14(2)(f))."""

    DATA_SUBJECT = "data_subject"
    """From the person (or office) themselves."""
    EMPLOYER = "employer"
    """From the organisation the person works for (a contact person's office)."""
    PUBLIC_SOURCES = "public_sources"
    """From publicly accessible sources (a website, the trade register)."""
    THIRD_PARTY = "third_party"
    """From another party."""


def _origins(value: object) -> tuple[DataOrigin, ...]:
    return tuple(DataOrigin(v) for v in _tuple_of_str(value))


@attrs.frozen
class Labels:
    """A text in Dutch and English (the statement's two languages)."""

    nl: str = attrs.field(validator=_non_empty)
    en: str = attrs.field(validator=_non_empty)

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` (``"nl"`` or ``"en"``).

        :raises ValueError: for another language.
        """
        if lang == "nl":
            return self.nl
        if lang == "en":
            return self.en
        raise ValueError(f"unsupported language {lang!r} (expected 'nl' or 'en')")


@attrs.frozen
class Party:
    """A named party with an e-mail address."""

    name: str = attrs.field(validator=_non_empty)
    email: str = attrs.field(validator=_email)


@attrs.frozen
class Dpo:
    """The Data Protection Officer ("Functionaris voor Gegevensbescherming", FG) (S16)."""

    name: str = attrs.field(validator=_non_empty)
    email: str = attrs.field(validator=_email)
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class SupervisoryAuthority:
    """Where a data subject may lodge a complaint (GDPR Art. 77)."""

    name: str = attrs.field(validator=_non_empty)
    url: str = attrs.field(validator=_non_empty)


@attrs.frozen
class Controller:
    """The controller (Art. 4(7) GDPR) and its Data Protection Officer."""

    name: str = attrs.field(validator=_non_empty)
    email: str = attrs.field(validator=_email)
    country: str = attrs.field(validator=_non_empty)
    dpo: Dpo | None = None
    address: str = ""
    supervisory_authority: SupervisoryAuthority | None = None


@attrs.frozen
class RelationType:
    """A kind of relation the controller has with a party (client, applicant, ...).

    One party may hold several relation types at once (a contact person can also be a
    website user, S5).

    :ivar categories: the data categories that may be stored for this relation type.
    :ivar belongs_to: relation types of the organisation a person of this type belongs to
        (contact persons belong to a client or prospect, S3).
    :ivar origins: where the data comes from (GDPR Art. 13 and 14; the statement says so).
    :ivar origin_note: the sources in words, e.g. "your website or the trade register".
    :ivar provision: whether the person must provide the data and what happens if they
        do not (GDPR Art. 13(2)(e)).
    """

    id: str = attrs.field(validator=_identifier)
    kind: RelationKind
    label: Labels
    categories: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    belongs_to: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    description: Labels | None = None
    origins: tuple[DataOrigin, ...] = attrs.field(default=(), converter=_origins)
    origin_note: Labels | None = None
    provision: Labels | None = None
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class DataCategory:
    """A category of personal data (office address, application, life events, ...).

    :ivar ephemeral: never stored anywhere (S11); stores refuse to persist it.
    :ivar optional: stored only when known, never required (S4).
    :ivar requires_consent: a consent kind the person must have given *before* the data
        came into being (S13, recordings).
    :ivar requires_agreement: an agreement kind that must be on record with the
        organisation before the data is stored (S10, client system data).
    :ivar fields: the usual field names, for documentation and import checks.
    """

    id: str = attrs.field(validator=_identifier)
    label: Labels
    description: Labels | None = None
    ephemeral: bool = False
    optional: bool = False
    requires_consent: str | None = None
    requires_agreement: str | None = None
    fields: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class Purpose:
    """Why data is processed, with its GDPR Art. 6(1) legal basis.

    :ivar legitimate_interest: the interest pursued; required for that basis.
    :ivar law: the law that imposes the obligation; required for ``legal_obligation``.
    :ivar consent_kind: the consent that makes processing lawful; required for ``consent``.
    """

    id: str = attrs.field(validator=_identifier)
    label: Labels
    legal_basis: LegalBasis
    relation_types: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    categories: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    description: Labels | None = None
    legitimate_interest: Labels | None = None
    law: str | None = None
    consent_kind: str | None = None
    direct_marketing: bool = False
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class Recipient:
    """A party that receives personal data. Praclox's policy has none (S9)."""

    id: str = attrs.field(validator=_identifier)
    label: Labels
    purposes: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    categories: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    third_country: str | None = None
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class ConsentKind:
    """A kind of consent a person can give and withdraw (newsletter, keep application, ...).

    :ivar text: the text shown when asking, kept as evidence with each consent.
    """

    id: str = attrs.field(validator=_identifier)
    label: Labels
    text: Labels
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class LifecycleEvent:
    """A named moment in a relation (``rejected``, ``relation_ended``, ``used``, ...).

    The event ``collected`` is the instant each item was stored; every other event
    belongs to the subject and is recorded when it happens.

    :ivar label: the moment in words, e.g. nl "de afwijzing", en "the rejection".
    """

    id: str = attrs.field(validator=_identifier)
    label: Labels
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class ConsentExtension:
    """A consent that extends retention, up to a bound measured from the same event."""

    consent_kind: str
    up_to: Period


@attrs.frozen
class LegalHold:
    """A legal obligation to keep data until the rule's due date (e.g. AWR art. 52).

    Held data survives erasure requests (GDPR Art. 17(3)(b)); the requester is told why.
    """

    law: str = attrs.field(validator=_non_empty)
    reason: Labels


@attrs.frozen
class RetentionRule:
    """How long categories of some relation types are kept, measured from an event.

    The item is due at the earliest of the events in ``after`` plus ``period``; before
    any of them has happened it is kept.
    """

    id: str = attrs.field(validator=_identifier)
    relation_types: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    categories: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    period: Period
    after: tuple[str, ...] = attrs.field(converter=_tuple_of_str)
    action: RetentionAction = RetentionAction.ERASE
    consent_extension: ConsentExtension | None = None
    legal_hold: LegalHold | None = None
    note: str = ""
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class DisclosurePolicy:
    """What happens when a third party asks for someone's data (S9).

    :ivar consent_kind: the consent the person must give for each disclosure.
    :ivar answer_within: silence for this long counts as refusal.
    """

    consent_kind: str
    answer_within: Period
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class StaffAccessPolicy:
    """Who among the staff may look into client data (S12).

    :ivar client_relation_types: the relation types whose data is client data: a subject
        holding one, and the persons that belong to such a subject (its contact persons).
        A named staff member reads it only through the access guard.
    """

    require_confidentiality_agreement: bool = True
    allow_temporary_staff: bool = False
    require_client_agreement: bool = True
    client_relation_types: tuple[str, ...] = attrs.field(
        default=("client",), converter=_tuple_of_str
    )
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen
class StatementSettings:
    """What the generated privacy statement needs beyond the rest of the policy.

    :ivar not_applicable: codes of GDPR Art. 13/14 elements that do not apply, stated
        explicitly (``recipients``, ``third_country_transfers``, ``automated_decisions``,
        ...; see :data:`praclox_privacy.formats.documents.art13.ELEMENTS`).
    :ivar automated_decisions: the automated decision-making, including profiling, and
        its logic and consequences (GDPR Art. 13(2)(f)); leave it out and list
        ``automated_decisions`` under ``not_applicable`` when there is none.
    :ivar rights_contact: where people send requests to exercise their rights; by
        default the DPO's e-mail address, else the controller's.
    :ivar response_time: how soon a request is answered (GDPR Art. 12(3): one month).
    """

    not_applicable: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    automated_decisions: Labels | None = None
    rights_contact: str | None = attrs.field(default=None, validator=_optional_email)
    response_time: Period = attrs.field(factory=lambda: Period(months=1))
    source: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)


@attrs.frozen(cache_hash=True)
class Policy:
    """The single source of truth (S1): what is stored about whom, why and for how long.

    Build one with :func:`praclox_privacy.load_policy` (which validates it) or by hand and
    check it with :func:`~praclox_privacy.domain.check_policy`.
    """

    controller: Controller
    relation_types: tuple[RelationType, ...] = attrs.field(converter=tuple)
    categories: tuple[DataCategory, ...] = attrs.field(converter=tuple)
    purposes: tuple[Purpose, ...] = attrs.field(converter=tuple)
    events: tuple[LifecycleEvent, ...] = attrs.field(converter=tuple)
    retention: tuple[RetentionRule, ...] = attrs.field(converter=tuple)
    consent_kinds: tuple[ConsentKind, ...] = attrs.field(default=(), converter=tuple)
    recipients: tuple[Recipient, ...] = attrs.field(default=(), converter=tuple)
    disclosure: DisclosurePolicy | None = None
    staff_access: StaffAccessPolicy | None = None
    third_country_transfers: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    security_measures: tuple[Labels, ...] = attrs.field(default=(), converter=tuple)
    statement: StatementSettings = StatementSettings()
    """Settings of the generated statement and its GDPR Art. 13/14 check."""
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    """Codes of completeness checks reported as warnings instead of errors."""
    schema_version: int = 1

    # -- lookups -----------------------------------------------------------------------

    def relation_type(self, id: str) -> RelationType:
        """Return the relation type ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.relation_types, id, "relation type")

    def category(self, id: str) -> DataCategory:
        """Return the data category ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.categories, id, "data category")

    def purpose(self, id: str) -> Purpose:
        """Return the purpose ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.purposes, id, "purpose")

    def consent_kind(self, id: str) -> ConsentKind:
        """Return the consent kind ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.consent_kinds, id, "consent kind")

    def event(self, id: str) -> LifecycleEvent:
        """Return the lifecycle event ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.events, id, "lifecycle event")

    def rule(self, id: str) -> RetentionRule:
        """Return the retention rule ``id``.

        :raises KeyError: when the policy does not declare it.
        """
        return _find(self.retention, id, "retention rule")

    def rules_for(self, relation_type: str, category: str) -> tuple[RetentionRule, ...]:
        """Return the retention rules that cover ``category`` of ``relation_type``."""
        return tuple(
            r
            for r in self.retention
            if relation_type in r.relation_types and category in r.categories
        )

    def purposes_for(self, relation_type: str, category: str) -> tuple[Purpose, ...]:
        """Return the purposes that process ``category`` of ``relation_type``."""
        return tuple(
            p
            for p in self.purposes
            if relation_type in p.relation_types and category in p.categories
        )

    def declares(self, relation_type: str, category: str) -> bool:
        """Return whether ``category`` may be stored for ``relation_type``."""
        return any(
            rt.id == relation_type and category in rt.categories for rt in self.relation_types
        )

    def sources(self) -> Iterator[tuple[str, str]]:
        """Yield ``(source id, entry location)`` for every entry that names a source."""
        groups: tuple[tuple[str, tuple[object, ...]], ...] = (
            ("relation_type", self.relation_types),
            ("category", self.categories),
            ("purpose", self.purposes),
            ("event", self.events),
            ("retention", self.retention),
            ("consent_kind", self.consent_kinds),
            ("recipient", self.recipients),
        )
        for key, entries in groups:
            for entry in entries:
                for src in getattr(entry, "source", ()):
                    yield src, f"{key}[{entry.id}]"  # type: ignore[attr-defined]
        if self.controller.dpo is not None:
            for src in self.controller.dpo.source:
                yield src, "controller.dpo"
        for key, single in (
            ("disclosure", self.disclosure),
            ("staff_access", self.staff_access),
            ("statement", self.statement),
        ):
            if single is not None:
                for src in single.source:
                    yield src, key


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_HasId)


def _find(entries: tuple[_T, ...], id: str, what: str) -> _T:
    for entry in entries:
        if entry.id == id:
            return entry
    raise KeyError(f"the policy declares no {what} {id!r}")
