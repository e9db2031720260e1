"""Pure rules about who may see, receive, record or bring in data (S7, S9, S10, S12, S13).

Every function here is a decision on plain values: no store, no clock, no I/O. The
services (:mod:`praclox_privacy.services.consents`, :mod:`praclox_privacy.services.disclosure`,
:mod:`praclox_privacy.services.guards`) load the values, call these rules, act on the
:class:`Decision` and audit it.
"""

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from .policy import COLLECTED, LegalBasis, Policy, StaffAccessPolicy
from .records import Consent, Subject, _subject_id, aware

__all__ = [
    "CONFIDENTIALITY",
    "Agreement",
    "Decision",
    "DisclosureRequest",
    "DisclosureStatus",
    "Employment",
    "StaffMember",
    "active_consent",
    "agreement_in_force",
    "disclosure_status",
    "may_disclose",
    "may_store_with_agreement",
    "purposes_in_effect",
    "recording_allowed",
    "staff_access",
]

CONFIDENTIALITY = "confidentiality"
"""The agreement kind of a client's confidentiality agreement with Praclox (S12)."""


@attrs.frozen
class Decision:
    """The answer of a guard: allowed or not, and why (one sentence, for people)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def allow(cls, reason: str) -> "Decision":
        """Return an allowing decision."""
        return cls(True, reason)

    @classmethod
    def refuse(cls, reason: str) -> "Decision":
        """Return a refusing decision."""
        return cls(False, reason)


# -- consents --------------------------------------------------------------------------


def active_consent(
    consents: Iterable[Consent],
    kind: str,
    at: datetime,
    scope: str | None = None,
) -> Consent | None:
    """Return the latest consent of ``kind`` that counts at ``at``, or ``None``.

    :param scope: when given, only a consent with exactly this scope counts.
    """
    found = [
        c
        for c in consents
        if c.kind == kind and c.active_at(at) and (scope is None or c.scope == scope)
    ]
    return max(found, key=lambda c: c.granted_at) if found else None


def purposes_in_effect(
    policy: Policy, subject: Subject, consents: Sequence[Consent], at: datetime
) -> frozenset[str]:
    """Return the purposes that may process the subject's data at ``at`` (S7, S14).

    A purpose applies when the subject holds one of its relation types. A purpose based on
    consent needs an active consent of its kind (a withdrawn newsletter consent ends the
    newsletter and nothing else). Any purpose ends once an event that ends its data's
    retention has happened (closing the website account ends all three account purposes),
    except a consent purpose whose consent is what extends that retention (keeping an
    application after the rejection).
    """
    in_effect: set[str] = set()
    for purpose in policy.purposes:
        types = [rt for rt in purpose.relation_types if rt in subject.relation_types]
        if not types:
            continue
        if purpose.legal_basis is LegalBasis.CONSENT and (
            purpose.consent_kind is None
            or active_consent(consents, purpose.consent_kind, at) is None
        ):
            continue
        ended = False
        for rt in types:
            for category in purpose.categories:
                for rule in policy.rules_for(rt, category):
                    ext = rule.consent_extension
                    if ext is not None and ext.consent_kind == purpose.consent_kind:
                        continue
                    for event in rule.after:
                        happened = subject.event_at(event) if event != COLLECTED else None
                        if happened is not None and happened <= at:
                            ended = True
        if not ended:
            in_effect.add(purpose.id)
    return frozenset(in_effect)


# -- recordings (S13) ------------------------------------------------------------------


def recording_allowed(
    consents: Iterable[Consent],
    subject_id: str,
    kind: str,
    session: str,
    started_at: datetime,
) -> Decision:
    """Return whether a recording of ``session`` that started at ``started_at`` may be kept.

    Only a consent of ``kind`` given by that very person (``subject_id``), for exactly that
    session or call (the consent's ``scope`` equals ``session``), recorded at or before the
    start and not withdrawn or lapsed by then, allows it. A consent that came after the
    start does not make an earlier recording lawful.
    """
    own = [c for c in consents if c.subject_id == subject_id and c.kind == kind]
    if active_consent(own, kind, started_at, session) is not None:
        return Decision.allow(
            f"{subject_id!r} consented to recording {session!r} before it started"
        )
    later = [c for c in own if c.scope == session and c.granted_at > started_at]
    if later:
        return Decision.refuse(
            f"{subject_id!r} consented to recording {session!r} only after it started "
            f"({started_at.isoformat()}); a recording needs consent beforehand"
        )
    return Decision.refuse(
        f"no prior {kind!r} consent of {subject_id!r} for recording {session!r} is on "
        "record; record the consent before the recording starts"
    )


# -- agreements (S10, S12) -------------------------------------------------------------


@attrs.frozen
class Agreement:
    """An agreement with a client, recorded beforehand (a data transfer, confidentiality).

    :ivar kind: ``client_data_transfer`` (S10), ``confidentiality`` (S12), ...
    :ivar scope: what the agreement covers, in words.
    :ivar ends_at: the agreement no longer counts from this instant, if set.
    :ivar delete_by: data transferred under it must be deleted by then, if set.
    :ivar id: the ledger's id, once recorded.
    """

    subject_id: str = attrs.field(validator=_subject_id)
    kind: str
    scope: str
    agreed_at: datetime = attrs.field(validator=aware)
    ends_at: datetime | None = attrs.field(default=None, validator=aware)
    delete_by: datetime | None = attrs.field(default=None, validator=aware)
    id: int | None = None

    def active_at(self, instant: datetime) -> bool:
        """Return whether the agreement counts at ``instant``."""
        ends = [t for t in (self.ends_at, self.delete_by) if t is not None]
        return self.agreed_at <= instant and all(instant < t for t in ends)


def agreement_in_force(
    agreements: Iterable[Agreement], subject_id: str, kind: str, at: datetime
) -> Agreement | None:
    """Return the latest agreement of ``kind`` with ``subject_id`` in force at ``at``."""
    found = [a for a in agreements if a.subject_id == subject_id and a.kind == kind]
    active = [a for a in found if a.active_at(at)]
    return max(active, key=lambda a: a.agreed_at) if active else None


def may_store_with_agreement(
    agreements: Iterable[Agreement], subject_id: str, kind: str, at: datetime
) -> Decision:
    """Return whether data needing a ``kind`` agreement with ``subject_id`` may be stored."""
    if agreement_in_force(agreements, subject_id, kind, at) is not None:
        return Decision.allow(f"a {kind!r} agreement with {subject_id!r} is in force")
    return Decision.refuse(
        f"no {kind!r} agreement with {subject_id!r} is in force at {at.isoformat()}; "
        "record the agreement before the data is transferred"
    )


# -- staff (S12) -----------------------------------------------------------------------


class Employment(enum.StrEnum):
    """How a staff member is employed; temporary staff never get access (S12)."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"


@attrs.frozen
class StaffMember:
    """A member of Praclox's staff in the staff register.

    :ivar confidentiality_signed_at: when they signed the confidentiality agreement.
    :ivar ended_at: when they left; no access from then on.
    """

    id: str = attrs.field(validator=_subject_id)
    name: str
    employment: Employment = attrs.field(converter=Employment)
    started_at: datetime = attrs.field(validator=aware)
    confidentiality_signed_at: datetime | None = attrs.field(default=None, validator=aware)
    ended_at: datetime | None = attrs.field(default=None, validator=aware)


def staff_access(
    member: StaffMember | None,
    client_id: str,
    client_agreements: Iterable[Agreement],
    rules: StaffAccessPolicy,
    at: datetime,
) -> Decision:
    """Return whether ``member`` may look into the data of client ``client_id`` at ``at``.

    Refused for someone not in the register, not yet started or gone, temporary staff
    (unless the policy allows them), without a signed confidentiality agreement, and for a
    client without a confidentiality agreement in force.
    """
    if member is None:
        return Decision.refuse("not in the staff register")
    if at < member.started_at or (member.ended_at is not None and member.ended_at <= at):
        return Decision.refuse(f"{member.id!r} is not employed at {at.isoformat()}")
    if member.employment is Employment.TEMPORARY and not rules.allow_temporary_staff:
        return Decision.refuse(
            f"{member.id!r} is temporary staff; temporary staff never get access"
        )
    if rules.require_confidentiality_agreement and (
        member.confidentiality_signed_at is None or member.confidentiality_signed_at > at
    ):
        return Decision.refuse(f"{member.id!r} has not signed a confidentiality agreement")
    if (
        rules.require_client_agreement
        and agreement_in_force(client_agreements, client_id, CONFIDENTIALITY, at) is None
    ):
        return Decision.refuse(f"no confidentiality agreement with client {client_id!r}")
    return Decision.allow(f"{member.id!r} may look into the data of {client_id!r}")


# -- disclosure (S9) -------------------------------------------------------------------


class DisclosureStatus(enum.StrEnum):
    """Where a third party's request for someone's data stands."""

    PENDING = "pending"
    """Waiting for the person's answer."""
    CONSENTED = "consented"
    """The person consented; a person at Praclox may now carry it out (never automatic)."""
    REFUSED = "refused"
    """The person refused."""
    EXPIRED = "expired"
    """No answer in time: silence counts as refusal."""
    DISCLOSED = "disclosed"
    """Carried out, by hand, after the consent."""


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class DisclosureRequest:
    """A third party's request for someone's data (S9), recorded as it came in.

    :ivar requester: who asks.
    :ivar data: the data categories asked for.
    :ivar reason: why they ask.
    :ivar answer_by: silence until then counts as refusal.
    """

    id: str
    subject_id: str = attrs.field(validator=_subject_id)
    requester: str
    data: tuple[str, ...] = attrs.field(converter=_names)
    reason: str
    requested_at: datetime = attrs.field(validator=aware)
    answer_by: datetime = attrs.field(validator=aware)
    status: DisclosureStatus = attrs.field(
        default=DisclosureStatus.PENDING, converter=DisclosureStatus
    )
    decided_at: datetime | None = attrs.field(default=None, validator=aware)


def disclosure_status(request: DisclosureRequest, now: datetime) -> DisclosureStatus:
    """Return the request's status at ``now``: a pending request past its answer time expired."""
    if request.status is DisclosureStatus.PENDING and now >= request.answer_by:
        return DisclosureStatus.EXPIRED
    return request.status


def may_disclose(
    request: DisclosureRequest, consents: Iterable[Consent], kind: str, now: datetime
) -> Decision:
    """Return whether the data asked for may be handed over now.

    Only after the person's consent of ``kind`` to exactly this request (``scope`` is the
    request's id), still active now; never for a pending, refused or expired request.
    """
    status = disclosure_status(request, now)
    if status is DisclosureStatus.DISCLOSED:
        return Decision.refuse(f"disclosure {request.id} was already carried out")
    if status is not DisclosureStatus.CONSENTED:
        return Decision.refuse(f"disclosure {request.id} is {status.value}, not consented")
    own = [c for c in consents if c.subject_id == request.subject_id]
    if active_consent(own, kind, now, request.id) is None:
        return Decision.refuse(
            f"{request.subject_id!r} has no active consent to disclosure {request.id}"
        )
    return Decision.allow(f"{request.subject_id!r} consented to disclosure {request.id}")
