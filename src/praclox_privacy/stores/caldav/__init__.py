"""The ``caldav`` store plugin: the congratulations agenda in a CalDAV calendar (S8).

Install ``praclox-privacy[caldav]``. Workspace configuration::

    [stores.agenda]
    plugin = "caldav"
    url = "https://dav.example.org/"      # the CalDAV server (or the user's home URL)
    username = "praclox"
    password_env = "PRACLOX_CALDAV_PASSWORD"  # or password = "..." (not recommended)
    calendar = "Felicitaties"             # display name; created when missing
    leap_day = "feb28"                    # or "mar1": where a 29 February recurs

This module is light: the ``caldav`` client is imported by the store's factory only.
See :mod:`praclox_privacy.stores.caldav.store` for how items map to events.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ...domain.agenda import LeapDay
from ...domain.errors import InvalidValue
from ...hookspecs import hookimpl
from ...ports import StoreContext, StoreKind

if TYPE_CHECKING:
    from .store import CalDavStore

__all__ = ["CalDavSettings"]


def _non_blank(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, f"{value!r} must not be blank")


def _http_url(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidValue(attribute.name, f"{value!r} is not an http:// or https:// URL")


@attrs.frozen
class CalDavSettings:
    """Settings of a ``caldav`` store.

    :ivar url: the CalDAV server's URL (the user's principal is discovered from it).
    :ivar username: the user to log in as (empty: no authentication).
    :ivar password: the password; prefer ``password_env``, which keeps it out of files.
    :ivar password_env: the environment variable holding the password.
    :ivar calendar: the calendar's display name; the calendar is created when missing.
    :ivar leap_day: ``"feb28"`` or ``"mar1"``: where a 29 February date recurs in a
        common year.
    :ivar timeout: seconds to wait for the server.
    """

    url: str = attrs.field(validator=_http_url)
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    password_env: str = ""
    calendar: str = attrs.field(default="Praclox congratulations", validator=_non_blank)
    leap_day: LeapDay = attrs.field(default=LeapDay.FEB_28, converter=LeapDay)
    timeout: float = 10.0


def _factory(settings: CalDavSettings, context: StoreContext) -> "CalDavStore":
    from .store import CalDavStore  # imports the caldav client

    return CalDavStore(context.policy, settings, context.name)


@hookimpl
def register_stores(register: Callable[[StoreKind], None]) -> None:
    """Offer the ``caldav`` store kind."""
    register(
        StoreKind(
            name="caldav",
            factory=_factory,
            settings_type=CalDavSettings,
            description="A CalDAV calendar (the congratulations agenda): one event per "
            "item, life events recur yearly. Needs praclox-privacy[caldav].",
        )
    )
