"""A small Tryton JSON-RPC client over ``httpx``: log in, call methods, clear errors.

Tryton's protocol: every call is a ``POST`` of ``{"id", "method", "params"}`` to
``<url>/<database>/rpc/`` (``<url>/<database>/`` on servers before 7.6). The session comes
from ``common.db.login`` and is sent as ``Authorization: Session base64(login:id:key)``.
Dates and instants travel as objects tagged ``__class__``; Tryton's instants are UTC.

Errors name the server and database, never the password:

* the server cannot be reached -> :class:`~praclox_privacy.ports.StoreUnavailable`;
* a wrong user name or password -> :class:`TrytonLoginFailed` ("login failed");
* Tryton refuses a call (a user error, an access error) -> :class:`TrytonError`.
"""

import base64
import contextlib
import datetime as dt
import os
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NoReturn

import httpx

from ...ports import StoreError, StoreUnavailable
from ..urls import public_url

__all__ = [
    "TrytonClient",
    "TrytonError",
    "TrytonLoginFailed",
    "decode",
    "password_from",
]


class TrytonError(StoreError):
    """Tryton refused a call; nothing of that call was applied (it ran in a transaction)."""


class TrytonLoginFailed(StoreError):
    """Tryton refused the user name or password (or the database does not exist)."""


def decode(value: dict[str, Any]) -> Any:
    """Turn one of Tryton's tagged JSON objects into its Python value (a json object hook).

    Instants become timezone-aware (UTC), as Tryton stores them.
    """
    kind = value.get("__class__")
    if kind == "datetime":
        return dt.datetime(
            value["year"],
            value["month"],
            value["day"],
            value["hour"],
            value["minute"],
            value["second"],
            value["microsecond"],
            tzinfo=dt.UTC,
        )
    if kind == "date":
        return dt.date(value["year"], value["month"], value["day"])
    if kind == "Decimal":
        return Decimal(value["decimal"])
    if kind == "bytes":
        return base64.decodebytes(value["base64"].encode("ascii"))
    if kind == "timedelta":
        return dt.timedelta(seconds=value["seconds"])
    return value


