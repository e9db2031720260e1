"""The CalDAV store: items as events in one calendar of a CalDAV server.

Mapping (see :mod:`praclox_privacy.formats.ical`): every item is one ``VEVENT`` in its own
resource ``<calendar>/<hash>.ics``, with a UID derived from the item's subject, category
and field only. Writing the same item again therefore replaces its event (a re-sync never
duplicates), and erasing an item is one ``DELETE`` of a known URL. Life events recur
yearly on their date; other items are single all-day events on their collection date.
The item itself is carried in ``X-PRACLOX-ITEM``, so reading back is exact.

Events in the calendar that this library did not write (no ``X-PRACLOX-ITEM``) are left
alone and never reported as items.

Limits, also stated by :meth:`CalDavStore.capabilities`: CalDAV has no transactions (a
write checks every item first, so a refusal writes nothing, but a server failing halfway
can leave part of a call written; writing again completes it), and retention queries are
evaluated by reading the whole calendar.
"""

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NoReturn
from xml.etree import ElementTree

import attrs
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from ...domain.agenda import LeapDay
from ...domain.policy import Policy, RetentionAction
from ...domain.records import Item, ItemKey
from ...formats.ical import calendar_of, event_of, events_in, item_of, resource_name
from ...ports import (
    ANONYMISED,
    Capabilities,
    Health,
    RelationTypesOf,
    ScanningStore,
    StoreError,
    StoreUnavailable,
    WriteRefused,
    check_storable,
)
from ..urls import public_url
from . import CalDavSettings

__all__ = ["CalDavStore"]

_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
    '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
    "</C:comp-filter></C:filter></C:calendar-query>"
)
_NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}


