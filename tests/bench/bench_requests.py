"""Benchmark: answer an access request and an erasure request for one subject among N items.

Prints one JSON line: the median (and 95th percentile) milliseconds of
``answer_access`` (building the report and writing its JSON) and of ``erase_subject``,
for SAMPLES subjects spread over the data, on SQLite and, with BENCH_POSTGRESQL set, on
a scratch PostgreSQL database. The target (from the issue): under 20 ms each on SQLite
for 1,000,000 items. Registering and verifying the requests is setup, not measured.

The population: N/10 contact persons of 1,000 clients, 10 items each (name, contact
details and life events), every other one with an ended relation.
"""

import json
import os
import statistics
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
    scratch_postgresql,
)

N_ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "25"))
PER_SUBJECT = 10
CLIENTS = 1000
NOW = datetime(2026, 6, 1, tzinfo=UTC)
COLLECTED = NOW - timedelta(days=300)
ENDED = NOW - timedelta(days=100)
FIELDS = [
    ("person_name", "name"),
    ("person_name", "initials"),
    ("person_name", "job_title"),
    ("person_contact", "email"),
    ("person_contact", "phone"),
    ("person_contact", "mobile"),
    ("life_events", "birthday"),
    ("life_events", "child_birthday"),
    ("life_events", "child_birthday_2"),
    ("life_events", "wedding_date"),
]


def build(root: Path, url: str) -> None:
    """The ledger and items in bulk, straight into the tables (setup, not measured)."""
    with bulk_ledger(root, url) as (db, conn):
        t = db.tables
        insert_subjects(conn, t, "client", {f"c{i}": None for i in range(CLIENTS)}, COLLECTED)
        for ids in batches(N_ITEMS // PER_SUBJECT, 10000):
            persons = {f"p{i}": f"c{i % CLIENTS}" for i in ids}
            insert_subjects(conn, t, "contact_person", persons, COLLECTED)
            insert_events(conn, t, [f"p{i}" for i in ids if i % 2 == 0], "relation_ended", ENDED)
            insert_items(
                conn,
                t,
                [
                    (f"p{i}", category, field, f"{field} of person {i}")
                    for i in ids
                    for category, field in FIELDS
                ],
                COLLECTED,
            )
        db.refresh_statistics(conn)


def measure(root: Path) -> dict[str, object]:
    """Median and 95th percentile milliseconds of access and erasure for SAMPLES subjects."""
    from praclox_privacy.domain.requests import Identity
    from praclox_privacy.formats.access_report import report_json
    from praclox_privacy.services.requests import receive_request, verify_request
    from praclox_privacy.services.rights import answer_access, erase_subject
    from praclox_privacy.services.workspace import Workspace

    persons = N_ITEMS // PER_SUBJECT
    step = max(persons // SAMPLES, 1)
    chosen = [f"p{i}" for i in range(step // 2, persons, step)][:SAMPLES]
    access: list[float] = []
    erasure: list[float] = []
    with Workspace.open(root, clock=lambda: NOW) as ws:
        for sid in chosen:  # setup: a verified access and erasure request per subject
            for kind in ("access", "erasure"):
                request = receive_request(ws, kind, [Identity("subject_id", sid)], actor="bench")
                verify_request(ws, request.id, "bench", actor="bench")
        for sid in chosen:
            start = time.perf_counter()
            report = answer_access(ws, sid, actor="bench")
            text = json.dumps(report_json(report, ws.policy, "en"), ensure_ascii=False)
            access.append((time.perf_counter() - start) * 1000)
            assert len(report.items) == PER_SUBJECT, len(report.items)
            assert sid in text
            start = time.perf_counter()
            result = erase_subject(ws, sid, actor="bench")
            erasure.append((time.perf_counter() - start) * 1000)
            assert result.total == PER_SUBJECT, result.total
    return {"access_ms": summary(access), "erasure_ms": summary(erasure)}


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 2), "p95": round(p95, 2)}


def main() -> None:
    results: dict[str, object] = {"items": N_ITEMS, "samples": SAMPLES, "target_ms": 20}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sqlite"
        build(root, "sqlite:///praclox-privacy.db")
        results["sqlite"] = measure(root)
        pg = os.environ.get("BENCH_POSTGRESQL")
        if pg:
            with scratch_postgresql(pg) as url:
                root = Path(tmp) / "postgresql"
                build(root, url)
                results["postgresql"] = measure(root)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
