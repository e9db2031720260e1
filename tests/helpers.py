"""Helpers shared by the tests: the CLI (through click's runner and as a process), new
workspaces and configurations of SQL stores, item files, a fake clock, and the processes
of test servers.

Imported as ``from helpers import ...`` (tests/ is on ``sys.path`` because of
tests/conftest.py, as for caldav_server.py and tryton_server.py).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner, Result

from praclox_privacy.cli import main
from praclox_privacy.ports import CONFIG_NAME
from praclox_privacy.services.workspace import Workspace

# -- the CLI through click's runner --------------------------------------------------------


def run(*args: str | Path, input: str | None = None) -> Result:
    """Run ``praclox-privacy ARGS`` through click's runner; exceptions propagate."""
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def ok(*args: str | Path, input: str | None = None) -> Result:
    """Run ``praclox-privacy ARGS`` like :func:`run` and assert that it exits 0."""
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


READER = "reader"
"""The staff member the tests read client data as (S12): permanent, confidentiality signed."""


def as_reader(root: Path, subject_id: str) -> list[str]:
    """Let :data:`READER` read ``subject_id``'s data; return the ``--as`` arguments to pass.

    Client data (a client's, or its contact persons') is shown only to staff the access
    guard allows (S12): the reader is registered, and a confidentiality agreement with
    each client recorded, a day before now. Other subjects need no ``--as``.
    """
    from datetime import timedelta

    from praclox_privacy.services.guards import add_staff, agreements, clients_of, record_agreement

    with Workspace.open(root) as ws:
        clients = clients_of(ws, subject_id)
        if not clients:
            return []
        day_ago = ws.clock() - timedelta(days=1)
        if ws.ledger.registers.staff_member(READER) is None:
            add_staff(
                ws,
                READER,
                "Reader",
                "permanent",
                confidentiality_signed_at=day_ago,
                started_at=day_ago,
                actor="test",
            )
        for client in clients:
            if not any(a.kind == "confidentiality" for a in agreements(ws, client)):
                record_agreement(ws, client, "confidentiality", agreed_at=day_ago, actor="test")
    return ["--as", READER]


def show(subject_id: str, *args: str | Path, root: Path) -> Result:
    """``subject show SUBJECT ARGS -w ROOT`` as :data:`READER` where it is client data."""
    return ok("subject", "show", subject_id, *args, "-w", root, *as_reader(root, subject_id))


# -- the CLI as a real process -------------------------------------------------------------


def cli_command() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point."""
    script = shutil.which("praclox-privacy", path=str(Path(sys.executable).parent))
    if script is not None:
        return [script]
    return [sys.executable, "-c", "from praclox_privacy.cli import main; main()"]


def run_process(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``praclox-privacy ARGS`` as a process without a terminal, UTF-8, no colour."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    return subprocess.run(
        [*cli_command(), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# -- workspaces ----------------------------------------------------------------------------


def append_config(root: Path, text: str) -> None:
    """Append ``text`` (TOML) to the configuration file of the workspace at ``root``."""
    with (root / CONFIG_NAME).open("a", encoding="utf-8") as handle:
        handle.write(text)


def new_workspace(root: Path, config: str = "") -> Path:
    """``Workspace.init`` at ``root``, with ``config`` appended to its configuration file."""
    Workspace.init(root)
    append_config(root, config)
    return root


# -- configurations of SQL stores ----------------------------------------------------------


def table_prefix() -> str:
    """A table prefix of its own, so that stores sharing a database keep apart."""
    return f"t{secrets.token_hex(4)}_"


def sql_config(primary_url: str, stores: str = "", policy: str = "default") -> str:
    """A workspace configuration whose primary store ``main`` is SQL at ``primary_url``."""
    return (
        f'policy = "{policy}"\nprimary = "main"\ntimezone = "Europe/Amsterdam"\n\n'
        f'[stores.main]\nplugin = "sql"\nurl = "{primary_url}"\n'
        f'table_prefix = "{table_prefix()}"\n{stores}'
    )


def sql_store(name: str, url: str) -> str:
    """The configuration of one more ``sql`` store ``name`` at ``url``, with its own tables."""
    return f'\n[stores.{name}]\nplugin = "sql"\nurl = "{url}"\ntable_prefix = "{table_prefix()}"\n'


# -- items and time ------------------------------------------------------------------------


def write_items(path: Path, rows: Iterable[tuple[str, str, str, str, datetime]]) -> Path:
    """Write (subject_id, category, field, value, collected_at) rows as a JSON Lines file."""
    path.write_text(
        "".join(
            json.dumps(
                {
                    "subject_id": s,
                    "category": c,
                    "field": f,
                    "value": v,
                    "collected_at": at.isoformat(),
                }
            )
            + "\n"
            for s, c, f, v, at in rows
        ),
        encoding="utf-8",
    )
    return path


class Clock:
    """A fake clock for ``Workspace.open(clock=...)``: it says ``now`` until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- test servers on the loopback interface ------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: "subprocess.Popen[bytes]") -> None:
    """Terminate a server process, and kill it if it has not stopped after 10 seconds."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
