"""Unit tests of :class:`praclox_privacy.domain.periods.Period`."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from praclox_privacy.domain.periods import Period, PeriodFormatError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

small_units = st.integers(min_value=0, max_value=60)

# Large but realistic periods: every unit within its bound, the whole well under 1000 years.
periods = st.builds(
    Period,
    years=st.integers(min_value=0, max_value=99),
    months=st.integers(min_value=0, max_value=999),
    weeks=st.integers(min_value=0, max_value=9_999),
    days=st.integers(min_value=0, max_value=99_999),
    hours=st.integers(min_value=0, max_value=99_999),
    minutes=st.integers(min_value=0, max_value=99_999),
    seconds=st.integers(min_value=0, max_value=99_999),
)
# Periods small enough to be added to a date without leaving the datetime range.
addable_periods = st.builds(
    Period,
    years=small_units,
    months=small_units,
    weeks=small_units,
    days=small_units,
    hours=small_units,
    minutes=small_units,
    seconds=small_units,
)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2100, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


# -- parse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P4W", Period(weeks=4)),
        ("P3M", Period(months=3)),
        ("P1Y6M", Period(years=1, months=6)),
        ("P7Y", Period(years=7)),
        ("P30D", Period(days=30)),
        ("PT12H", Period(hours=12)),
        ("P1DT2H", Period(days=1, hours=2)),
        ("PT5M", Period(minutes=5)),
        ("PT30S", Period(seconds=30)),
        ("P1Y2M3W4DT5H6M7S", Period(1, 2, 3, 4, 5, 6, 7)),
        ("P0D", Period()),
        ("P12M", Period(months=12)),
        ("P99Y999M", Period(years=99, months=999)),
        ("P0010D", Period(days=10)),
    ],
)
def test_parse_accepts_iso_periods(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected


def test_parse_distinguishes_month_and_minute() -> None:
    assert Period.parse("P1M") == Period(months=1)
    assert Period.parse("PT1M") == Period(minutes=1)
    assert Period.parse("P1M") != Period.parse("PT1M")


def test_equal_spans_with_different_texts_are_different_values() -> None:
    assert Period.parse("P12M") != Period.parse("P1Y")
    start = datetime(2025, 3, 31, tzinfo=UTC)
    assert Period.parse("P12M").after(start) == Period.parse("P1Y").after(start)


MALFORMED = [
    "",
    "P",
    "PT",
    "3M",
    "P3X",
    "p3m",
    "P3m",
    "P-1M",
    "P1.5Y",
    "P1,5Y",
    "P1M1Y",
    "P1D1W",
    " P1M",
    "P1M ",
    "P1M\n",
    "P1MT",
    "P1DT",
    "PT1H1D",
    "P1H",
    "T1H",
    "PP1M",
    "P1Y1Y",
    "P+1M",
    "P1 M",
    "P1e3D",
    "1Y",
    "P100001Y",
    "P99999999999999999999D",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_parse_rejects_malformed_text_naming_it(text: str) -> None:
    with pytest.raises(PeriodFormatError) as excinfo:
        Period.parse(text)
    assert repr(text) in str(excinfo.value)
    assert excinfo.value.text == text


@pytest.mark.parametrize("digit", ["\u0663", "\uff11", "\u00b2", "\u09e7"])
@pytest.mark.parametrize("template", ["P{}Y", "P{}M", "P{}W", "P1{}D", "PT{}H", "PT{}M", "PT{}S"])
def test_parse_accepts_only_ascii_digits(template: str, digit: str) -> None:
    # Arabic-Indic, full-width, superscript and Bengali digits are no ISO 8601 numbers.
    text = template.format(digit)
    with pytest.raises(PeriodFormatError) as excinfo:
        Period.parse(text)
    assert excinfo.value.text == text


def test_period_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'P3X' is not an ISO 8601 period"):
        Period.parse("P3X")


@pytest.mark.parametrize("value", [None, 3, b"P3M", ["P3M"]])
def test_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(PeriodFormatError):
        Period.parse(value)  # type: ignore[arg-type]


@given(st.text(max_size=20) | st.text(alphabet="PTYMWDHS0123456789\u0663\uff11-.", max_size=12))
def test_parse_either_rejects_or_returns_a_round_tripping_period(text: str) -> None:
    try:
        period = Period.parse(text)
    except PeriodFormatError:
        return
    assert text.isascii()
    assert Period.parse(str(period)) == period


# -- construction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["years", "months", "weeks", "days", "hours", "minutes", "seconds"]
)
def test_negative_components_are_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Period(**{field: -1})


@pytest.mark.parametrize("field", ["years", "months", "weeks", "days", "hours", "minutes"])
def test_absurdly_large_components_are_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Period(**{field: 10**7})


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_non_int_components_are_rejected(value: object) -> None:
    with pytest.raises(TypeError, match=r"Period\.days must be an int"):
        Period(days=value)  # type: ignore[arg-type]


def test_periods_are_frozen_and_hashable() -> None:
    p = Period(months=3)
    assert {p, Period.parse("P3M")} == {p}
    with pytest.raises(AttributeError):
        p.months = 4  # type: ignore[misc]


# -- str -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (Period(), "P0D"),
        (Period(weeks=4), "P4W"),
        (Period(years=1, months=6), "P1Y6M"),
        (Period(days=1, hours=2), "P1DT2H"),
        (Period(hours=12), "PT12H"),
        (Period(minutes=1), "PT1M"),
        (Period(months=1), "P1M"),
        (Period(years=1, seconds=1), "P1YT1S"),
        (Period(1, 2, 3, 4, 5, 6, 7), "P1Y2M3W4DT5H6M7S"),
    ],
)
def test_str_is_canonical(period: Period, text: str) -> None:
    assert str(period) == text


@given(periods)
def test_str_round_trips_through_parse(period: Period) -> None:
    assert Period.parse(str(period)) == period


@given(periods)
def test_str_is_never_a_bare_designator(period: Period) -> None:
    text = str(period)
    assert text.startswith("P")
    assert text not in ("P", "PT")
    assert not text.endswith("T")


def test_is_zero() -> None:
    assert Period().is_zero()
    assert Period.parse("P0D").is_zero()
    assert Period.parse("P0Y0M").is_zero()
    assert not Period(seconds=1).is_zero()


# -- after ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (datetime(2025, 1, 31, tzinfo=UTC), "P1M", datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), "P1M", datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), "P1Y", datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), "P4Y", datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2025, 1, 31, tzinfo=UTC), "P3M", datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2025, 3, 31, tzinfo=UTC), "P1M", datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2025, 1, 1, tzinfo=UTC), "P4W", datetime(2025, 1, 29, tzinfo=UTC)),
        (datetime(2025, 1, 1, tzinfo=UTC), "P30D", datetime(2025, 1, 31, tzinfo=UTC)),
        (datetime(2025, 1, 1, tzinfo=UTC), "P7Y", datetime(2032, 1, 1, tzinfo=UTC)),
        (datetime(2025, 8, 31, tzinfo=UTC), "P1Y6M", datetime(2027, 2, 28, tzinfo=UTC)),
        (
            datetime(2025, 12, 31, 23, tzinfo=UTC),
            "P1DT2H",
            datetime(2026, 1, 2, 1, tzinfo=UTC),
        ),
        (datetime(2025, 6, 1, 9, 30, tzinfo=UTC), "PT0S", datetime(2025, 6, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_after_is_calendar_correct(start: datetime, period: str, expected: datetime) -> None:
    assert Period.parse(period).after(start) == expected


def test_after_keeps_wall_clock_time_across_dst() -> None:
    # 1 March is CET (+01:00), 1 June is CEST (+02:00): the local time stays 12:00.
    start = datetime(2025, 3, 1, 12, tzinfo=AMSTERDAM)
    result = Period.parse("P3M").after(start)
    assert result == datetime(2025, 6, 1, 12, tzinfo=AMSTERDAM)
    assert result.utcoffset() == timedelta(hours=2)
    assert result.tzinfo is AMSTERDAM


def test_after_keeps_the_timezone() -> None:
    start = datetime(2025, 1, 31, 8, tzinfo=AMSTERDAM)
    assert Period.parse("P1M").after(start).tzinfo is AMSTERDAM


@pytest.mark.parametrize("period", ["P1M", "P0D", "PT1H"])
def test_after_rejects_naive_instants(period: str) -> None:
    naive = datetime(2025, 1, 31, tzinfo=UTC).replace(tzinfo=None)
    with pytest.raises(ValueError, match="has no timezone"):
        Period.parse(period).after(naive)


@settings(deadline=None)
@given(addable_periods, instants)
def test_after_never_goes_back(period: Period, start: datetime) -> None:
    assert period.after(start) >= start
    if period.is_zero():
        assert period.after(start) == start


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=2000), instants)
def test_days_and_weeks_are_exact_spans(n: int, start: datetime) -> None:
    assert Period(days=n).after(start) - start == timedelta(days=n)
    assert Period(weeks=n).after(start) - start == timedelta(weeks=n)


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=120), instants)
def test_months_land_on_the_same_day_or_the_month_end(n: int, start: datetime) -> None:
    result = Period(months=n).after(start)
    months = (result.year - start.year) * 12 + result.month - start.month
    assert months == n
    assert result.time() == start.time()
    if result.day != start.day:
        # Clamped to the last day of a shorter month.
        assert result.day < start.day
        assert (result + timedelta(days=1)).day == 1


# -- at_least ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("longer", "shorter", "expected"),
    [
        ("P1Y", "P3M", True),
        ("P3M", "P1Y", False),
        ("P1M", "P4W", True),
        ("P4W", "P1M", False),
        ("P1M", "P30D", False),
        ("P30D", "P1M", False),
        ("P31D", "P1M", True),
        ("P1M", "P28D", True),
        ("P12M", "P1Y", True),
        ("P1Y", "P12M", True),
        ("P1Y", "P365D", True),
        ("P365D", "P1Y", False),
        ("P7Y", "P1Y", True),
        ("P1D", "PT24H", True),
        ("P60D", "P2M", False),
        ("P62D", "P2M", True),
        ("P91D", "P3M", False),
        ("P92D", "P3M", True),
        ("P3M", "P3M", True),
        ("P0D", "PT1S", False),
        ("PT1S", "P0D", True),
    ],
)
def test_at_least(longer: str, shorter: str, expected: bool) -> None:
    assert Period.parse(longer).at_least(Period.parse(shorter)) is expected


def test_at_least_holds_from_start_dates_around_2100() -> None:
    # "never shorter than other, from any start date": 2100 is not a leap year, so four
    # years from 1 March 2097 are 1460 days, one day shorter than P1461D.
    start = datetime(2097, 3, 1, tzinfo=UTC)
    assert Period(years=4).after(start) - start == timedelta(days=1460)
    assert not Period(years=4).at_least(Period(days=1461))


@given(addable_periods)
def test_at_least_is_reflexive(period: Period) -> None:
    assert period.at_least(period)


@given(addable_periods, addable_periods)
def test_adding_to_a_period_makes_it_at_least_as_long(a: Period, b: Period) -> None:
    total = Period(
        years=a.years + b.years,
        months=a.months + b.months,
        weeks=a.weeks + b.weeks,
        days=a.days + b.days,
        hours=a.hours + b.hours,
        minutes=a.minutes + b.minutes,
        seconds=a.seconds + b.seconds,
    )
    assert total.at_least(a)