class CalDavStore(ScanningStore):
    """Items as events in one CalDAV calendar.

    The server is first contacted on first use (not when the store is built), so a
    workspace opens while the agenda server is down; every operation then raises
    :class:`~praclox_privacy.ports.StoreUnavailable` naming the server, and nothing is
    changed.

    Listings and due queries are :class:`~praclox_privacy.ports.ScanningStore`'s scans of
    :meth:`all_items`: CalDAV cannot select on the item an event carries, so the calendar
    is read whole (one ``REPORT``).
    """

    def __init__(self, policy: Policy, settings: CalDavSettings, name: str = "caldav") -> None:
        """Prepare the store; nothing is sent to the server yet."""
        self.name = name
        self._policy = policy
        self._settings = settings
        self._url = public_url(settings.url)
        self._client: Any = None
        self._calendar_url: str | None = None

    @property
    def leap_day(self) -> LeapDay:
        """Where this store's 29 February events recur in a common year."""
        return self._settings.leap_day

    # -- connection ----------------------------------------------------------------------

    def _password(self) -> str | None:
        settings = self._settings
        if settings.password_env:
            value = os.environ.get(settings.password_env)
            if value is None:
                raise StoreUnavailable(
                    f"store {self.name!r}: environment variable {settings.password_env} "
                    "(the CalDAV password) is not set"
                )
            return value
        return settings.password or None

    def _fail(self, error: BaseException, doing: str) -> NoReturn:
        if isinstance(error, dav_error.AuthorizationError):
            raise StoreUnavailable(
                f"store {self.name!r}: the CalDAV server {self._url} refused the credentials "
                f"of user {self._settings.username!r} while {doing}; nothing was changed"
            ) from None
        reason = type(error).__name__
        detail = str(error).split(" (Caused by", 1)[0]
        password = self._settings.password
        if password:
            detail = detail.replace(password, "***")
        raise StoreUnavailable(
            f"store {self.name!r}: the CalDAV server {self._url} cannot be reached while "
            f"{doing} ({reason}: {detail}); nothing was changed"
        ) from None

    def _calendar(self) -> str:
        """Return the calendar's URL (ending in ``/``), connecting and creating it once."""
        if self._calendar_url is not None:
            return self._calendar_url
        settings = self._settings
        try:
            client: Any = DAVClient(
                url=settings.url,
                username=settings.username or None,
                password=self._password(),
                timeout=int(settings.timeout) or 1,
            )
            principal = client.principal()
            found = None
            for calendar in principal.calendars():
                if calendar.get_display_name() == settings.calendar:
                    found = calendar
                    break
            if found is None:
                found = principal.make_calendar(name=settings.calendar)
        except StoreError:
            raise
        except (OSError, dav_error.DAVError) as error:
            self._fail(error, f"opening calendar {settings.calendar!r}")
        url = str(found.url)
        self._client = client
        self._calendar_url = url if url.endswith("/") else url + "/"
        return self._calendar_url

    def _request(
        self, url: str, method: str, body: str = "", headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        """Send one request; return its status and body."""
        try:
            response = self._client.request(url, method, body, dict(headers or {}))
        except (OSError, dav_error.DAVError) as error:
            self._fail(error, f"sending {method} {public_url(url)}")
        return int(response.status), str(response.raw or "")

    def _check(self, status: int, method: str, url: str, ok: Iterable[int]) -> None:
        if status not in set(ok):
            raise StoreError(
                f"store {self.name!r}: the CalDAV server answered {status} to {method} "
                f"{public_url(url)}"
            )

    def _url_of(self, key: ItemKey) -> str:
        return self._calendar() + resource_name(key)

    # -- reading -------------------------------------------------------------------------

    def all_items(self) -> list[Item]:
        """Return every item in the calendar, in one request (REPORT)."""
        url = self._calendar()
        status, body = self._request(
            url, "REPORT", _REPORT, {"Depth": "1", "Content-Type": "application/xml"}
        )
        self._check(status, "REPORT", url, (207,))
        items: list[Item] = []
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as error:
            raise StoreError(f"store {self.name!r}: unreadable REPORT answer: {error}") from None
        for data in root.iterfind(".//C:calendar-data", _NS):
            items.extend(self._items_in(data.text or ""))
        return items

    def _items_in(self, text: str) -> Iterator[Item]:
        try:
            for event in events_in(text):
                item = item_of(event)
                if item is not None:
                    yield item
        except ValueError as error:
            raise StoreError(f"store {self.name!r}: {error}") from None

    def _get(self, key: ItemKey) -> Item | None:
        """Return the item ``key`` (one GET), or ``None`` when its event is missing."""
        url = self._url_of(key)
        status, body = self._request(url, "GET")
        if status == 404:
            return None
        self._check(status, "GET", url, (200,))
        for item in self._items_in(body):
            if item.key == key:
                return item
        return None

    def _put(self, item: Item) -> None:
        url = self._url_of(item.key)
        body = calendar_of([event_of(item, self.leap_day)]).to_ical().decode("utf-8")
        status, _ = self._request(url, "PUT", body, _ICS)
        self._check(status, "PUT", url, (200, 201, 204))

    # -- the Store protocol --------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Return what this store supports: everything, but not transactionally."""
        return Capabilities(
            transactional=False,
            notes=(
                "CalDAV has no transactions: a refused write stores nothing, but a server "
                "failing halfway through a write can leave part of it written (writing "
                "again completes it; the same item never makes a second event).",
                "Retention queries and listings read the whole calendar; fine for an "
                "agenda of thousands of events.",
                "Events not written by praclox-privacy are left alone and not reported.",
            ),
        )

    def health(self) -> Health:
        """Return whether the calendar can be read now; never raises."""
        try:
            count = len(self.all_items())
        except StoreError as error:
            return Health(False, str(error))
        except Exception as error:  # health never raises
            return Health(False, f"store {self.name!r}: {type(error).__name__}: {error}")
        return Health(True, f"{self._url} calendar {self._settings.calendar!r}: {count} items")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items``; every item is checked before the first is sent.

        :raises WriteRefused: naming the first refused item; nothing was written.
        :raises StoreUnavailable: when the server cannot be reached.
        """
        staged: dict[ItemKey, Item] = {}
        types: dict[str, frozenset[str]] = {}
        count = 0
        for index, item in enumerate(items):
            if item.subject_id not in types:
                types[item.subject_id] = relation_types(item.subject_id)
            reason = check_storable(item, types[item.subject_id], self._policy)
            if reason is not None:
                raise WriteRefused(index, item.key, reason)
            staged[item.key] = item
            count += 1
        for item in staged.values():
            self._put(item)
        return count

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field."""
        found = [i for i in self.all_items() if i.subject_id == subject_id]
        return sorted(found, key=lambda i: (i.category, i.field))

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Delete (or anonymise) the events of ``keys``; missing ones are skipped.

        :returns: how many of the keys had an event.
        """
        count = 0
        for key in dict.fromkeys(keys):
            if action is RetentionAction.ERASE:
                url = self._url_of(key)
                status, _ = self._request(url, "DELETE")
                if status == 404:
                    continue
                self._check(status, "DELETE", url, (200, 204))
            else:
                item = self._get(key)
                if item is None:
                    continue
                if item.value != ANONYMISED:
                    self._put(attrs.evolve(item, value=ANONYMISED))
            count += 1
        return count

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key``; ``collected_at`` stays (retention runs on).

        :raises KeyError: when no such item exists.
        """
        item = self._get(key)
        if item is None:
            raise KeyError(f"no item {key} in store {self.name!r}")
        rectified = attrs.evolve(item, value=value)
        self._put(rectified)
        return rectified

    def close(self) -> None:
        """Drop the connection."""
        client, self._client = self._client, None
        self._calendar_url = None
        if client is not None:
            close = getattr(client, "close", None)
            if callable(close):
                close()
