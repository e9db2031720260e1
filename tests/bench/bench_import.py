"""Benchmark: import N items into the SQL store vs a plain sqlite3 executemany.

Run through ``nox -s bench``; prints one JSON line of results. Each measurement runs in its
own subprocess so peak memory (ru_maxrss) is that of the import alone.
"""

import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    batches,
    bulk_ledger,
    insert_subjects,
    peak_mb,
    run_json,
    run_side_if_asked,
    scratch_postgresql,
)

N_ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
PER_SUBJECT = 10
FIELDS = [
    "name",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "job_title",
    "initials",
    "mobile",
    "website",
]
CATEGORIES = [
    "person_name",
    "person_contact",
    "person_contact",
    "person_name",
    "person_name",
    "person_name",
    "person_name",
    "person_name",
    "person_contact",
    "person_contact",
]


def make_file(path: Path, n: int) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            s, k = divmod(i, PER_SUBJECT)
            at = (t0 + timedelta(seconds=i)).isoformat()
            f.write(
                json.dumps(
                    {
                        "subject_id": f"p{s}",
                        "category": CATEGORIES[k],
                        "field": FIELDS[k],
                        "value": f"value {i}",
                        "collected_at": at,
                    }
                )
                + "\n"
            )


def register_subjects(url: str, n_subjects: int, root: Path) -> None:
    """Set up the ledger in bulk (not measured): subjects p0..pN as contact persons."""
    with bulk_ledger(root, url) as (db, conn):
        now = datetime.now(UTC)
        for ids in batches(n_subjects, 20000):
            insert_subjects(conn, db.tables, "contact_person", {f"p{i}": None for i in ids}, now)


def run_library(root: str, data: str) -> dict[str, float]:
    from praclox_privacy.services.workspace import Workspace

    with Workspace.open(root) as ws:
        start = time.perf_counter()
        count = ws.import_file(data)
        elapsed = time.perf_counter() - start
    assert count == N_ITEMS, count
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def run_baseline(db: str, data: str) -> dict[str, float]:
    """Plain sqlite3: parse each line, executemany into the same schema, one transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")

    def rows():
        with Path(data).open(encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                at = datetime.fromisoformat(r["collected_at"]).astimezone(UTC)
                yield (
                    r["subject_id"],
                    r["category"],
                    r["field"],
                    r["value"],
                    at.replace(tzinfo=None).isoformat(sep=" "),
                    "",
                )

    conn.executemany(
        "INSERT INTO pp_items (subject_id, category, field, value, collected_at, "
        "purposes) VALUES (?, ?, ?, ?, ?, ?)",
        rows(),
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return {"seconds": elapsed, "peak_mb": peak_mb()}


def child(kind: str, *args: str) -> dict[str, float]:
    return run_json(__file__, kind, *args)


def main() -> None:
    if run_side_if_asked(run_library, run_baseline):
        return
    results: dict[str, object] = {"items": N_ITEMS}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        data = tmpdir / "items.jsonl"
        make_file(data, N_ITEMS)
        lib_root = tmpdir / "lib"
        register_subjects("sqlite:///praclox-privacy.db", N_ITEMS // PER_SUBJECT, lib_root)
        base_root = tmpdir / "base"
        register_subjects("sqlite:///praclox-privacy.db", 0, base_root)
        results["sqlite_library"] = child("library", str(lib_root), str(data))
        results["sqlite_baseline"] = child(
            "baseline", str(base_root / "praclox-privacy.db"), str(data)
        )
        pg = os.environ.get("BENCH_POSTGRESQL")
        if pg:
            with scratch_postgresql(pg) as url:
                pg_root = tmpdir / "pg"
                register_subjects(url, N_ITEMS // PER_SUBJECT, pg_root)
                results["postgresql_library"] = child("library", str(pg_root), str(data))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
