"""Run the retention sweep: a closed website account is erased a month later."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace

COLLECTED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    Workspace.init(root)
    with Workspace.open(root, clock=lambda: COLLECTED) as ws:
        ws.add_subject(["website_user"], subject_id="web-1", email="web@example.nl")
        ws.add_subject(["website_user"], subject_id="web-2", email="still@example.nl")
        ws.record_event("web-1", "account_closed", CLOSED)  # S7: closing ends the account

    with Workspace.open(root) as ws:
        for now in (CLOSED + timedelta(days=10), CLOSED + timedelta(days=40)):
            plan = run_sweep(ws, now, dry_run=True)
            print(f"{now:%Y-%m-%d} dry run: {plan.total} item(s) due")
        report = run_sweep(ws, CLOSED + timedelta(days=40))
        for erased in report.erased:
            print(
                f"rule {erased.rule}: {erased.count} {erased.category} item(s) "
                f"{erased.action.value}d in {erased.store} ({', '.join(erased.subjects)})"
            )
        print(f"web-1 holds {len(ws.items_of('web-1')['main'])} item(s) now")
        print(f"web-2 holds {len(ws.items_of('web-2')['main'])} item(s) now")
        print(f"last audit entry: {ws.audit_entries()[-1].action}")
