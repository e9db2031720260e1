"""The congratulations agenda of a workspace (S8): listing, iCalendar export, CalDAV sync.

Life events are read from every store of the workspace except the ``caldav`` ones (those
are the agenda itself, a copy): items of category ``life_events`` whose field is
``birthday``, ``child_birthday:<child's name>`` or ``wedding_date`` and whose value is
an ISO date (see :mod:`praclox_privacy.domain.agenda`).

Only subjects whose data may be used for the ``congratulations`` purpose take part: the
subject holds a relation type the purpose covers, and no restriction (GDPR Art. 18) or
objection (Art. 21) forbids the use (checked with
:func:`praclox_privacy.services.rights.ensure_usable`, which audits each refusal).

:func:`sync` writes those life events to the workspace's ``caldav`` stores and removes
the agenda's life events whose source is gone or may no longer be used, so the agenda
mirrors the allowed life events. Erasure requests and the retention sweep reach the
``caldav`` stores like any other store.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from ..domain.agenda import (
    LIFE_EVENTS,
    Congratulation,
    LeapDay,
    LifeEvent,
    life_event_of,
    upcoming,
)
from ..domain.records import Item, ItemKey
from ..domain.restrictions import ProcessingRestricted
from ..formats.jsonout import Shape, register_shape, sorted_mapping
from ..ports import ANONYMISED, DueQuery, ReadsAll, Store, StoreError
from .rights import ensure_usable

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "CALDAV_PLUGIN",
    "PURPOSE",
    "Agenda",
    "AgendaEntry",
    "LifeEvents",
    "SyncResult",
    "agenda_stores",
    "export_ics",
    "life_events",
    "sync",
    "upcoming_agenda",
]

PURPOSE = "congratulations"
"""The purpose life events are used for."""

CALDAV_PLUGIN = "caldav"
NAME_CATEGORY = "person_name"
NAME_FIELD = "name"


@attrs.frozen
class AgendaEntry:
    """One congratulation of the agenda, with the subject's name when known."""

    congratulation: Congratulation
    name: str | None = None

    def describe(self) -> str:
        """Return a one-line English description."""
        return self.congratulation.describe(self.name)


@attrs.frozen
class LifeEvents:
    """The life events a workspace may use for congratulations, and who was left out.

    :ivar items: the life-event items, one per key (the newest when stores disagree).
    :ivar names: subject id -> name, where a ``person_name`` item holds one.
    :ivar excluded: subject id -> why its life events are not used.
    :ivar failures: store name -> why it could not be read.
    """

    items: tuple[Item, ...]
    names: dict[str, str]
    excluded: dict[str, str]
    failures: dict[str, str]

    def events(self) -> Iterator[LifeEvent]:
        """Yield the life event of each item."""
        for item in self.items:
            event = life_event_of(item)
            if event is not None:
                yield event


@attrs.frozen
class Agenda:
    """The congratulations from ``start`` through ``start + days``."""

    start: date
    days: int
    leap_day: LeapDay
    entries: tuple[AgendaEntry, ...]
    excluded: dict[str, str]
    failures: dict[str, str]


@attrs.frozen
class SyncResult:
    """What :func:`sync` did in one ``caldav`` store.

    :ivar written: items written (new or changed); unchanged ones are not sent again.
    :ivar removed: agenda events removed (source gone or use no longer allowed).
    :ivar unchanged: items already in the agenda as they are.
    """

    store: str
    written: int
    removed: int
    unchanged: int
    error: str | None = None


register_shape(
    AgendaEntry,
    Shape(
        (
            "date",
            "subject_id",
            "name",
            "kind",
            "child",
            "years",
            "event_date",
            "field",
            "description",
        ),
        {
            "date": "congratulation.on",
            "subject_id": "congratulation.event.subject_id",
            "kind": "congratulation.event.kind",
            "child": "congratulation.event.child",
            "years": "congratulation.years",
            "event_date": "congratulation.event.date",
            "field": "congratulation.event.key.field",
            "description": AgendaEntry.describe,
        },
    ),
)
register_shape(
    Agenda,
    Shape(
        ("from", "days", "leap_day", "entries", "excluded", "failed_stores"),
        {"from": "start", "failed_stores": "failures"},
        {"excluded": sorted_mapping, "failed_stores": sorted_mapping},
    ),
)


def agenda_stores(ws: "Workspace") -> list[str]:
    """Return the names of the workspace's ``caldav`` stores (its agendas)."""
    return [
        name
        for name in ws.store_names
        if isinstance(ws.config.stores.get(name), dict)
        and ws.config.stores[name].get("plugin") == CALDAV_PLUGIN
    ]


def _refusal(ws: "Workspace", subject_id: str, now: datetime, actor: str) -> str | None:
    """Return why ``subject_id``'s life events may not be used to congratulate, or ``None``."""
    purpose = ws.policy.purpose(PURPOSE)
    types = ws.ledger.relation_types_of(subject_id)
    if not types:
        return "not a registered subject"
    if not types & set(purpose.relation_types):
        return f"relation type {', '.join(sorted(types))} is not covered by purpose {PURPOSE!r}"
    try:
        ensure_usable(ws, subject_id, PURPOSE, LIFE_EVENTS, now=now, actor=actor)
    except ProcessingRestricted as refused:
        return str(refused)
    return None


def _subjects_with_life_events(store: Store) -> list[str]:
    if store.capabilities().find_due:
        return sorted({k.subject_id for k in store.find_due(DueQuery({LIFE_EVENTS}))})
    return list(store.subject_ids())


