"""The congratulations agenda's pure computation (S8): recurrence, leap days, ages."""

from datetime import UTC, date, datetime

import pytest

from praclox_privacy.domain.agenda import (
    LeapDay,
    LifeEvent,
    LifeEventKind,
    life_event_of,
    recurrence,
    upcoming,
)
from praclox_privacy.domain.records import Item

pytestmark = pytest.mark.promise("S8")

AT = datetime(2026, 1, 5, tzinfo=UTC)


def event(field: str, value: str, subject: str = "person-1") -> LifeEvent:
    found = life_event_of(Item(subject, "life_events", field, value, AT))
    assert found is not None
    return found


def test_S8_life_event_fields() -> None:
    assert event("birthday", "1980-05-01").kind is LifeEventKind.BIRTHDAY
    child = event("child_birthday:Noor", "2015-12-28")
    assert (child.kind, child.child) == (LifeEventKind.CHILD_BIRTHDAY, "Noor")
    assert event("wedding_date", "2006-01-02").kind is LifeEventKind.WEDDING


@pytest.mark.parametrize(
    ("category", "field", "value"),
    [
        ("person_name", "birthday", "1980-05-01"),
        ("life_events", "shoe_size", "1980-05-01"),
        ("life_events", "child_birthday:", "2015-12-28"),
        ("life_events", "child_birthday", "2015-12-28"),
        ("life_events", "birthday", "[anonymised]"),
        ("life_events", "birthday", "19800501"),
        ("life_events", "birthday", "1980-02-30"),
    ],
)
def test_S8_not_a_life_event(category: str, field: str, value: str) -> None:
    assert life_event_of(Item("person-1", category, field, value, AT)) is None


def test_S8_upcoming_across_a_year_boundary() -> None:
    events = [
        event("birthday", "1975-12-24", "person-2"),
        event("wedding_date", "2006-01-02"),
        event("birthday", "1990-01-10", "person-3"),
        event("birthday", "1990-06-10", "person-4"),
    ]
    found = upcoming(events, date(2026, 12, 20), 14)
    assert [(c.on, c.event.subject_id, c.years) for c in found] == [
        (date(2026, 12, 24), "person-2", 51),
        (date(2027, 1, 2), "person-1", 21),
    ]
    # The window includes both its first and its last day.
    assert [c.on for c in upcoming(events, date(2026, 12, 24), 9)] == [
        date(2026, 12, 24),
        date(2027, 1, 2),
    ]


@pytest.mark.parametrize(
    ("leap_day", "common_year"),
    [(LeapDay.FEB_28, date(2027, 2, 28)), (LeapDay.MAR_1, date(2027, 3, 1))],
)
def test_S8_leap_day_birthdays(leap_day: LeapDay, common_year: date) -> None:
    born = event("birthday", "1980-02-29")
    found = upcoming([born], date(2027, 2, 1), 60, leap_day)
    assert [(c.on, c.years) for c in found] == [(common_year, 47)]
    leap = upcoming([born], date(2028, 2, 1), 60, leap_day)
    assert [(c.on, c.years) for c in leap] == [(date(2028, 2, 29), 48)]
    # Never twice in one year, never skipped, over a long span.
    rule = recurrence(born.date, leap_day)
    dates = rule.between(datetime(1981, 1, 1), datetime(2100, 12, 31))  # noqa: DTZ001
    assert [d.year for d in dates] == list(range(1981, 2101))


def test_S8_a_childs_age() -> None:
    child = event("child_birthday:Noor", "2015-12-28")
    (found,) = upcoming([child], date(2026, 12, 20), 14)
    assert (found.on, found.years) == (date(2026, 12, 28), 11)
    assert found.describe("Jan Jansen") == "birthday of Noor (11), child of Jan Jansen"


def test_S8_no_congratulation_on_the_day_itself() -> None:
    newborn = event("child_birthday:Sam", "2026-12-21")
    assert upcoming([newborn], date(2026, 12, 20), 14) == []
    assert [c.years for c in upcoming([newborn], date(2027, 12, 20), 14)] == [1]


def test_S8_a_wedding_anniversary_count() -> None:
    wedding = event("wedding_date", "2006-01-02")
    (found,) = upcoming([wedding], date(2026, 12, 30), 7)
    assert (found.on, found.years) == (date(2027, 1, 2), 21)
    assert found.describe("Jan Jansen") == "Jan Jansen's wedding anniversary (21)"


def test_S8_sorted_by_day_then_subject() -> None:
    events = [
        event("birthday", "1980-03-05", "b"),
        event("birthday", "1981-03-05", "a"),
        event("wedding_date", "2000-03-04", "c"),
    ]
    found = upcoming(events, date(2026, 3, 1), 10)
    assert [(c.on.day, c.event.subject_id) for c in found] == [(4, "c"), (5, "a"), (5, "b")]


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        upcoming([], date(2026, 1, 1), -1)
