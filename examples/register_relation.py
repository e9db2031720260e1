"""Register relations: a client office, its contact person, and a prospect becoming a client."""

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from praclox_privacy import Item
from praclox_privacy.ports import WriteRefused
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    Workspace.init(root)
    with Workspace.open(root, clock=lambda: NOW) as ws:
        office = ws.add_subject(["client"], subject_id="office-1", name="Tandartspraktijk De Kies")
        person = ws.add_subject(
            ["contact_person"],
            subject_id="person-1",
            organisation=office.id,  # S3: a contact person belongs to a client
            name="Anna de Vries",
            email="anna@example.nl",
        )
        ws.write([Item(person.id, "life_events", "birthday", "1980-05-17", NOW)])  # S4
        print(f"{person.id} of {person.organisation}:")
        for store, items in ws.items_of(person.id).items():
            for item in items:
                print(f"  [{store}] {item.category}.{item.field} = {item.value}")

        # S11: the search portal's parameters are never stored.
        try:
            ws.write([Item(person.id, "search_parameters", "query", "dentist", NOW)])
        except WriteRefused as exc:
            print(f"refused: {exc.reason}")

        # S15: a prospect becomes a client; its data and history stay.
        ws.add_subject(["prospect"], subject_id="office-2", name="Praktijk Noord")
        became = ws.set_relation_types("office-2", ["client"])
        print(f"office-2 is now: {', '.join(sorted(became.relation_types))}")
        print(f"office-2 still holds {len(ws.items_of('office-2')['main'])} item(s)")
