"""A real Radicale CalDAV server for the tests: started on a free loopback port, stopped after.

Used by tests/integration/test_caldav_store.py and tests/e2e/test_cli_agenda.py through
the ``radicale`` fixture of tests/conftest.py, one server per test module. When Radicale
is not installed or does not start, the test is skipped (or fails with
PRACLOX_REQUIRE_SERVERS=1), like the database servers in conftest.py.
"""

import contextlib
import importlib.util
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from conftest import missing
from helpers import free_port, stop_process

USER = "praclox"


@attrs.frozen
class Radicale:
    """A running Radicale: its URL, a user and password, and its process."""

    url: str
    username: str
    password: str
    root: Path
    process: "subprocess.Popen[bytes]"

    def settings(self, calendar: str, **extra: object) -> dict[str, object]:
        """A ``[stores.<name>]`` table for a caldav store in this server."""
        return {
            "plugin": "caldav",
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "calendar": calendar,
            **extra,
        }


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.contextmanager
def radicale_server(root: Path) -> Iterator[Radicale]:
    """Run Radicale with htpasswd (plain) auth and ``delay = 0`` in folder ``root``."""
    if importlib.util.find_spec("radicale") is None:
        missing("Radicale is not installed (it is in the test dependency group)")
    root.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(8)
    (root / "users").write_text(f"{USER}:{password}\n", encoding="utf-8")
    port = free_port()
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {root / 'users'}\n"
        "htpasswd_encryption = plain\n"
        "delay = 0\n"
        "[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n"
        "[logging]\n"
        "level = warning\n",
        encoding="utf-8",
    )
    log = (root / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (root / "radicale.log").read_text(errors="replace")[-2000:]
                missing(f"Radicale did not start on port {port}: {output}")
            time.sleep(0.05)
        yield Radicale(f"http://127.0.0.1:{port}/", USER, password, root, process)
    finally:
        stop_process(process)
        log.close()
