"""Enforce the policy in place on an existing database, with the command line only.

The whole flow of docs/mapped-databases.md in a temporary folder: create the company's
database from schema.sql, create a workspace, add the database as an ``sql-mapped`` store
with mapping.toml, check the mapping, sweep, answer an access request of a website user
found by e-mail, erase a client whose invoices tax law keeps, and run every check. Each
step prints its command and output; the script exits 1 when a step fails or the database
does not hold what the step should have left.

Run it with ``python examples/existing-database/run.py``.
"""

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
NOW = "2025-07-01T12:00"  # the sweep's and the requests' clock, in Europe/Amsterdam
STORE = """
# The company's own database, mapped onto the policy (docs/mapped-databases.md).
[stores.office]
plugin = "sql-mapped"
url = "sqlite:///existing.db"
mapping = "mapping.toml"
batch_size = 1000
"""


def fail(message: str) -> NoReturn:
    print(f"FAILED: {message}")
    sys.exit(1)


def cli(folder: Path, *args: str, expect: int = 0, show: bool = True) -> str:
    """Run ``praclox-privacy ARGS`` in ``folder``; print it; return its standard output.

    :param show: print the standard output too (the standard error always).
    """
    print(f"\n$ praclox-privacy {shlex.join(args)}")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "praclox_privacy", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        fail("no answer within 120 seconds")
    for line in ((result.stdout if show else "") + result.stderr).splitlines():
        print(f"  {line}")
    if result.returncode != expect:
        fail(f"exit code {result.returncode}, expected {expect}")
    return result.stdout


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Return the rows of a query on the company's database (read-only)."""
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def expect_rows(database: Path, sql: str, wanted: list[tuple[Any, ...]]) -> None:
    found = rows(database, sql)
    print(f"  -- {sql}\n  -> {found}")
    if found != wanted:
        fail(f"expected {wanted}")


def request_of(folder: Path, kind: str, email: str) -> tuple[str, str]:
    """Receive and verify a request by e-mail address; return its id and subject."""
    new = ("request", "new", "--type", kind, "--email", email, "--now", NOW, "--format", "json")
    request_id = str(json.loads(cli(folder, *new, show=False))["id"])
    print(f"  request {request_id}")
    cli(folder, "request", "verify", request_id, "--by", "front desk", "--now", NOW)
    shown = cli(folder, "request", "show", request_id, "--now", NOW, "--format", "json", show=False)
    return request_id, str(json.loads(shown)["subject_id"])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="praclox-existing-") as tmp:
        folder = Path(tmp) / "workspace"
        folder.mkdir()
        database = folder / "existing.db"

        print("1. The company's database, as its application made it (schema.sql)")
        connection = sqlite3.connect(database)
        try:
            connection.executescript((HERE / "schema.sql").read_text(encoding="utf-8"))
            connection.commit()
        finally:
            connection.close()
        for table in ("clients", "contact_persons", "invoices", "website_users", "applicants"):
            print(f"  {table}: {rows(database, f'SELECT COUNT(*) FROM {table}')[0][0]} rows")

        print("\n2. A draft mapping, for a person to review (the reviewed one is mapping.toml)")
        cli(folder, "map", "suggest", "sqlite:///existing.db", "--output", "suggested.toml")
        draft = (folder / "suggested.toml").read_text(encoding="utf-8").splitlines()
        first = draft.index("[[table]]")
        print(f"  the draft maps {draft.count('[[table]]')} tables; the first one:")
        for line in draft[first : draft.index("[[table]]", first + 1) - 1]:
            print(f"    {line}")

        print("\n3. A workspace with the database as an sql-mapped store")
        cli(folder, "init", ".")
        shutil.copyfile(HERE / "mapping.toml", folder / "mapping.toml")
        config = folder / "praclox-privacy.toml"
        config.write_text(config.read_text(encoding="utf-8") + STORE, encoding="utf-8")
        cli(folder, "map", "check")

        print("\n4. The retention sweep: first what is due, then erase it")
        cli(folder, "sweep", "--dry-run", "--now", NOW)
        expect_rows(database, "SELECT COUNT(*) FROM website_users", [(3,)])
        cli(folder, "sweep", "--now", NOW)
        # Closed a month ago or more, rejected three months ago or more: deleted.
        expect_rows(database, "SELECT id FROM website_users ORDER BY id", [(2,), (3,)])
        expect_rows(database, "SELECT id FROM applicants ORDER BY id", [(2,), (3,)])
        expect_rows(database, "SELECT id FROM contact_persons ORDER BY id", [(2,), (3,)])
        # Client 1 ended two years ago: its office details are gone, but its row stays
        # (its invoices refer to it) and the invoices stay: tax law keeps them 7 years.
        expect_rows(
            database,
            "SELECT id, name, street, email FROM clients WHERE id = 1",
            [(1, "[anonymised]", None, None)],
        )
        expect_rows(database, "SELECT COUNT(*) FROM invoices WHERE client_id = 1", [(2,)])

        print("\n5. An access request of a website user, found by e-mail address")
        _, subject = request_of(folder, "access", "eva@example.nl")
        report = json.loads(cli(folder, "request", "access", subject, "--now", NOW, show=False))
        held = {item["field"]: item["value"] for item in report["items"]}
        for item in report["items"]:
            print(
                f"  {item['category']}.{item['field']} = {item['value']!r} "
                f"({item['retention_status']})"
            )
        if held != {"name": "Eva Mulder", "email": "eva@example.nl"}:
            fail(f"the access report of {subject} holds {held}")

        print("\n6. An erasure request of a client whose invoices tax law keeps")
        _, client = request_of(folder, "erasure", "kantoor@jansen.example")
        cli(folder, "request", "erase", client, "--lang", "en", "--now", NOW)
        expect_rows(
            database,
            "SELECT name, street, email FROM clients WHERE id = 2",
            [("[anonymised]", None, None)],
        )
        expect_rows(database, "SELECT number FROM invoices WHERE client_id = 2", [("2025-0211",)])

        print("\n7. Every check: policy, stores, overdue data, request deadlines")
        cli(folder, "check", "--now", NOW)
        print("\nok: the policy is enforced in place on the company's own tables")


if __name__ == "__main__":
    main()
