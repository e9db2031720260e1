"""`praclox-privacy sweep`, through click's runner (and once as a process), driven by `--now`.

Every scenario uses fixed instants in the past: items are imported with their own
`collected_at` (a JSON Lines file), events are recorded with `subject event --at`, and each
sweep moves the clock with `--now`. A period boundary is checked on both sides: one
second before it the data stays, at it the data goes.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from helpers import ok, run, run_process, show, write_items
from praclox_privacy import Consent, Evidence, default_policy
from praclox_privacy.services.workspace import Workspace

SECOND = timedelta(seconds=1)
PROGRESS_MARKS = ("━", "\r", "\x1b[", "sweeping")
SUMMARY = re.compile(
    r"^\d+ items? (erased|due) in \d+ stores?; \d+ held back; \d+ stores? failed"
    r"(; finished \d+ erasures of an interrupted sweep)?$"
)
LAW = next(r for r in default_policy().retention if r.id == "invoicing_records").legal_hold
assert LAW is not None


# -- helpers ------------------------------------------------------------------------------


def sweep(root: Path, now: datetime, *extra: str) -> Result:
    return ok("sweep", "-w", root, "--now", now.isoformat(), *extra)


def sweep_json(root: Path, now: datetime, *extra: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sweep(root, now, "--format", "json", *extra).stdout)
    return data


def add(root: Path, subject_id: str, *relations: str, organisation: str | None = None) -> None:
    args: list[str | Path] = ["subject", "add", "--id", subject_id, "-w", root]
    for relation in relations:
        args += ["--relation", relation]
    if organisation is not None:
        args += ["--organisation", organisation]
    ok(*args)


def event(root: Path, subject_id: str, name: str, at: datetime) -> None:
    ok("subject", "event", subject_id, name, "--at", at.isoformat(), "-w", root)


def import_items(
    root: Path, rows: list[tuple[str, str, str, str, datetime]], expect: int = 0
) -> Result:
    """Import (subject, category, field, value, collected_at) rows as a JSON Lines file."""
    path = root.parent / f"items-{len(list(root.parent.glob('items-*')))}.jsonl"
    write_items(path, rows)
    result = run("data", "import", path, "-w", root)
    assert result.exit_code == expect, result.output
    return result


def items(root: Path, subject_id: str, store: str = "main") -> dict[tuple[str, str], str]:
    """The subject's items in ``store``, as (category, field) -> value, via `subject show`."""
    shown = json.loads(show(subject_id, "--format", "json", root=root).stdout)
    return {(i["category"], i["field"]): i["value"] for i in shown["items"][store]}


def categories(root: Path, subject_id: str) -> set[str]:
    return {category for category, _ in items(root, subject_id)}


def audit(root: Path, subject_id: str | None = None) -> list[dict[str, Any]]:
    args: list[str | Path] = ["audit", "show", "-w", root, "--format", "json"]
    if subject_id is not None:
        args += ["--subject", subject_id]
    entries: list[dict[str, Any]] = json.loads(ok(*args).stdout)
    return entries


def erased_by_rule(report: dict[str, Any]) -> dict[tuple[str, str], int]:
    """(rule, category) -> how many items of a JSON report's `erased` list."""
    counts: dict[tuple[str, str], int] = {}
    for e in report["erased"]:
        counts[(e["rule"], e["category"])] = counts.get((e["rule"], e["category"]), 0) + e["count"]
    return counts


def held_by_rule(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(h["rule"], h["category"]): h for h in report["held"]}


def until(held: dict[str, Any]) -> dict[str, datetime]:
    return {s: datetime.fromisoformat(t) for s, t in held["until"].items()}


def keep_application(subject_id: str, granted_at: datetime) -> Consent:
    text = default_policy().consent_kind("keep_application").text.nl
    return Consent(subject_id, "keep_application", granted_at, Evidence("e-mail", text, "test"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ok("init", root)
    return root


# -- S14: applicants ------------------------------------------------------------------------

REJECTED = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)  # D
D_3M = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # D + P3M: the plain period ends
D_1M = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # an early withdrawal
D_5M = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # a late withdrawal
D_1Y = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)  # D + P1Y: the consent's bound
APPLIED = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
APPLICATION = {("application", "name"), ("application", "email"), ("application", "cv")}


