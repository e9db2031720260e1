"""A failed bulk write of a million items leaves the store exactly as before."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from praclox_privacy import Item, Subject
from praclox_privacy.domain.errors import OperationRefused
from praclox_privacy.services.workspace import Workspace

N = 1_000_000
BAD = 500_000


def _snapshot(ws: Workspace) -> list[tuple[object, ...]]:
    items = ws.ledger.database.tables.items
    with ws.ledger.database.begin() as conn:
        return [tuple(r) for r in conn.execute(sa.select(items).order_by(*items.primary_key))]


@pytest.mark.promise("S11")
def test_S11_a_bad_row_500000_of_1000000_leaves_the_store_as_before(tmp_path: Path) -> None:
    Workspace.init(tmp_path)
    data = tmp_path / "items.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for i in range(N):
            category = "search_parameters" if i == BAD - 1 else "person_name"
            f.write(
                json.dumps(
                    {
                        "subject_id": f"p{i % 1000}",
                        "category": category,
                        "field": f"f{i}",
                        "value": "x",
                        "collected_at": "2026-01-01T00:00:00+00:00",
                    }
                )
                + "\n"
            )
    clock = lambda: datetime(2026, 2, 1, tzinfo=UTC)  # noqa: E731
    with Workspace.open(tmp_path, clock=clock) as ws:
        for n in range(1000):
            ws.ledger.add_subject(Subject(f"p{n}", {"contact_person"}))
        ws.write([Item("p1", "person_name", "name", "before", clock())])
        before = _snapshot(ws)
        audit_before = len(ws.audit_entries())
        with pytest.raises(OperationRefused) as info:
            ws.import_file(data)
        message = str(info.value)
        assert f"items.jsonl:{BAD}:" in message
        assert "search_parameters" in message
        assert "nothing of items.jsonl was imported" in message
        assert _snapshot(ws) == before
        assert len(ws.audit_entries()) == audit_before
