"""Run the CI checks in Python: what ``praclox-privacy check`` runs, and what fails it."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from praclox_privacy import default_policy
from praclox_privacy.formats.check_report import report_junit, report_text
from praclox_privacy.formats.documents import render_statement
from praclox_privacy.ports import CONFIG_NAME
from praclox_privacy.services.checks import run_checks
from praclox_privacy.services.workspace import Workspace

COLLECTED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    Workspace.init(root)
    # Commit the generated statement, and let `check` compare it with the policy.
    (root / "privacy.nl.md").write_text(render_statement(default_policy(), "nl"))
    config = root / CONFIG_NAME
    config.write_text(
        config.read_text() + '\n[check]\nstatement = "privacy.nl.md"\ngrace = "P1D"\n'
    )

    with Workspace.open(root, clock=lambda: COLLECTED) as ws:
        ws.add_subject(["website_user"], subject_id="web-1", email="web@example.nl")
        ws.record_event("web-1", "account_closed", CLOSED)

        report = run_checks(ws, now=CLOSED + timedelta(days=10))
        print(f"ten days after closing: ok={report.ok}")

        # Due a month after closing; three days later nobody has swept: the check fails.
        report = run_checks(ws, now=CLOSED + timedelta(days=34))
        print(f"a month and three days after: ok={report.ok}")
        for finding in report.problems:
            print(f"  [{finding.ref}] {finding.check}: {finding.message[:70]}...")
        print(report_text(report).splitlines()[-1])
        junit = report_junit(report)
        print(
            f"JUnit XML: {junit.count('<testcase ')} test cases, {junit.count('<failure ')} failure"
        )