@pytest.mark.promise("S14")
def test_S14_applicants_go_3_months_after_rejection_or_up_to_a_year_with_consent(
    root: Path,
) -> None:
    # ann: no consent; bob: keeps his application; cas withdraws after one month, dirk
    # after five (when the plain period is long over).
    applicants = ("ann", "bob", "cas", "dirk")
    for name in applicants:
        add(root, name, "applicant")
        event(root, name, "rejected", REJECTED)
    import_items(
        root,
        [
            (name, cat, field, f"{name} {field}", APPLIED)
            for name in applicants
            for cat, field in sorted(APPLICATION)
        ],
    )
    with Workspace.open(root) as ws:
        ws.ledger.add_consent(keep_application("bob", REJECTED + timedelta(days=1)))
        granted = keep_application("cas", REJECTED + timedelta(days=1))
        ws.ledger.add_consent(granted.withdraw(D_1M))
        ws.ledger.add_consent(keep_application("dirk", REJECTED + timedelta(days=1)).withdraw(D_5M))

    def present() -> set[str]:
        return {name for name in applicants if set(items(root, name)) == APPLICATION}

    # One second before D + 3 months: nothing goes, not even cas's (withdrawn long ago).
    report = sweep_json(root, D_3M - SECOND)
    assert report["total"] == 0
    assert report["erased"] == []
    assert present() == set(applicants)

    # At D + 3 months the dry run names what goes and the consent that keeps the rest.
    plan = sweep_json(root, D_3M, "--dry-run")
    assert plan["dry_run"] is True
    assert erased_by_rule(plan) == {("applications", "application"): 6}
    held = held_by_rule(plan)[("applications", "application")]
    assert held["kind"] == "consent"
    assert held["ground"] == "keep_application"
    assert held["count"] == 6
    assert until(held) == {"bob": D_1Y, "dirk": D_1Y}  # dirk's withdrawal is not known yet
    text = sweep(root, D_3M, "--dry-run").stdout
    assert "consent 'keep_application'" in text
    assert "until 2025-02-01" in text
    assert present() == set(applicants)  # the dry run changed nothing

    report = sweep_json(root, D_3M)
    assert erased_by_rule(report) == {("applications", "application"): 6}
    assert present() == {"bob", "dirk"}
    assert items(root, "ann") == {}
    assert items(root, "cas") == {}
    # The erasure is audited (with the rule and the subjects, never the values).
    erasures = [e for e in audit(root) if e["action"] == "sweep.erased"]
    assert sum(e["details"]["count"] for e in erasures) == 6
    assert {e["details"]["rule"] for e in erasures} == {"applications"}
    assert {s for e in erasures for s in e["details"]["subjects"]} == {"ann", "cas"}
    assert "ann cv" not in json.dumps(erasures)

    # dirk withdraws at D + 5 months, after the plain period: due at once.
    assert sweep_json(root, D_5M - SECOND)["total"] == 0
    assert present() == {"bob", "dirk"}
    report = sweep_json(root, D_5M)
    assert erased_by_rule(report) == {("applications", "application"): 3}
    assert until(held_by_rule(report)[("applications", "application")]) == {"bob": D_1Y}
    assert present() == {"bob"}

    # bob's consent keeps his application up to the bound: D + 1 year.
    assert sweep_json(root, D_1Y - SECOND)["total"] == 0
    assert present() == {"bob"}
    report = sweep_json(root, D_1Y)
    assert erased_by_rule(report) == {("applications", "application"): 3}
    assert report["held"] == []
    assert present() == set()
    # The subjects and their history stay; only the data went.
    assert {e["action"] for e in audit(root, "bob")} >= {
        "subject.added",
        "subject.event",
        "consent.granted",
        "sweep.erased",
    }


@pytest.mark.promise("S14")
def test_S14_a_consent_given_after_the_data_was_due_does_not_bring_it_back(root: Path) -> None:
    add(root, "eva", "applicant")
    event(root, "eva", "rejected", REJECTED)
    import_items(root, [("eva", "application", "cv", "cv", APPLIED)])
    with Workspace.open(root) as ws:
        ws.ledger.add_consent(keep_application("eva", D_3M + timedelta(days=1)))
    report = sweep_json(root, D_3M + timedelta(days=2))
    assert erased_by_rule(report) == {("applications", "application"): 1}
    assert report["held"] == []


# -- S10: data from clients' systems ---------------------------------------------------------

USED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
AGREEMENT_ENDED = datetime(2024, 3, 10, 10, 0, tzinfo=UTC)


