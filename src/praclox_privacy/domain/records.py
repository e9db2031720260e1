"""Subjects, the items of data held about them, and their consents.

Identifiers are checked here, once, for every store: a subject id can never name a path
outside a folder, a SQL fragment or an empty string.
"""

import functools
import re
from collections.abc import Iterable  # noqa: TC003 - attrs converters' annotations
from datetime import datetime
from typing import Any

import attrs

from .errors import InvalidValue

__all__ = [
    "Consent",
    "ConsentRecord",
    "Evidence",
    "Item",
    "ItemKey",
    "Subject",
    "SubjectEvent",
    "aware",
    "check_subject_id",
]

_SUBJECT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


@functools.lru_cache(maxsize=65536)
def _is_subject_id(value: str) -> bool:
    return bool(_SUBJECT_ID_RE.fullmatch(value)) and ".." not in value


@functools.lru_cache(maxsize=4096)
def _is_name(value: str) -> bool:
    return bool(_NAME_RE.fullmatch(value))


def check_subject_id(value: str) -> str:
    """Return ``value`` when it is a valid subject id.

    :raises InvalidValue: naming the rule an id must follow.

    Valid: 1 to 128 characters from letters, digits and ``. _ @ + -``, starting with a
    letter or digit, never containing ``..``; so an id is safe as a file name.
    """
    if type(value) is not str or not _is_subject_id(value):
        raise InvalidValue(
            "subject_id",
            f"{value!r} is not a valid subject id (1-128 letters, digits or '._@+-', "
            "starting with a letter or digit, no '..')",
        )
    return value


def _subject_id(instance: object, attribute: "attrs.Attribute[Any]", value: str) -> None:
    try:
        check_subject_id(value)
    except InvalidValue as exc:
        raise InvalidValue(attribute.name, exc.message) from None


def _name(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if type(value) is not str or not _is_name(value):
        raise InvalidValue(attribute.name, f"{value!r} is not a valid identifier")


def _field_name(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidValue(
            attribute.name, f"field name {value!r} must be 1-200 characters, not blank"
        )


def aware(instance: object, attribute: "attrs.Attribute[Any]", value: object) -> None:
    """Validate an attrs field: a timezone-aware instant (or ``None``).

    :raises InvalidValue: naming the field.
    """
    if value is None:
        return
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(attribute.name, f"must be a timezone-aware datetime, not {value!r}")


@attrs.frozen
class SubjectEvent:
    """A lifecycle event that happened to a subject (e.g. ``rejected`` at an instant)."""

    name: str = attrs.field(validator=_name)
    at: datetime = attrs.field(validator=aware)


def _frozenset_of_str(value: "Iterable[str]") -> frozenset[str]:
    if type(value) is frozenset:
        return value
    if isinstance(value, str):
        raise InvalidValue("relation_types", "expected a collection of names, not one string")
    return frozenset(value)


def _tuple_of_events(value: "Iterable[SubjectEvent]") -> tuple[SubjectEvent, ...]:
    return value if type(value) is tuple else tuple(value)


@attrs.frozen
class Subject:
    """A party whose data is held: a person or an organisation.

    :ivar relation_types: every relation type the subject holds now (one or more).
    :ivar events: lifecycle events, in any order; the latest of a name counts.
    :ivar organisation: for a person, the organisation subject they belong to (S3).
    """

    id: str = attrs.field(validator=_subject_id)
    relation_types: frozenset[str] = attrs.field(converter=_frozenset_of_str)
    events: tuple[SubjectEvent, ...] = attrs.field(default=(), converter=_tuple_of_events)
    organisation: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_subject_id)
    )

    @relation_types.validator
    def _check_relation_types(
        self, attribute: "attrs.Attribute[frozenset[str]]", value: frozenset[str]
    ) -> None:
        for rt in value:
            if not isinstance(rt, str) or not _NAME_RE.fullmatch(rt):
                raise InvalidValue(
                    attribute.name, f"relation type {rt!r} is not a valid identifier"
                )

    def event_at(self, name: str) -> datetime | None:
        """Return when event ``name`` last happened, or ``None``."""
        instants = [e.at for e in self.events if e.name == name]
        return max(instants) if instants else None

    def with_event(self, name: str, at: datetime) -> "Subject":
        """Return a copy with event ``name`` recorded at ``at``."""
        return attrs.evolve(self, events=(*self.events, SubjectEvent(name, at)))

    def with_relation_types(self, *relation_types: str) -> "Subject":
        """Return a copy holding exactly ``relation_types``; events and data stay (S15)."""
        return attrs.evolve(self, relation_types=frozenset(relation_types))


