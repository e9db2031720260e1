"""The congratulations agenda (S8): which life events fall in a window of days, pure.

Life events are items of category ``life_events`` whose value is an ISO date
(``YYYY-MM-DD``); the field says what the date is:

===========================  ==========================================================
field                        meaning
===========================  ==========================================================
``birthday``                 the subject's own date of birth
``child_birthday:<name>``    the date of birth of the subject's child ``<name>``
``wedding_date``             the subject's wedding date
===========================  ==========================================================

Each recurs yearly (computed with ``dateutil.rrule``). A 29 February date falls on
28 February in common years (``LeapDay.FEB_28``, the default) or on 1 March
(``LeapDay.MAR_1``). Items with another field or a value that is not a date (for
example an anonymised one) are not life events and are ignored.
"""

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs
from dateutil import rrule

from .records import Item, ItemKey

__all__ = [
    "CHILD_PREFIX",
    "LIFE_EVENTS",
    "Congratulation",
    "LeapDay",
    "LifeEvent",
    "LifeEventKind",
    "life_event_of",
    "recurrence",
    "upcoming",
]

LIFE_EVENTS = "life_events"
"""The category that holds life events."""

CHILD_PREFIX = "child_birthday:"
"""A child's birthday field starts with this; the child's name follows."""


class LifeEventKind(enum.StrEnum):
    """What a life event's date is."""

    BIRTHDAY = "birthday"
    CHILD_BIRTHDAY = "child_birthday"
    WEDDING = "wedding_date"


class LeapDay(enum.StrEnum):
    """On which day a 29 February date is celebrated in a year without one."""

    FEB_28 = "feb28"
    MAR_1 = "mar1"


@attrs.frozen
class LifeEvent:
    """A dated life event of a subject, read from a ``life_events`` item.

    :ivar child: the child's name, for ``LifeEventKind.CHILD_BIRTHDAY``; else ``None``.
    """

    key: ItemKey
    kind: LifeEventKind
    date: date
    child: str | None = None

    @property
    def subject_id(self) -> str:
        """The subject whose life event it is."""
        return self.key.subject_id

    def describe(self, years: int | None = None, who: str | None = None) -> str:
        """Return a one-line English description, e.g. ``"Jan Jansen's birthday (46)"``.

        :param years: the age or the number of years married, when known.
        :param who: the subject's name (default: the subject id).
        """
        name = who or self.subject_id
        count = "" if years is None else f" ({years})"
        if self.kind is LifeEventKind.BIRTHDAY:
            return f"{name}'s birthday{count}"
        if self.kind is LifeEventKind.CHILD_BIRTHDAY:
            return f"birthday of {self.child}{count}, child of {name}"
        return f"{name}'s wedding anniversary{count}"


def life_event_of(item: Item) -> LifeEvent | None:
    """Return the life event ``item`` records, or ``None`` when it records none.

    ``None`` for another category, an unknown field, a child's field without a name, or
    a value that is not an ISO date (``YYYY-MM-DD``).
    """
    if item.category != LIFE_EVENTS:
        return None
    field = item.field
    child: str | None = None
    if field == LifeEventKind.BIRTHDAY:
        kind = LifeEventKind.BIRTHDAY
    elif field == LifeEventKind.WEDDING:
        kind = LifeEventKind.WEDDING
    elif field.startswith(CHILD_PREFIX) and field[len(CHILD_PREFIX) :].strip():
        kind = LifeEventKind.CHILD_BIRTHDAY
        child = field[len(CHILD_PREFIX) :].strip()
    else:
        return None
    value = item.value.strip()
    if len(value) != 10:  # fromisoformat also takes 20260101 and 2026-W01-1
        return None
    try:
        when = date.fromisoformat(value)
    except ValueError:
        return None
    return LifeEvent(item.key, kind, when, child)


def recurrence(when: date, leap_day: LeapDay = LeapDay.FEB_28) -> rrule.rrule:
    """Return the yearly recurrence of ``when``, starting on ``when`` itself.

    A 29 February date recurs on the last day of February (28 February in common years)
    or on the 60th day of the year (1 March in common years), per ``leap_day``.
    """
    start = datetime(when.year, when.month, when.day)  # noqa: DTZ001 - a calendar date
    if (when.month, when.day) != (2, 29):
        return rrule.rrule(rrule.YEARLY, dtstart=start, bymonth=when.month, bymonthday=when.day)
    if leap_day is LeapDay.FEB_28:
        return rrule.rrule(rrule.YEARLY, dtstart=start, bymonth=2, bymonthday=-1)
    return rrule.rrule(rrule.YEARLY, dtstart=start, byyearday=60)


@attrs.frozen
class Congratulation:
    """One moment to congratulate: a life event's anniversary on a day.

    :ivar years: the age (birthdays) or the number of years married (weddings).
    """

    event: LifeEvent
    on: date
    years: int

    def describe(self, who: str | None = None) -> str:
        """Return a one-line English description; see :meth:`LifeEvent.describe`."""
        return self.event.describe(self.years, who)


def upcoming(
    events: Iterable[LifeEvent],
    start: date,
    days: int,
    leap_day: LeapDay = LeapDay.FEB_28,
) -> list[Congratulation]:
    """Return the anniversaries from ``start`` through ``start + days`` (both included).

    The event's own date is no anniversary (a child born today is not congratulated on
    turning 0). Sorted by day, then subject, kind and child.

    :raises ValueError: when ``days`` is negative.
    """
    if days < 0:
        raise ValueError(f"days must be 0 or more, not {days}")
    first = datetime(start.year, start.month, start.day)  # noqa: DTZ001 - a calendar date
    last = first + timedelta(days=days)
    found: list[Congratulation] = []
    for event in events:
        for occurrence in recurrence(event.date, leap_day).between(first, last, inc=True):
            years = occurrence.year - event.date.year
            if years >= 1:
                found.append(Congratulation(event, occurrence.date(), years))
    return sorted(
        found,
        key=lambda c: (c.on, c.event.subject_id, c.event.kind, c.event.child or ""),
    )
