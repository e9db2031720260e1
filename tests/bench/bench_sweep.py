"""Benchmark: a sweep of N items, half of them due, vs one hand-written DELETE.

Prints one JSON line. Both sides run on identical copies of the same SQLite database
(and, with BENCH_POSTGRESQL set, the same on a scratch PostgreSQL database), each in
its own process so peak memory (ru_maxrss) is the sweep's alone.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    batches,
    bulk_ledger,
    insert_events,
    insert_items,
    insert_subjects,
    peak_mb,
    run_json,
    run_side_if_asked,
    scratch_postgresql,
)

N_ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
PER_SUBJECT = 10
NOW = datetime(2026, 6, 1, tzinfo=UTC)
REJECTED = NOW - timedelta(days=200)  # 3-month rule: due
COLLECTED = NOW - timedelta(days=300)


def build(root: Path, url: str) -> None:
    """A workspace with N/10 applicants, every other one rejected long ago (setup)."""
    with bulk_ledger(root, url) as (db, conn):
        t = db.tables
        for ids in batches(N_ITEMS // PER_SUBJECT, 10000):
            insert_subjects(conn, t, "applicant", {f"a{i}": None for i in ids}, COLLECTED)
            insert_events(conn, t, [f"a{i}" for i in ids if i % 2 == 0], "rejected", REJECTED)
            insert_items(
                conn,
                t,
                [
                    (f"a{i}", "application", f"f{k}", f"value {i} {k}")
                    for i in ids
                    for k in range(PER_SUBJECT)
                ],
                COLLECTED,
            )


def run_library(root: str) -> dict[str, float]:
    from praclox_privacy.services.sweep import run_sweep
    from praclox_privacy.services.workspace import Workspace

    with Workspace.open(root) as ws:
        start = time.perf_counter()
        report = run_sweep(ws, NOW)
        elapsed = time.perf_counter() - start
    assert report.total == N_ITEMS // 2, report.total
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def run_baseline(root: str) -> dict[str, float]:
    """One hand-written DELETE ... WHERE over the same tables."""
    import sqlalchemy as sa

    from praclox_privacy.services.workspace import Workspace

    with Workspace.open(root) as ws:
        db = ws.ledger.database
        t = db.tables
        cutoff = NOW - timedelta(days=92)
        stmt = t.items.delete().where(
            t.items.c.category == "application",
            t.items.c.subject_id.in_(
                sa.select(t.events.c.subject_id).where(
                    t.events.c.name == "rejected", t.events.c.at < cutoff
                )
            ),
        )
        start = time.perf_counter()
        with db.begin() as conn:
            deleted = conn.execute(stmt).rowcount
        elapsed = time.perf_counter() - start
    assert deleted == N_ITEMS // 2, deleted
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def child(kind: str, root: Path) -> dict[str, float]:
    return run_json(__file__, kind, str(root))


def main() -> None:
    if run_side_if_asked(run_library, run_baseline):
        return
    results: dict[str, object] = {"items": N_ITEMS}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        build(base, "sqlite:///praclox-privacy.db")
        lib = Path(tmp) / "lib"
        shutil.copytree(base, lib)
        results["sqlite_library"] = child("library", lib)
        results["sqlite_baseline"] = child("baseline", base)
        pg = os.environ.get("BENCH_POSTGRESQL")
        if pg:
            for side in ("library", "baseline"):
                with scratch_postgresql(pg) as url:
                    root = Path(tmp) / f"pg-{side}"
                    build(root, url)
                    results[f"postgresql_{side}"] = child(side, root)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
