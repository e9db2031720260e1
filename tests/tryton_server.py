"""A real Tryton server for the tests: a fresh SQLite database with the party module,
trytond on a free loopback port, stopped after.

Used by tests/integration/test_tryton_store.py and tests/e2e/test_cli_crm.py through
the ``tryton`` fixture of tests/conftest.py: the server starts once per test session,
when a test first needs it, and stops at the end of the session. Tests keep apart by
using party categories of their own (:meth:`Tryton.categories`). When trytond is not
installed or does not start, the test is skipped (or fails with PRACLOX_REQUIRE_SERVERS=1).

:class:`Rpc` is a minimal JSON-RPC caller of its own, so the tests set up and check
Tryton's records independently of the client under test.
"""

import base64
import contextlib
import importlib.util
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from conftest import missing
from helpers import free_port, stop_process

DATABASE = "praclox"
ADMIN = "admin"


def _script(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


class Rpc:
    """One logged-in JSON-RPC session, for setting up and checking records."""

    def __init__(self, url: str, database: str, login: str, password: str) -> None:
        import httpx

        self.endpoint = f"{url}{database}/rpc/"
        self._http = httpx.Client(timeout=30)
        self._auth: dict[str, str] = {}
        user_id, key, *_ = self._post("common.db.login", [login, {"password": password}, "en"])
        token = base64.b64encode(f"{login}:{user_id}:{key}".encode()).decode()
        self._auth = {"Authorization": f"Session {token}"}

    def _post(self, method: str, params: list[Any]) -> Any:
        response = self._http.post(
            self.endpoint, json={"id": 1, "method": method, "params": params}, headers=self._auth
        )
        response.raise_for_status()
        data = response.json()
        if data.get("error"):
            raise RuntimeError(f"{method}: {data['error']}")
        return data["result"]

    def __call__(self, method: str, *params: Any, context: dict[str, Any] | None = None) -> Any:
        return self._post(method, [*params, {"active_test": False, **(context or {})}])

    def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        return list(self(f"model.{model}.read", ids, fields))

    def search_read(self, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
        rows = self(f"model.{model}.search_read", domain, 0, None, [["id", "ASC"]], fields)
        return list(rows)

    def close(self) -> None:
        self._http.close()


_names = itertools.count(1)


@attrs.frozen
class Tryton:
    """A running trytond: its URL, database, users, folder and process."""

    url: str
    database: str
    password: str
    root: Path
    process: "subprocess.Popen[bytes]"
    rpc: Rpc

    def user(self) -> tuple[str, str]:
        """Create a user of its own (Tryton slows the logins of a user after failed ones).

        :returns: its login and password.
        """
        login, password = f"clerk-{next(_names)}", "pw-" + secrets.token_hex(8)
        self.rpc("model.res.user.create", [{"name": login, "login": login, "password": password}])
        return login, password

    def categories(self) -> dict[str, str]:
        """Create fresh party categories for client, prospect and contact_person.

        :returns: the ``relation_types`` mapping of a store that sees only these.
        """
        n = next(_names)
        names = {rt: f"{rt}-{n}" for rt in ("client", "prospect", "contact_person")}
        self.rpc("model.party.category.create", [{"name": v} for v in names.values()])
        return names

    def party(
        self,
        name: str | None,
        category: str,
        *,
        emails: tuple[str, ...] = (),
        phones: tuple[str, ...] = (),
        website: str | None = None,
        address: dict[str, Any] | None = None,
        active: bool = True,
    ) -> int:
        """Create a party in the category named ``category``; return its id."""
        (category_id,) = self.rpc("model.party.category.search", [("name", "=", category)])
        contacts = [{"type": "email", "value": e} for e in emails]
        contacts += [{"type": "phone", "value": p} for p in phones]
        if website:
            contacts.append({"type": "website", "value": website})
        values: dict[str, Any] = {
            "name": name,
            "categories": [["add", [category_id]]],
            "contact_mechanisms": [["create", contacts]],
            "addresses": [["create", [address] if address else []]],
        }
        (party_id,) = self.rpc("model.party.party.create", [values])
        if not active:  # Tryton creates parties active; an inactive one is read-only
            self.rpc("model.party.party.write", [party_id], {"active": False})
        return int(party_id)

    def table(self, name: str, relation_types: dict[str, str], **extra: object) -> dict[str, Any]:
        """A ``[stores.<name>]`` table for a tryton store on this server (admin user)."""
        return {
            "plugin": "tryton",
            "url": self.url,
            "database": self.database,
            "username": ADMIN,
            "password": self.password,
            "relation_types": relation_types,
            **extra,
        }


@contextlib.contextmanager
def tryton_server(root: Path) -> Iterator[Tryton]:
    """Initialise a SQLite database with the party module and run trytond on it."""
    admin_script, server_script = _script("trytond-admin"), _script("trytond")
    if importlib.util.find_spec("trytond") is None or not (admin_script and server_script):
        missing("trytond is not installed (it is in the test dependency group)")
    if importlib.util.find_spec("httpx") is None:
        missing("httpx is not installed (praclox-privacy[tryton])")
    assert admin_script is not None
    assert server_script is not None
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "trytond.conf"
    config.write_text(
        f"[database]\nuri = sqlite://\npath = {root}\n[web]\nlisten = 127.0.0.1:{port}\n",
        encoding="utf-8",
    )
    password = "admin-" + secrets.token_hex(8)
    (root / "admin-password").write_text(password + "\n", encoding="utf-8")
    (root / f"{DATABASE}.sqlite").touch()
    env = {"TRYTONPASSFILE": str(root / "admin-password")}
    admin = subprocess.run(
        [
            sys.executable,
            admin_script,
            "-c",
            str(config),
            "-d",
            DATABASE,
            "--all",
            "--email",
            "admin@example.org",
            "-u",
            "party",
            "--activate-dependencies",
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if admin.returncode != 0:
        missing(f"trytond-admin failed: {(admin.stdout + admin.stderr)[-2000:]}")
    log = (root / "trytond.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, server_script, "-c", str(config), "-d", DATABASE],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rpc: Rpc | None = None
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while rpc is None:
            try:
                rpc = Rpc(url, DATABASE, ADMIN, password)
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    output = (root / "trytond.log").read_text(errors="replace")[-2000:]
                    missing(f"trytond did not start on port {port}: {output}")
                time.sleep(0.1)
        yield Tryton(url, DATABASE, password, root, process, rpc)
    finally:
        if rpc is not None:
            rpc.close()
        stop_process(process)
        log.close()
