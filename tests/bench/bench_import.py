"""Benchmark: import N items into the SQL store vs a plain sqlite3 executemany.

Run through ``nox -s bench``; prints one JSON line of results. Each measurement runs in its
own subprocess so peak memory (ru_maxrss) is that of the import alone.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    from praclox_privacy.services.workspace import Workspace

    Workspace.init(root, url=url)
    with Workspace.open(root) as ws:
        t = ws.ledger.database.tables
        now = datetime.now(UTC)
        with ws.ledger.database.begin() as conn:
            for start in range(0, n_subjects, 20000):
                ids = range(start, min(start + 20000, n_subjects))
                conn.execute(
                    t.subjects.insert(),
                    [{"id": f"p{i}", "organisation": None, "created_at": now} for i in ids],
                )
                conn.execute(
                    t.relations.insert(),
                    [{"subject_id": f"p{i}", "relation_type": "contact_person"} for i in ids],
                )


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
    out = subprocess.run(
        [sys.executable, __file__, kind, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("library", "baseline"):
        fn = run_library if sys.argv[1] == "library" else run_baseline
        print(json.dumps(fn(*sys.argv[2:])))
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


if __name__ == "__main__":
    main()
