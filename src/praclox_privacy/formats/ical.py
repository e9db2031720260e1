"""iCalendar encoding of items: the agenda export and the ``caldav`` store share it.

Needs the ``icalendar`` package (``praclox-privacy[agenda]`` or ``[caldav]``); import this
module only where it is used.

Every item becomes one ``VEVENT`` whose UID is derived from the item's key alone
(:func:`uid_of`), so writing an item again replaces its event instead of adding one. A
life event (:mod:`praclox_privacy.domain.agenda`) is an all-day event on its date that
recurs yearly; any other item is a single all-day event on its collection date. The item
itself travels in the ``X-PRACLOX-ITEM`` property (base64 of a JSON object), so it reads
back exactly, whatever characters its field and value hold.
"""

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import icalendar

from ..domain.agenda import LeapDay, LifeEvent, life_event_of
from ..domain.records import Item, ItemKey
from .jsonout import to_json

__all__ = [
    "PRODID",
    "UID_DOMAIN",
    "X_ITEM",
    "calendar_of",
    "event_of",
    "events_in",
    "item_of",
    "resource_name",
    "uid_of",
]

PRODID = "-//Praclox//praclox-privacy//EN"
UID_DOMAIN = "praclox-privacy"
"""The domain part of every UID this library writes."""
X_ITEM = "X-PRACLOX-ITEM"


def uid_of(key: ItemKey) -> str:
    """Return the stable UID of the event for item ``key``: a hash, revealing nothing."""
    text = "\x00".join((key.subject_id, key.category, key.field))
    return f"{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}@{UID_DOMAIN}"


def resource_name(key: ItemKey) -> str:
    """Return the CalDAV resource name (last path segment) of item ``key``'s event."""
    return uid_of(key).split("@", 1)[0] + ".ics"


def _encode_item(item: Item) -> str:
    raw = json.dumps(to_json(item), ensure_ascii=True).encode("ascii")
    return base64.b64encode(raw).decode("ascii")


def _decode_item(text: str) -> Item:
    data: Any = json.loads(base64.b64decode(text, validate=True))
    return Item(
        data["subject_id"],
        data["category"],
        data["field"],
        data["value"],
        datetime.fromisoformat(data["collected_at"]),
        data["purposes"],
    )


def _rrule(event: LifeEvent, leap_day: LeapDay) -> dict[str, Any]:
    when = event.date
    if (when.month, when.day) != (2, 29):
        return {"FREQ": "YEARLY", "BYMONTH": when.month, "BYMONTHDAY": when.day}
    if leap_day is LeapDay.FEB_28:
        return {"FREQ": "YEARLY", "BYMONTH": 2, "BYMONTHDAY": -1}
    return {"FREQ": "YEARLY", "BYYEARDAY": 60}


def event_of(
    item: Item,
    leap_day: LeapDay = LeapDay.FEB_28,
    who: str | None = None,
    with_item: bool = True,
) -> icalendar.Event:
    """Return the ``VEVENT`` for ``item``.

    :param who: the subject's name for the summary (default: the subject id).
    :param with_item: carry the item in ``X-PRACLOX-ITEM`` (a store needs it; an export
        for people need not).
    """
    event = icalendar.Event()
    event.add("uid", uid_of(item.key))
    event.add("dtstamp", item.collected_at.astimezone(UTC))
    life_event = life_event_of(item)
    if life_event is not None:
        event.add("dtstart", life_event.date)
        event.add("rrule", _rrule(life_event, leap_day))
        summary = life_event.describe(who=who)
        event.add("summary", summary[:1].upper() + summary[1:])
        event.add("categories", ["Congratulations"])
    else:
        day: date = item.collected_at.date()
        event.add("dtstart", day)
        event.add("summary", f"praclox-privacy record ({item.category})")
    event.add("transp", "TRANSPARENT")
    event.add("class", "PRIVATE")
    if with_item:
        event.add(X_ITEM, _encode_item(item))
    return event


def calendar_of(events: Iterable[icalendar.Event], name: str | None = None) -> icalendar.Calendar:
    """Return a ``VCALENDAR`` holding ``events``."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal


def events_in(text: str | bytes) -> Iterator[icalendar.Event]:
    """Yield the ``VEVENT`` components of an iCalendar document.

    :raises ValueError: when ``text`` is not iCalendar.
    """
    for cal in icalendar.Calendar.from_ical(text, multiple=True):
        for component in cal.walk("VEVENT"):
            if isinstance(component, icalendar.Event):
                yield component


def item_of(event: icalendar.Event) -> Item | None:
    """Return the item an event carries, or ``None`` when it carries none (not ours).

    :raises ValueError: when the ``X-PRACLOX-ITEM`` property is damaged.
    """
    raw = event.get(X_ITEM)
    if raw is None:
        return None
    try:
        return _decode_item(str(raw))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"event {event.get('uid')!s}: damaged {X_ITEM}: {error}") from None
