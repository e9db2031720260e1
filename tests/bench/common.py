"""Shared by the benchmarks: their child processes, peak memory, a scratch PostgreSQL
database, and bulk setup of a workspace's ledger (straight into its tables, not measured).

Imported as ``from common import ...``: tests/bench/ is on ``sys.path`` when a benchmark
runs as a script. The library is imported inside the functions, so that a child process
loads only what its side of the measurement needs.
"""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

# -- processes ------------------------------------------------------------------------------


def run_json(*args: str) -> dict[str, Any]:
    """Run ``python ARGS`` in its own process; return the JSON object on its last line."""
    out = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run_side_if_asked(
    library: Callable[..., dict[str, float]], baseline: Callable[..., dict[str, float]]
) -> bool:
    """In a child (``SCRIPT library|baseline ARGS``): run that side, print its JSON, say True."""
    if len(sys.argv) > 1 and sys.argv[1] in ("library", "baseline"):
        side = library if sys.argv[1] == "library" else baseline
        print(json.dumps(side(*sys.argv[2:])))
        return True
    return False


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def scratch_postgresql(admin_url: str, tag: str = "") -> Iterator[str]:
    """A throw-away database on the server of ``admin_url``, dropped afterwards."""
    import sqlalchemy as sa

    url = sa.make_url(admin_url)
    name = f"praclox_bench_{os.getpid()}{tag}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        engine.dispose()


# -- bulk setup -----------------------------------------------------------------------------


def batches(count: int, size: int) -> Iterator[range]:
    """``range(count)`` in consecutive ranges of at most ``size``."""
    for start in range(0, count, size):
        yield range(start, min(start + size, count))


@contextmanager
def bulk_ledger(root: Path, url: str) -> Iterator[tuple[Any, Any]]:
    """A new workspace at ``root`` with its ledger at ``url``: (its database, a transaction)."""
    from praclox_privacy.services.workspace import Workspace

    Workspace.init(root, url=url)
    with Workspace.open(root) as ws, ws.ledger.database.begin() as conn:
        yield ws.ledger.database, conn


def insert_subjects(
    conn: Any,
    tables: Any,
    relation_type: str,
    subjects: dict[str, str | None],
    created_at: datetime,
) -> None:
    """Insert subjects (id -> organisation or None), each with the one relation type."""
    conn.execute(
        tables.subjects.insert(),
        [{"id": s, "organisation": o, "created_at": created_at} for s, o in subjects.items()],
    )
    conn.execute(
        tables.relations.insert(),
        [{"subject_id": s, "relation_type": relation_type} for s in subjects],
    )


def insert_events(
    conn: Any, tables: Any, subject_ids: Iterable[str], name: str, at: datetime
) -> None:
    """Record the event ``name`` at ``at`` for each of the subjects."""
    conn.execute(
        tables.events.insert(), [{"subject_id": s, "name": name, "at": at} for s in subject_ids]
    )


def insert_items(
    conn: Any, tables: Any, rows: Iterable[tuple[str, str, str, str]], collected_at: datetime
) -> None:
    """Insert (subject_id, category, field, value) items, all collected at ``collected_at``."""
    conn.execute(
        tables.items.insert(),
        [
            {
                "subject_id": s,
                "category": c,
                "field": f,
                "value": v,
                "collected_at": collected_at,
                "purposes": "",
            }
            for s, c, f, v in rows
        ],
    )