@attrs.frozen
class ItemKey:
    """What identifies an item: its subject, category and field."""

    subject_id: str
    category: str
    field: str

    def __str__(self) -> str:
        return f"{self.subject_id}/{self.category}/{self.field}"


def _tuple_of_names(value: "Iterable[str]") -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidValue("purposes", "expected a collection of names, not one string")
    return tuple(value)


@attrs.frozen
class Item:
    """One value held about a subject: e.g. category ``life_events``, field ``birthday``.

    An item is identified by ``(subject_id, category, field)``; writing the same key again
    replaces the value.
    """

    subject_id: str = attrs.field(validator=_subject_id)
    category: str = attrs.field(validator=_name)
    field: str = attrs.field(validator=_field_name)
    value: str = attrs.field(validator=attrs.validators.instance_of(str))
    collected_at: datetime = attrs.field(validator=aware)
    purposes: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)

    @purposes.validator
    def _check_purposes(
        self, attribute: "attrs.Attribute[tuple[str, ...]]", value: tuple[str, ...]
    ) -> None:
        for purpose in value:
            if type(purpose) is not str or not _is_name(purpose):
                raise InvalidValue(attribute.name, f"purpose {purpose!r} is not a valid identifier")

    @property
    def key(self) -> ItemKey:
        """The item's identity."""
        return ItemKey(self.subject_id, self.category, self.field)


@attrs.frozen
class Evidence:
    """How a consent was given: the channel, the text shown, and a reference."""

    method: str
    text: str
    reference: str = ""


@attrs.frozen
class Consent:
    """A consent of some kind, given by a subject; never deleted, only withdrawn.

    :ivar until: the consent lapses by itself at this instant, if set.
    """

    subject_id: str = attrs.field(validator=_subject_id)
    kind: str = attrs.field(validator=_name)
    granted_at: datetime = attrs.field(validator=aware)
    evidence: Evidence
    withdrawn_at: datetime | None = attrs.field(default=None, validator=aware)
    until: datetime | None = attrs.field(default=None, validator=aware)
    scope: str = ""
    """What the consent is for when a kind needs it (a recording session, a disclosure)."""

    def ends_at(self) -> datetime | None:
        """Return when the consent stops counting (withdrawn or lapsed), or ``None``."""
        ends = [t for t in (self.withdrawn_at, self.until) if t is not None]
        return min(ends) if ends else None

    def active_at(self, instant: datetime) -> bool:
        """Return whether the consent counts at ``instant``."""
        end = self.ends_at()
        return self.granted_at <= instant and (end is None or instant < end)

    def withdraw(self, at: datetime) -> "Consent":
        """Return the consent withdrawn at ``at``.

        :raises ValueError: when it was already withdrawn or ``at`` precedes the grant.
        """
        if self.withdrawn_at is not None:
            raise ValueError(f"consent {self.kind!r} of {self.subject_id!r} is already withdrawn")
        if at < self.granted_at:
            raise ValueError("a consent cannot be withdrawn before it was granted")
        return attrs.evolve(self, withdrawn_at=at)


@attrs.frozen
class ConsentRecord:
    """A consent as recorded in the ledger, with its id."""

    id: int
    consent: Consent
