"""Calendar periods written as ISO 8601 durations (``P4W``, ``P3M``, ``P1Y6M``, ``P7Y``).

Retention is measured in calendar units: adding ``P1M`` to 31 January gives the last day
of February, adding ``P1Y`` to 29 February gives 28 February. That arithmetic is
``dateutil.relativedelta``'s; this module only parses, prints and compares periods.
"""

import re
from calendar import monthrange
from datetime import UTC, datetime

import attrs
from dateutil.relativedelta import relativedelta

__all__ = ["Period", "PeriodFormatError", "start_cutoff"]

_PERIOD_RE = re.compile(
    r"""
    P
    (?:(?P<years>[0-9]+)Y)?
    (?:(?P<months>[0-9]+)M)?
    (?:(?P<weeks>[0-9]+)W)?
    (?:(?P<days>[0-9]+)D)?
    (?:T
        (?:(?P<hours>[0-9]+)H)?
        (?:(?P<minutes>[0-9]+)M)?
        (?:(?P<seconds>[0-9]+)S)?
    )?
    """,
    re.VERBOSE,
)

_MAX_UNIT = 1_000_000
_MAX_END = datetime(3000, 1, 1, tzinfo=UTC)
_TOO_LONG = "longer than 1000 years; no retention period is that long"


class PeriodFormatError(ValueError):
    """A text is not an ISO 8601 period this library accepts."""

    def __init__(self, text: str, why: str = "") -> None:
        self.text = text
        super().__init__(
            f"{text!r} is {why}"
            if why
            else f"{text!r} is not an ISO 8601 period (expected e.g. 'P4W', 'P3M', 'P1Y6M', 'P30D')"
        )


def _non_negative(instance: object, attribute: "attrs.Attribute[int]", value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Period.{attribute.name} must be an int, not {type(value).__name__}")
    if value < 0 or value > _MAX_UNIT:
        raise ValueError(f"Period.{attribute.name} must be between 0 and {_MAX_UNIT}, not {value}")


@attrs.frozen(order=False)
class Period:
    """A calendar period: years, months, weeks, days and an optional time part.

    Equality is by component (``P12M`` and ``P1Y`` are different texts and different
    values, because they print differently), but both add the same span to an instant.
    """

    years: int = attrs.field(default=0, validator=_non_negative)
    months: int = attrs.field(default=0, validator=_non_negative)
    weeks: int = attrs.field(default=0, validator=_non_negative)
    days: int = attrs.field(default=0, validator=_non_negative)
    hours: int = attrs.field(default=0, validator=_non_negative)
    minutes: int = attrs.field(default=0, validator=_non_negative)
    seconds: int = attrs.field(default=0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        try:
            end = self.after(datetime(2000, 1, 1, tzinfo=UTC))
        except (OverflowError, ValueError):
            end = None
        if end is None or end > _MAX_END:
            raise ValueError(f"period {self} is {_TOO_LONG}")

    @classmethod
    def parse(cls, text: str) -> "Period":
        """Parse an ISO 8601 duration such as ``P3M`` or ``P1Y6M``.

        :param text: the duration; designators are upper case, numbers are whole.
        :returns: the period.
        :raises PeriodFormatError: when ``text`` is not such a duration.
        """
        if not isinstance(text, str):
            raise PeriodFormatError(repr(text))
        match = _PERIOD_RE.fullmatch(text)
        if match is None or text in ("P", "PT") or text.endswith("T"):
            raise PeriodFormatError(text)
        parts = {name: int(value) for name, value in match.groupdict().items() if value}
        if any(v > _MAX_UNIT for v in parts.values()):
            raise PeriodFormatError(text, _TOO_LONG)
        try:
            return cls(**parts)
        except ValueError:
            raise PeriodFormatError(text, _TOO_LONG) from None

    def __str__(self) -> str:
        """Return the canonical ISO 8601 text; ``Period.parse(str(p)) == p``."""
        date = "".join(
            f"{value}{unit}"
            for value, unit in (
                (self.years, "Y"),
                (self.months, "M"),
                (self.weeks, "W"),
                (self.days, "D"),
            )
            if value
        )
        time = "".join(
            f"{value}{unit}"
            for value, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S"))
            if value
        )
        if not date and not time:
            return "P0D"
        return "P" + date + (f"T{time}" if time else "")

    def as_relativedelta(self) -> relativedelta:
        """Return the period as a :class:`dateutil.relativedelta.relativedelta`."""
        return relativedelta(
            years=self.years,
            months=self.months,
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
        )

    def after(self, instant: datetime) -> datetime:
        """Return ``instant`` plus this period, calendar-correct (31 Jan + P1M = 28/29 Feb).

        :param instant: a timezone-aware instant.
        :raises ValueError: when ``instant`` is naive.
        """
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"instant {instant.isoformat()} has no timezone")
        result: datetime = instant + self.as_relativedelta()
        return result

    def is_zero(self) -> bool:
        """Return whether the period adds nothing."""
        return str(self) == "P0D"

    def at_least(self, other: "Period") -> bool:
        """Return whether this period is never shorter than ``other``, from any start date.

        Calendar periods are only partly ordered (``P1M`` is 28 to 31 days), so the check
        is made from the month ends and starts of common years, a leap year and a century
        year that is not a leap year.
        """
        starts = [
            datetime(y, m, d, tzinfo=UTC)
            for y in (2023, 2024, 2097, 2100)
            for m in range(1, 13)
            for d in (1, 28, 29, 30, 31)
            if _valid(y, m, d)
        ]
        return all(self.after(s) >= other.after(s) for s in starts)


def _valid(year: int, month: int, day: int) -> bool:
    return day <= monthrange(year, month)[1]


def start_cutoff(period: Period, now: datetime) -> datetime:
    """Return the instant ``X`` (UTC) such that ``t + period <= now`` exactly when ``t < X``.

    Adding a calendar period to UTC instants never goes backwards, so the starts that are
    "old enough" form a range up to ``X``, found here by bisection to the microsecond. It
    lets a store select due items with one ``collected_at < X`` condition.

    :param now: a timezone-aware instant.
    """
    from datetime import timedelta

    now = now.astimezone(UTC)
    guess = (now - period.as_relativedelta()).astimezone(UTC)
    lo, hi = guess - timedelta(days=8), guess + timedelta(days=8)
    while period.after(lo) > now:  # pragma: no cover - the window is always wide enough
        lo -= timedelta(days=8)
    while period.after(hi) <= now:  # pragma: no cover
        hi += timedelta(days=8)
    # Invariant: lo + period <= now < hi + period.
    step = timedelta(microseconds=1)
    while hi - lo > step:
        mid = lo + (hi - lo) // 2
        if period.after(mid) <= now:
            lo = mid
        else:
            hi = mid
    return hi
