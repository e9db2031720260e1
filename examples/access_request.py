"""Answer an access request (GDPR Art. 15): register it, verify the requester, export."""

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from praclox_privacy.domain.requests import Identity
from praclox_privacy.formats.access_report import report_json
from praclox_privacy.services.requests import list_requests, receive_request, verify_request
from praclox_privacy.services.rights import answer_access
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    Workspace.init(root)
    with Workspace.open(root, clock=lambda: NOW) as ws:
        ws.add_subject(["client"], subject_id="office-1", name="Tandartspraktijk De Kies")
        ws.add_subject(
            ["contact_person"],
            subject_id="person-1",
            organisation="office-1",
            name="Anna de Vries",
            email="anna@example.nl",
        )

        # An e-mail arrives: "which data do you hold about me?"
        request = receive_request(ws, "access", [Identity("email", "anna@example.nl")])
        print(f"request {request.type.value} due {request.deadline:%Y-%m-%d} (Art. 12(3))")

        # Nothing is exported before the requester's identity is verified.
        verified = verify_request(ws, request.id, verified_by="erik")
        print(f"verified: the request concerns {verified.subject_id}")

        report = answer_access(ws, "person-1", now=NOW + timedelta(days=2))
        print(f"items held, per store: {report.stores}")
        for entry in report.items:
            bases = ", ".join(b.value for b in entry.legal_bases)
            print(f"  {entry.item.category}.{entry.item.field}: {bases}")
        document = report_json(report, ws.policy, "en")
        print(f"JSON export: {len(json.dumps(document))} characters")
        print(f"open requests now: {len(list_requests(ws, open_only=True))}")
