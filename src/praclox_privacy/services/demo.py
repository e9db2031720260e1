"""A guided demonstration on a throw-away workspace (``praclox-privacy demo``).

It registers one relation of every type the statement names, with data whose retention
clocks are at different points, then shows the sweep's dry run, the sweep itself and the
audit trail. Everything happens on the embedded SQLite default.
"""

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from ..domain.records import Consent, Evidence, Item
from .guards import record_agreement
from .sweep import SweepReport, run_sweep
from .workspace import Workspace

__all__ = ["populate", "run_demo"]


class _Clock:
    """A clock the demo moves back and forth, so data gets realistic collection dates."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def days_ago(self, days: int) -> datetime:
        self.current = self.now - timedelta(days=days)
        return self.current


def populate(ws: Workspace, clock: "_Clock") -> None:
    """Fill ``ws`` with sample relations of every type, their data, events and consents."""
    clock.days_ago(1000)
    ws.add_subject(
        ["client"],
        subject_id="client-devries",
        name="Kantoor De Vries",
        email="info@devries.example",
    )
    ws.write([Item("client-devries", "office_address", "city", "Utrecht", clock())])
    ws.add_subject(
        ["contact_person", "website_user"],
        subject_id="person-jan",
        organisation="client-devries",
        name="Jan Jansen",
        email="jan@devries.example",
    )
    ws.write(
        [Item("person-jan", "life_events", "birthday", "1980-02-29", clock(), ("congratulations",))]
    )
    ws.write(
        [
            Item(
                "client-devries",
                "invoicing_records",
                "2024-017",
                "EUR 1.250,00",
                clock.days_ago(800),
            )
        ]
    )
    ws.record_event("client-devries", "relation_ended", clock.days_ago(400))

    ws.add_subject(
        ["client"],
        subject_id="client-hoekje",
        name="Praktijk 't Hoekje",
        email="post@hoekje.example",
    )
    record_agreement(  # S10: agreed beforehand, or the write is refused
        ws,
        "client-hoekje",
        "client_data_transfer",
        scope="een exportbestand om een importprobleem op te lossen",
        agreed_at=clock.days_ago(61),
    )
    ws.write(
        [
            Item(
                "client-hoekje",
                "client_system_data",
                "export.csv",
                "(transfer agreed beforehand)",
                clock.days_ago(60),
            )
        ]
    )
    ws.record_event("client-hoekje", "used", clock.days_ago(45))

    ws.add_subject(
        ["prospect"], subject_id="prospect-linde", name="Kantoor Linde", email="info@linde.example"
    )
    clock.days_ago(30)
    ws.set_relation_types("prospect-linde", ["client"])  # S15: a prospect becomes a client

    clock.days_ago(300)
    ws.add_subject(["website_user"], subject_id="user-zoe", name="Zoë", email="zoe@example.org")
    ws.record_event("user-zoe", "account_closed", clock.days_ago(40))

    text = ws.policy.consent_kind("keep_application").text.nl
    for name in ("piet", "sara"):
        clock.days_ago(150)
        ws.add_subject(
            ["applicant"],
            subject_id=f"applicant-{name}",
            name=name.title(),
            email=f"{name}@example.org",
        )
        ws.record_event(f"applicant-{name}", "rejected", clock.days_ago(120))
    ws.ledger.add_consent(
        Consent(
            "applicant-sara",
            "keep_application",
            clock.days_ago(118),
            Evidence("e-mail", text, "demo"),
        )
    )
    clock.current = clock.now


def run_demo(root: Path, now: datetime, echo: Callable[[str], None]) -> SweepReport:
    """Create a workspace in ``root``, populate it, and show a dry run, a sweep and the audit.

    :returns: the sweep's report.
    """
    Workspace.init(root)
    clock = _Clock(now)
    with Workspace.open(root, clock=clock) as ws:
        populate(ws, clock)
        subjects = ws.ledger.subjects()
        echo(
            f"Workspace {root}: {len(subjects)} relations of every type "
            f"({', '.join(sorted({rt for s in subjects for rt in s.relation_types}))})."
        )
        echo("")
        echo("1. Dry run: what the policy makes due today, and what it keeps on purpose")
        _show(run_sweep(ws, now, dry_run=True), echo, ws.timezone)
        echo("")
        echo("2. Sweep")
        report = run_sweep(ws, now)
        _show(report, echo, ws.timezone)
        echo("")
        echo("3. Audit trail (last 8 entries)")
        for entry in ws.audit_entries(limit=8):
            count = entry.details.get("count")
            echo(
                f"   {entry.seq:>3} {entry.action:<16} {entry.subject_id or '':<16} "
                + (f"{count} items" if count is not None else "")
            )
        result = ws.verify_audit()
        echo(f"   chain: {'intact' if result.ok else 'BROKEN'} ({result.checked} entries)")
    return report


def _show(report: SweepReport, echo: Callable[[str], None], tz: tzinfo) -> None:
    verb = "due" if report.dry_run else "erased"
    for e in report.erased:
        echo(f"   {e.count} {e.category} {verb} by rule {e.rule} ({', '.join(e.subjects)})")
    for h in report.held:
        until = max(h.until.values()).astimezone(tz).date().isoformat()
        why = f"legal hold ({h.ground})" if h.kind == "legal_hold" else f"consent {h.ground!r}"
        echo(f"   {h.count} {h.category} held by {why} until {until}")
    echo(f"   total: {report.total} {verb}, {sum(h.count for h in report.held)} held back")
