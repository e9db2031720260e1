"""The consent, disclosure, staff, guard and agreement commands (S7, S9, S10, S12, S13)."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import ok, run, show


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ok("init", tmp_path)
    w = ("-w", tmp_path)
    ok("subject", "add", "--relation", "client", "--id", "acme", "--name", "Acme", *w)
    ok(
        "subject", "add", "--relation", "contact_person", "--id", "jan",
        "--organisation", "acme", "--email", "jan@acme.example", *w,
    )  # fmt: skip
    ok("subject", "add", "--relation", "website_user", "--id", "anna", *w)
    return tmp_path


def actions(ws: Path) -> list[str]:
    entries = json.loads(ok("audit", "show", "-w", ws, "--format", "json").output)
    return [e["action"] for e in entries]


@pytest.mark.promise("S7")
def test_S7_consent_grant_withdraw_show_and_receipt(ws: Path) -> None:
    w = ("-w", ws)
    granted = ok("consent", "grant", "anna", "newsletter", "--method", "web form", *w)
    assert granted.output.startswith("consent 1: anna granted newsletter")
    shown = json.loads(ok("consent", "show", "anna", "--format", "json", *w).output)
    assert shown[0]["withdrawn_at"] is None
    assert shown[0]["text"].startswith("Ja, stuur mij")
    early = run("consent", "withdraw", "anna", "newsletter", "--at", "2020-03-02T10:00", *w)
    assert early.exit_code == 1
    assert "cannot be withdrawn before it was given" in early.output
    ok("consent", "withdraw", "anna", "newsletter", *w)
    shown = json.loads(ok("consent", "show", "anna", "--format", "json", *w).output)
    assert shown[0]["withdrawn_at"] is not None
    assert "withdrawn" in ok("consent", "show", "anna", *w).output
    assert "nothing withdrawn" in ok("consent", "withdraw", "anna", "newsletter", *w).output
    receipt = json.loads(ok("consent", "receipt", "1", *w).output)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiPrincipalId"] == "anna"
    bad = run("consent", "grant", "anna", "spam", "--method", "x", *w)
    assert bad.exit_code == 1
    assert "not declared" in bad.output


@pytest.mark.promise("S9")
def test_S9_disclosure_request_decide_list(ws: Path) -> None:
    w = ("-w", ws)
    made = json.loads(
        ok(
            "disclosure", "request", "jan", "--requester", "Acme Marketing BV",
            "--data", "person_contact", "--reason", "mailing", "--format", "json", *w,
        ).output
    )  # fmt: skip
    assert made["status"] == "pending"
    refused = run("disclosure", "carry-out", made["id"], *w)
    assert refused.exit_code == 1
    assert "pending, not consented" in refused.output
    assert "consented" in ok("disclosure", "decide", made["id"], "consent", *w).output
    listed = json.loads(ok("disclosure", "list", "--format", "json", *w).output)
    assert [r["status"] for r in listed] == ["consented"]
    assert "disclosed" in ok("disclosure", "carry-out", made["id"], *w).output
    later = ok(
        "disclosure", "request", "jan", "--requester", "Other", "--data", "person_name",
        "--reason", "x", "--at", "2026-01-01", *w,
    )  # fmt: skip
    request_id = later.output.split(":")[0]
    expired = ok("disclosure", "list", "--status", "expired", *w).output
    assert request_id in expired
    assert run("disclosure", "decide", request_id, "consent", *w).exit_code == 1
    assert {"disclosure.requested", "disclosure.blocked", "disclosure.disclosed"} <= set(
        actions(ws)
    )


@pytest.mark.promise("S12")
def test_S12_staff_and_guard_check(ws: Path) -> None:
    w = ("-w", ws)
    ok(
        "staff", "add", "anna", "--name", "Anna", "--employment", "permanent",
        "--confidentiality-signed", "2020-01-01", "--started", "2019-12-01", *w,
    )  # fmt: skip
    ok(
        "staff", "add", "tim", "--name", "Tim", "--employment", "temporary",
        "--confidentiality-signed", "2020-01-01", "--started", "2019-12-01", *w,
    )  # fmt: skip
    listed = json.loads(ok("staff", "list", "--format", "json", *w).output)
    assert [(m["id"], m["employment"]) for m in listed] == [
        ("anna", "permanent"),
        ("tim", "temporary"),
    ]
    refused = run("guard", "check", "anna", "acme", *w)
    assert refused.exit_code == 1
    assert "no confidentiality agreement with client" in refused.output
    ok("agreement", "record", "acme", "--kind", "confidentiality", "--agreed-at", "2020-01-01", *w)
    assert "allowed" in ok("guard", "check", "anna", "acme", *w).output
    temp = run("guard", "check", "tim", "acme", "--format", "json", *w)
    assert temp.exit_code == 1
    assert json.loads(temp.output)["allowed"] is False
    assert actions(ws)[-4:] == [
        "guard.refused",
        "agreement.recorded",
        "guard.allowed",
        "guard.refused",
    ]


@pytest.mark.promise("S10")
def test_S10_agreement_record_used_and_sweep(ws: Path) -> None:
    w = ("-w", ws)
    item = ("data", "add", "acme", "client_system_data", "dump.sql", "rows", *w)
    refused = run(*item)
    assert refused.exit_code == 1
    assert "no 'client_data_transfer' agreement" in refused.output
    ok(
        "agreement", "record", "acme", "--kind", "client_data_transfer",
        "--scope", "debug the import", "--agreed-at", "2020-01-01", *w,
    )  # fmt: skip
    ok(*item)
    listed = json.loads(ok("agreement", "list", "acme", "--format", "json", *w).output)
    assert listed[0]["scope"] == "debug the import"
    used = ok("agreement", "used", "acme", *w)
    assert "the sweep erases" in used.output
    later = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    assert "0 items erased" in ok("sweep", *w).output
    ok("sweep", "--now", later, *w)
    shown = json.loads(show("acme", "--format", "json", root=w[1]).output)
    assert [i["category"] for i in shown["items"]["main"]] == ["office_identity"]


@pytest.mark.promise("S13")
def test_S13_recording_needs_prior_consent(ws: Path) -> None:
    w = ("-w", ws)
    refused = run("data", "add", "jan", "recording", "call-1", "audio.ogg", *w)
    assert refused.exit_code == 1
    assert "no prior 'recording' consent" in refused.output
    ok(
        "consent", "grant", "jan", "recording", "--method", "phone", "--scope", "call-1",
        "--at", "2020-01-01", *w,
    )  # fmt: skip
    ok("data", "add", "jan", "recording", "call-1", "audio.ogg", *w)


@pytest.mark.promise("S12")
def test_S12_subject_show_of_client_data_asks_who_reads(tmp_path: Path) -> None:
    """Issue 16, item 14: `subject show` of a client or its contact person needs --as STAFF
    (or PRACLOX_PRIVACY_STAFF); the guard decides and audits it."""
    w = ("-w", tmp_path)
    ok("init", tmp_path)
    ok("subject", "add", "--relation", "client", "--id", "acme", "--name", "Acme", *w)
    ok("subject", "add", "--relation", "contact_person", "--id", "jan", "--organisation",
       "acme", "--name", "Jan", *w)  # fmt: skip
    ok("subject", "add", "--relation", "website_user", "--id", "web-1", "--email",
       "web@example.org", *w)  # fmt: skip
    asked = run("subject", "show", "jan", *w)
    assert asked.exit_code == 2
    assert "--as STAFF" in asked.stderr
    assert "Jan" not in asked.output
    refused = run("subject", "show", "jan", "--as", "nobody", *w)
    assert refused.exit_code == 1
    assert "not in the staff register" in refused.stderr
    assert "web@example.org" in ok("subject", "show", "web-1", *w).output  # no client data
    ok("staff", "add", "anna", "--name", "Anna", "--employment", "permanent",
       "--confidentiality-signed", "2020-01-01", "--started", "2020-01-01", *w)  # fmt: skip
    ok("agreement", "record", "acme", "--kind", "confidentiality", "--agreed-at", "2020-01-01",
       *w)  # fmt: skip
    shown = ok("subject", "show", "jan", "--as", "anna", *w).output
    assert "person_name.name = Jan" in shown
    entries = json.loads(ok("audit", "show", "--subject", "jan", "--format", "json", *w).output)
    assert entries[-1]["action"] == "items.read"
    assert entries[-1]["actor"] == "anna"
    promoted = run("staff", "add", "tim", "--name", "Tim", "--employment", "temporary", *w)
    assert promoted.exit_code == 0
    refused = run("staff", "add", "tim", "--name", "Tim", "--employment", "permanent", *w)
    assert refused.exit_code == 1
    assert "--reason" in refused.stderr
    ok("staff", "add", "tim", "--name", "Tim", "--employment", "permanent", "--reason",
       "permanent contract", *w)  # fmt: skip