@pytest.mark.promise("S10")
def test_S10_client_system_data_goes_30_days_after_use_or_the_agreements_end_whichever_first(
    root: Path,
) -> None:
    # hoek used the data first; linde's agreement ended first.
    add(root, "hoek", "client")
    add(root, "linde", "client")
    event(root, "hoek", "used", USED)
    event(root, "hoek", "agreement_ended", datetime(2024, 6, 1, tzinfo=UTC))
    event(root, "linde", "agreement_ended", AGREEMENT_ENDED)
    event(root, "linde", "used", datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    for client in ("hoek", "linde"):  # agreed beforehand, or the import is refused
        ok(
            "agreement", "record", client, "--kind", "client_data_transfer",
            "--agreed-at", "2024-02-01", "-w", root,
        )  # fmt: skip
    sent = datetime(2024, 2, 15, tzinfo=UTC)
    import_items(
        root,
        [(c, "client_system_data", "export.csv", "rows", sent) for c in ("hoek", "linde")]
        + [(c, "office_identity", "name", c.title(), APPLIED) for c in ("hoek", "linde")],
    )
    both = {"client_system_data", "office_identity"}

    assert sweep_json(root, USED + timedelta(days=30) - SECOND)["total"] == 0
    assert categories(root, "hoek") == both

    report = sweep_json(root, USED + timedelta(days=30))
    assert erased_by_rule(report) == {("client_system_data", "client_system_data"): 1}
    assert categories(root, "hoek") == {"office_identity"}
    assert categories(root, "linde") == both

    assert sweep_json(root, AGREEMENT_ENDED + timedelta(days=30) - SECOND)["total"] == 0
    assert categories(root, "linde") == both
    report = sweep_json(root, AGREEMENT_ENDED + timedelta(days=30))
    assert erased_by_rule(report) == {("client_system_data", "client_system_data"): 1}
    # Only the transferred data goes; the clients' own office data waits for the
    # relation's end.
    assert categories(root, "linde") == {"office_identity"}
    assert categories(root, "hoek") == {"office_identity"}


# -- S15: a prospect becomes a client ---------------------------------------------------------

ENDED = datetime(2024, 6, 1, tzinfo=UTC)
OFFICE = [
    ("office_identity", "name"),
    ("office_address", "city"),
    ("office_contact", "email"),
]


@pytest.mark.promise("S15")
def test_S15_a_prospect_becomes_a_client_keeping_its_data_and_history(root: Path) -> None:
    # linde becomes a client; vink stays a prospect (the control).
    for name in ("linde", "vink"):
        add(root, name, "prospect")
    import_items(
        root,
        [(n, c, f, f"{n} {f}", APPLIED) for n in ("linde", "vink") for c, f in OFFICE],
    )
    invoice = [("linde", "invoicing_records", "2024-001", "EUR 100,00", D_1M)]
    refused = import_items(root, invoice, expect=1)  # a prospect has no invoices
    assert "invoicing_records" in refused.output
    before = json.loads(show("linde", "--format", "json", root=root).stdout)
    history = audit(root, "linde")

    assert ok("subject", "relations", "linde", "--relation", "client", "-w", root).output == (
        "linde: client\n"
    )

    after = json.loads(show("linde", "--format", "json", root=root).stdout)
    assert after["relation_types"] == ["client"]
    assert after["items"] == before["items"]
    assert after["events"] == before["events"]
    now_history = audit(root, "linde")
    assert now_history[: len(history)] == history  # nothing rewritten or lost
    changed = now_history[len(history)]
    assert changed["action"] == "subject.relation_types"
    assert changed["details"] == {"from": ["prospect"], "to": ["client"]}
    import_items(root, invoice)  # a client has invoices

    for name in ("linde", "vink"):
        event(root, name, "relation_ended", ENDED)
    # The office data follows the same rule (1 year after the relation ended) for the
    # client that was a prospect and for the prospect.
    assert sweep_json(root, ENDED + timedelta(days=365) - SECOND)["total"] == 0
    assert set(items(root, "linde")) == {*OFFICE, ("invoicing_records", "2024-001")}
    report = sweep_json(root, datetime(2025, 6, 1, tzinfo=UTC))
    erased = erased_by_rule(report)
    for category, _ in OFFICE:
        assert erased[("office_details", category)] == 2
    assert items(root, "vink") == {}
    # As a client it now keeps its invoices under the legal hold.
    assert set(items(root, "linde")) == {("invoicing_records", "2024-001")}
    assert until(held_by_rule(report)[("invoicing_records", "invoicing_records")]) == {
        "linde": datetime(2031, 6, 1, tzinfo=UTC)
    }
    # Its history from before the change is still there; the erasures are audited.
    assert audit(root, "linde")[: len(history)] == history
    erasures = [e for e in audit(root) if e["action"] == "sweep.erased"]
    assert sum(e["details"]["count"] for e in erasures) == 6
    assert all("linde" in e["details"]["subjects"] for e in erasures)


# -- S6: invoicing records under the legal hold ----------------------------------------------

HOLD_ENDS = datetime(2031, 6, 1, tzinfo=UTC)  # ENDED + P7Y


@pytest.fixture
def acme(root: Path) -> Path:
    """acme: a client that ended on ENDED, with office data, invoices and a contact person."""
    add(root, "acme", "client")
    add(root, "jan", "contact_person", organisation="acme")
    rows = [("acme", c, f, f"acme {f}", APPLIED) for c, f in OFFICE]
    rows += [
        ("acme", "invoicing_records", "2024-001", "EUR 1.250,00", APPLIED),
        ("acme", "invoicing_records", "2024-002", "EUR 80,00", datetime(2024, 5, 2, tzinfo=UTC)),
        ("jan", "person_name", "name", "Jan", APPLIED),
        ("jan", "person_contact", "email", "jan@acme.example", APPLIED),
    ]
    import_items(root, rows)
    event(root, "acme", "relation_ended", ENDED)
    event(root, "jan", "relation_ended", ENDED)
    return root


@pytest.mark.promise("S6")
def test_S6_legal_hold_keeps_invoicing_records_for_7_years_when_the_rest_is_erased(
    acme: Path,
) -> None:
    root = acme
    invoices = {("invoicing_records", "2024-001"), ("invoicing_records", "2024-002")}
    report = sweep_json(root, datetime(2025, 6, 1, tzinfo=UTC))
    erased = erased_by_rule(report)
    assert {k for k in erased if k[0] == "invoicing_records"} == set()
    assert erased[("office_details", "office_identity")] == 1
    assert erased[("contact_persons", "person_name")] == 1
    # Every other item of the client and its person is gone; the invoices stay.
    assert set(items(root, "acme")) == invoices
    assert items(root, "jan") == {}
    held = held_by_rule(report)[("invoicing_records", "invoicing_records")]
    assert held["kind"] == "legal_hold"
    assert held["ground"] == LAW.law
    assert held["count"] == 2
    assert until(held) == {"acme": HOLD_ENDS}
    text = sweep(root, datetime(2025, 6, 2, tzinfo=UTC), "--dry-run").stdout
    assert (
        f"held by rule invoicing_records: 2 invoicing_records items in main of 1 subject, "
        f"legal hold: {LAW.law}, until 2031-06-01"
    ) in text

    assert sweep_json(root, HOLD_ENDS - SECOND)["total"] == 0
    assert set(items(root, "acme")) == invoices
    report = sweep_json(root, HOLD_ENDS)
    assert erased_by_rule(report) == {("invoicing_records", "invoicing_records"): 2}
    assert report["held"] == []
    assert items(root, "acme") == {}


# -- the report -------------------------------------------------------------------------------


def test_the_report_and_the_audit_name_only_the_subjects_whose_items_went(root: Path) -> None:
    # ann and bob are due under the same rule, but only ann has data left: bob's was
    # never stored (it could as well have been erased by an earlier sweep).
    for name in ("ann", "bob"):
        add(root, name, "applicant")
        event(root, name, "rejected", REJECTED)
    import_items(root, [("ann", "application", "cv", "cv", APPLIED)])
    report = sweep_json(root, D_3M)
    assert [(e["count"], e["subjects"]) for e in report["erased"]] == [(1, ["ann"])]
    (entry,) = [e for e in audit(root) if e["action"] == "sweep.erased"]
    assert entry["details"]["subjects"] == ["ann"]
    assert entry["subject_id"] == "ann"  # found by `audit show --subject ann`
    assert [e["action"] for e in audit(root, "bob")] == ["subject.added", "subject.event"]


def all_subjects(root: Path) -> dict[str, Any]:
    listed = json.loads(ok("subject", "list", "-w", root, "--format", "json").stdout)
    return {
        s["id"]: json.loads(show(s["id"], "--format", "json", root=root).stdout) for s in listed
    }


def test_the_dry_run_changes_nothing_and_plans_what_the_sweep_then_does(acme: Path) -> None:
    root = acme
    now = datetime(2025, 6, 1, tzinfo=UTC)
    before = all_subjects(root)
    trail = audit(root)  # after the reads, which are audited (S12)
    plan = sweep_json(root, now, "--dry-run")
    sweep(root, now, "--dry-run")
    assert plan["total"] == 5
    assert audit(root) == trail  # not even an audit entry
    assert all_subjects(root) == before
    report = sweep_json(root, now)
    assert report["dry_run"] is False
    assert report["erased"] == plan["erased"]
    assert report["held"] == plan["held"]
    assert all_subjects(root) != before


def test_json_report_parses_with_every_field(acme: Path) -> None:
    report = sweep_json(acme, datetime(2025, 6, 1, tzinfo=UTC))
    assert set(report) == {
        "now",
        "dry_run",
        "ok",
        "total",
        "recovered",
        "erased",
        "held",
        "failures",
    }
    assert datetime.fromisoformat(report["now"]) == datetime(2025, 6, 1, tzinfo=UTC)
    assert report["ok"] is True
    assert report["recovered"] == 0
    assert report["failures"] == []
    assert report["total"] == sum(e["count"] for e in report["erased"]) == 5
    for e in report["erased"]:
        assert set(e) == {"rule", "store", "category", "action", "count", "subjects"}
        assert e["store"] == "main"
        assert e["action"] == "erase"
    for h in report["held"]:
        assert set(h) == {"rule", "store", "category", "kind", "ground", "count", "until"}


def test_text_report_lists_rules_and_ends_with_a_summary_line(acme: Path) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    plan = sweep(acme, now, "--dry-run").stdout.splitlines()
    assert plan[0] == f"Plan at {now.isoformat()} (dry run: nothing changed)"
    assert plan[-1] == "5 items due in 1 store; 2 held back; 0 stores failed"
    lines = sweep(acme, now).stdout.splitlines()
    assert lines[0] == f"Sweep at {now.isoformat()}"
    rule = "  rule office_details: 1 office_identity item erased (erase) in main; subjects: acme"
    assert rule in lines
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert lines[-1] == "5 items erased in 1 store; 2 held back; 0 stores failed"
    assert sweep(acme, now).stdout.splitlines()[-1] == (
        "0 items erased in 0 stores; 2 held back; 0 stores failed"
    )


def test_text_report_gives_end_dates_in_the_workspace_time_zone(root: Path) -> None:
    # The relation ends on 31 May 2024, Amsterdam time (22:00 UTC the day before): the
    # legal hold ends on 31 May 2031, and that is the date a reader must see.
    add(root, "acme", "client")
    import_items(root, [("acme", "invoicing_records", "2024-001", "EUR 1,00", APPLIED)])
    ok("subject", "event", "acme", "relation_ended", "--at", "2024-05-31", "-w", root)
    report = sweep_json(root, datetime(2025, 6, 1, tzinfo=UTC))
    ends = until(held_by_rule(report)[("invoicing_records", "invoicing_records")])["acme"]
    assert ends == datetime(2031, 5, 30, 22, 0, tzinfo=UTC)
    text = sweep(root, datetime(2025, 6, 1, tzinfo=UTC)).stdout
    assert "until 2031-05-31" in text, text


def test_now_without_an_offset_is_read_in_the_workspace_time_zone(root: Path) -> None:
    report = json.loads(ok("sweep", "-w", root, "--now", "2025-06-01", "--format", "json").stdout)
    assert report["now"] == "2025-06-01T00:00:00+02:00"  # Europe/Amsterdam, summer time


def test_a_malformed_now_is_refused_and_changes_nothing(root: Path) -> None:
    trail = audit(root)
    result = run("sweep", "-w", root, "--now", "next tuesday")
    assert result.exit_code == 1
    assert "not an ISO 8601 date or date-time" in result.output
    assert audit(root) == trail


# -- as a real process ------------------------------------------------------------------------


def test_as_a_process_without_a_tty_it_prints_no_progress_bar(acme: Path) -> None:
    done = run_process("sweep", "-w", acme, "--now", "2025-06-01T00:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for mark in PROGRESS_MARKS:
        assert mark not in done.stdout
    assert done.stdout.splitlines()[-1] == "5 items erased in 1 store; 2 held back; 0 stores failed"
    assert set(items(acme, "acme")) == {
        ("invoicing_records", "2024-001"),
        ("invoicing_records", "2024-002"),
    }