class TrytonClient:
    """One user's session on one Tryton database; logs in on first use.

    :param password: returns the password when the client logs in (it may read an
        environment variable and raise :class:`StoreUnavailable` when it is missing).
    :param label: how errors name the store, e.g. ``store 'crm'``.
    """

    def __init__(
        self,
        url: str,
        database: str,
        username: str,
        password: Callable[[], str],
        *,
        timeout: float = 10.0,
        label: str = "Tryton",
    ) -> None:
        """Prepare the client; nothing is sent yet."""
        self._base = url.rstrip("/") + "/" + urllib.parse.quote(database, safe="")
        self._url = public_url(url)
        self.database = database
        self.username = username
        self._password = password
        self._label = label
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._endpoint = self._base + "/rpc/"
        self._authorization: str | None = None
        self._context: dict[str, Any] | None = None
        self._ids = 0

    @property
    def where(self) -> str:
        """The server and database, for messages (no password)."""
        return f"the Tryton server {self._url} (database {self.database!r})"

    # -- transport -----------------------------------------------------------------------

    def _unreachable(self, error: httpx.HTTPError, doing: str) -> NoReturn:
        reason = type(error).__name__
        detail = str(error) or "no answer"
        secret = self._secret()
        if secret:
            detail = detail.replace(secret, "***")
        raise StoreUnavailable(
            f"{self._label}: {self.where} cannot be reached while {doing} "
            f"({reason}: {detail}); nothing was changed"
        ) from None

    def _secret(self) -> str:
        try:
            return self._password()
        except StoreError:
            return ""

    def _post(self, url: str, method: str, params: list[Any]) -> httpx.Response:
        self._ids += 1
        headers = {"Authorization": self._authorization} if self._authorization else {}
        body = {"id": self._ids, "method": method, "params": params}
        try:
            return self._http.post(url, json=body, headers=headers)
        except httpx.HTTPError as error:
            self._unreachable(error, f"calling {method}")

    def _result(self, response: httpx.Response, method: str) -> Any:
        try:
            data = response.json(object_hook=decode)
        except ValueError:
            raise TrytonError(
                f"{self._label}: {self.where} answered {method} with HTTP "
                f"{response.status_code} and no JSON-RPC answer"
            ) from None
        if not isinstance(data, dict):
            raise TrytonError(f"{self._label}: {self.where} gave an unreadable answer to {method}")
        if data.get("error") is not None:
            raise TrytonError(
                f"{self._label}: {self.where} refused {method}: {_message(data['error'])}; "
                "nothing of that call was applied"
            )
        return data.get("result")

    # -- session -------------------------------------------------------------------------

    def login(self) -> None:
        """Log in (again), replacing any session.

        :raises TrytonLoginFailed: for a wrong user name or password, or a missing database.
        :raises StoreUnavailable: when the server cannot be reached.
        """
        self._authorization = None
        password = self._password()
        params = [self.username, {"password": password}, "en"]
        response = self._post(self._endpoint, "common.db.login", params)
        if response.status_code in (404, 405) and self._endpoint.endswith("/rpc/"):
            legacy = self._base + "/"
            answer = self._post(legacy, "common.db.login", params)
            if answer.status_code not in (404, 405):
                self._endpoint, response = legacy, answer
        status = response.status_code
        if status in (401, 403):
            raise TrytonLoginFailed(
                f"{self._label}: login failed: {self.where} refused the user name or password "
                f"of user {self.username!r}; nothing was changed"
            )
        if status == 404:
            raise TrytonLoginFailed(
                f"{self._label}: login failed: {self.where} has no database "
                f"{self.database!r} (or is not a Tryton server); nothing was changed"
            )
        if status == 429:
            raise TrytonLoginFailed(
                f"{self._label}: login failed: {self.where} refuses logins of user "
                f"{self.username!r} for now (too many failed attempts); nothing was changed"
            )
        result = self._result(response, "common.db.login")
        if not (isinstance(result, list) and len(result) >= 2):
            raise TrytonLoginFailed(
                f"{self._label}: login failed: {self.where} gave no session; nothing was changed"
            )
        user_id, key = result[0], result[1]
        token = f"{self.username}:{user_id}:{key}".encode()
        self._authorization = "Session " + base64.b64encode(token).decode("ascii")
        preferences = self._call_once("model.res.user.get_preferences", [True, {}])
        self._context = dict(preferences) if isinstance(preferences, dict) else {}

    def _call_once(self, method: str, params: list[Any]) -> Any:
        response = self._post(self._endpoint, method, params)
        if response.status_code == 401:
            raise _SessionExpired
        if response.status_code == 403:
            raise TrytonError(
                f"{self._label}: {self.where} does not allow user {self.username!r} to call "
                f"{method}; nothing was changed"
            )
        return self._result(response, method)

    def call(self, method: str, *params: Any, context: dict[str, Any] | None = None) -> Any:
        """Call ``method`` with ``params`` and the user's context (plus ``context``).

        Logs in first when needed, and once more when the session expired.

        :raises TrytonError: when Tryton refuses the call.
        :raises TrytonLoginFailed: when the login is refused.
        :raises StoreUnavailable: when the server cannot be reached.
        """
        for attempt in range(2):
            if self._authorization is None:
                self.login()
            merged = {**(self._context or {}), **(context or {})}
            try:
                return self._call_once(method, [*params, merged])
            except _SessionExpired:
                self._authorization = None
                if attempt:
                    raise TrytonLoginFailed(
                        f"{self._label}: login failed: {self.where} keeps refusing the "
                        f"session of user {self.username!r}; nothing was changed"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Log out (when logged in) and close the connection; never raises."""
        if self._authorization is not None:
            with contextlib.suppress(StoreError):
                self._post(self._endpoint, "common.db.logout", [])
            self._authorization = None
        self._http.close()


class _SessionExpired(Exception):
    """The server answered 401 to a call: the session expired or was revoked."""


def _message(error: Any) -> str:
    """Return the readable part of a JSON-RPC error (Tryton: ``[type, [message, ...]]``)."""
    if isinstance(error, list | tuple):
        texts: list[str] = []
        for part in error:
            if isinstance(part, list | tuple):
                texts.extend(str(p) for p in part if isinstance(p, str) and p.strip())
            elif isinstance(part, str) and part.strip() and not part.startswith("Traceback"):
                texts.append(part)
        if texts:
            return " - ".join(dict.fromkeys(t.strip() for t in texts[:3]))
    return str(error)


def password_from(value: str, env: str, label: str) -> Callable[[], str]:
    """Return a getter of the password: ``env``'s value when named, else ``value``.

    The getter raises :class:`StoreUnavailable` naming the variable when it is unset.
    """

    def get() -> str:
        if env:
            found = os.environ.get(env)
            if found is None:
                raise StoreUnavailable(
                    f"{label}: environment variable {env} (the Tryton password) is not set"
                )
            return found
        return value

    return get