def life_events(ws: "Workspace", now: datetime | None = None, actor: str = "agenda") -> LifeEvents:
    """Return the life events of every subject that may be congratulated.

    Stores that cannot be read are reported in ``LifeEvents.failures``; the others
    still count.

    :raises KeyError: when the policy declares no ``congratulations`` purpose.
    """
    now = now or ws.clock()
    ws.policy.purpose(PURPOSE)  # fail early when the policy lacks it
    sources = [n for n in ws.store_names if n not in set(agenda_stores(ws))]
    found: dict[ItemKey, Item] = {}
    names: dict[str, str] = {}
    failures: dict[str, str] = {}
    for name in sources:
        try:
            store = ws.store(name)
            for subject_id in _subjects_with_life_events(store):
                for item in store.items_of(subject_id):
                    if item.category == NAME_CATEGORY and item.field == NAME_FIELD:
                        if item.value != ANONYMISED:
                            names.setdefault(subject_id, item.value)
                    elif life_event_of(item) is not None:
                        known = found.get(item.key)
                        if known is None or item.collected_at > known.collected_at:
                            found[item.key] = item
        except StoreError as error:
            failures[name] = str(error)
    excluded: dict[str, str] = {}
    allowed: list[Item] = []
    for subject_id in sorted({k.subject_id for k in found}):
        reason = _refusal(ws, subject_id, now, actor)
        if reason is not None:
            excluded[subject_id] = reason
            continue
        allowed.extend(
            i for k, i in sorted(found.items(), key=_order) if k.subject_id == subject_id
        )
    return LifeEvents(tuple(allowed), names, excluded, failures)


def _order(entry: tuple[ItemKey, Item]) -> tuple[str, str, str]:
    key = entry[0]
    return (key.subject_id, key.category, key.field)


def upcoming_agenda(
    ws: "Workspace",
    now: datetime | None = None,
    days: int = 14,
    leap_day: LeapDay = LeapDay.FEB_28,
    actor: str = "agenda",
) -> Agenda:
    """Return the congratulations from today (in the workspace's time zone) for ``days``."""
    now = now or ws.clock()
    today = now.astimezone(ws.timezone).date()
    events = life_events(ws, now, actor)
    entries = tuple(
        AgendaEntry(c, events.names.get(c.event.subject_id))
        for c in upcoming(events.events(), today, days, leap_day)
    )
    return Agenda(today, days, leap_day, entries, events.excluded, events.failures)


def export_ics(events: LifeEvents, leap_day: LeapDay = LeapDay.FEB_28) -> bytes:
    """Return an iCalendar document with one yearly all-day event per life event.

    The events carry the same UIDs as the ``caldav`` store's, so importing the file into
    a calendar that was synced replaces rather than duplicates.

    :raises ModuleNotFoundError: without the ``icalendar`` package
        (``praclox-privacy[agenda]``).
    """
    from ..formats.ical import calendar_of, event_of

    vevents = [
        event_of(item, leap_day, events.names.get(item.subject_id), with_item=False)
        for item in events.items
    ]
    return bytes(calendar_of(vevents, "Praclox congratulations").to_ical())


def sync(
    ws: "Workspace",
    stores: Iterable[str] | None = None,
    now: datetime | None = None,
    actor: str = "agenda",
) -> tuple[LifeEvents, list[SyncResult]]:
    """Make each ``caldav`` store's life events mirror the ones that may be used.

    Items that are new or changed are written (audited); life events in the agenda whose
    source item is gone, or whose subject may no longer be congratulated, are erased
    (audited, and the ``items_erased`` hook runs). Running it again changes nothing. A
    store that fails is reported in its :class:`SyncResult`; the others still sync.

    :param stores: the ``caldav`` stores to sync (default: all of them).
    :raises OperationRefused: when a named store is not a ``caldav`` store.
    """
    from ..domain.errors import OperationRefused

    available = agenda_stores(ws)
    targets = available if stores is None else list(stores)
    for name in targets:
        if name not in available:
            raise OperationRefused(
                f"store {name!r} is not a caldav store (caldav stores: "
                f"{', '.join(available) or 'none'})"
            )
    events = life_events(ws, now, actor)
    wanted = {i.key: i for i in events.items}
    results: list[SyncResult] = []
    for name in targets:
        try:
            results.append(_sync_one(ws, name, wanted, actor, remove=not events.failures))
        except StoreError as error:
            results.append(SyncResult(name, 0, 0, 0, str(error)))
    return events, results


def _sync_one(
    ws: "Workspace", name: str, wanted: dict[ItemKey, Item], actor: str, remove: bool
) -> SyncResult:
    store = ws.store(name)
    if isinstance(store, ReadsAll):  # a calendar: every event in one request
        current = {i.key: i for i in store.all_items() if i.category == LIFE_EVENTS}
    else:  # another kind registered under the caldav name: read it the long way
        current = {
            i.key: i
            for s in store.subject_ids()
            for i in store.items_of(s)
            if i.category == LIFE_EVENTS
        }
    changed = [i for k, i in wanted.items() if current.get(k) != i]
    stale = sorted((k for k in current if k not in wanted), key=str) if remove else []
    if changed:
        ws.write(changed, store=name, actor=actor)
    removed = 0
    if stale:
        removed = ws.erase(
            stale,
            store=name,
            actor=actor,
            reason="agenda sync: the life event is gone or may no longer be used",
        )
    return SyncResult(name, len(changed), removed, len(wanted) - len(changed))
