"""Benchmark: the sweep of an existing 1,000,000-row applicants table, half due, in place.

The ``sql-mapped`` store's sweep (keyset batches of 10,000 rows: select the due keys, record
the intent in the ledger, delete the batch's key range with the due condition, record the
erasure) against one hand-written ``DELETE FROM applicants WHERE rejected_at < ...`` on an
identical copy of the table. Prints one JSON line; each side runs in its own process.
SQLite always; PostgreSQL too with BENCH_POSTGRESQL set (an admin URL).
"""

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import batches, peak_mb, run_json, run_side_if_asked, scratch_postgresql

N_ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
NOW = datetime(2026, 6, 1, tzinfo=UTC)
# Naive, as applications store them (the mapping's time zone, UTC, applies).
OLD = datetime(2025, 11, 1)  # noqa: DTZ001 - rejected 7 months before NOW: due (3 months)
APPLIED = datetime(2025, 10, 1)  # noqa: DTZ001
CUTOFF = datetime(2026, 3, 1)  # noqa: DTZ001 - the hand-written DELETE's: 3 months before NOW

MAPPING = """
[[table]]
name = "applicants"
relation_type = "applicant"
subject_prefix = "applicant-"
collected = "applied_at"
identities = { email = "email" }
events = { rejected = "rejected_at" }

[table.columns]
full_name = { category = "application", field = "name" }
email = { category = "application" }
motivation = { category = "application" }
"""


def build(url: str) -> None:
    """An applicants table of N rows; every other one rejected long ago (setup)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    t = sa.Table(
        "applicants",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("motivation", sa.Text),
        sa.Column("applied_at", sa.DateTime, nullable=False),
        sa.Column("rejected_at", sa.DateTime),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        for ids in batches(N_ROWS, 50_000):
            conn.execute(
                t.insert(),
                [
                    {
                        "id": i,
                        "full_name": f"Applicant {i}",
                        "email": f"a{i}@example.org",
                        "motivation": "I would like to work at Praclox because " * 2,
                        "applied_at": APPLIED,
                        "rejected_at": OLD if i % 2 == 0 else None,
                    }
                    for i in ids
                ],
            )
    engine.dispose()


def workspace(root: Path, url: str) -> None:
    from praclox_privacy.ports import CONFIG_NAME
    from praclox_privacy.services.workspace import Workspace

    Workspace.init(root)
    (root / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    with (root / CONFIG_NAME).open("a", encoding="utf-8") as handle:
        handle.write(
            f'\n[stores.app]\nplugin = "sql-mapped"\nurl = "{url}"\nmapping = "mapping.toml"\n'
        )


def run_library(root: str) -> dict[str, float]:
    from praclox_privacy.services.sweep import run_sweep
    from praclox_privacy.services.workspace import Workspace

    with Workspace.open(root) as ws:
        ws.store("app")  # opening checks the mapping against the schema: not the sweep
        start = time.perf_counter()
        report = run_sweep(ws, NOW)
        elapsed = time.perf_counter() - start
    rows = sum(e.count for e in report.erased if e.store == "app")
    assert rows == N_ROWS // 2, rows
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def run_baseline(url: str) -> dict[str, float]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        deleted = conn.execute(
            sa.text("DELETE FROM applicants WHERE rejected_at < :cutoff"), {"cutoff": CUTOFF}
        ).rowcount
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert deleted == N_ROWS // 2, deleted
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def child(kind: str, arg: str) -> dict[str, float]:
    return run_json(__file__, kind, arg)


def main() -> None:
    if run_side_if_asked(run_library, run_baseline):
        return
    results: dict[str, object] = {"rows": N_ROWS}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "existing.db"
        build(f"sqlite:///{base}")
        copy = Path(tmp) / "copy.db"
        shutil.copy(base, copy)
        root = Path(tmp) / "ws"
        workspace(root, f"sqlite:///{copy}")
        results["sqlite_library"] = child("library", str(root))
        results["sqlite_baseline"] = child("baseline", f"sqlite:///{base}")
        pg = os.environ.get("BENCH_POSTGRESQL")
        if pg:
            with scratch_postgresql(pg) as lib_url, scratch_postgresql(pg, "b") as base_url:
                build(lib_url)
                build(base_url)
                pg_root = Path(tmp) / "pg-ws"
                workspace(pg_root, lib_url)
                results["postgresql_library"] = child("library", str(pg_root))
                results["postgresql_baseline"] = child("baseline", base_url)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
