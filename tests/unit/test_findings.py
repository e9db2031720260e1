"""The pure part of `check`: findings, results and the overdue computation."""

from datetime import UTC, datetime, timedelta

import pytest

from praclox_privacy.domain.errors import Problem
from praclox_privacy.domain.findings import (
    CHECKS,
    CheckReport,
    CheckResult,
    CheckStatus,
    Finding,
    category_findings,
    document_findings,
    overdue_findings,
    overdue_since,
    policy_findings,
    request_findings,
)
from praclox_privacy.domain.periods import Period
from praclox_privacy.domain.policy import RetentionAction
from praclox_privacy.domain.records import Consent, Item, ItemKey, Subject
from praclox_privacy.domain.retention import Status, decide
from praclox_privacy.domain.sweep_plan import DueSelection, plan_sweep
from praclox_privacy.formats.jsonout import to_json
from praclox_privacy.formats.policy import default_policy

POLICY = default_policy()
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_a_result_fails_only_on_problems() -> None:
    note = Finding("policy", True, "S1", "a warning")
    problem = Finding("stores.categories", False, "S11", "ephemeral")
    assert CheckResult.of("policy", [note], "fine").status is CheckStatus.PASSED
    failed = CheckResult.of("stores.categories", [note, problem], "fine")
    assert failed.status is CheckStatus.FAILED
    assert failed.problems == (problem,)
    assert failed.summary == "1 problem (S11)"
    assert failed.title == CHECKS["stores.categories"][0]


def test_refs_in_a_summary_are_ordered_promises_first() -> None:
    found = [
        Finding("x", False, "Art. 5(1)(e) GDPR", "a"),
        Finding("x", False, "S11", "b"),
        Finding("x", False, "S2", "c"),
    ]
    assert CheckResult.of("policy", found, "").summary == "3 problems (S2, S11, Art. 5(1)(e) GDPR)"


def test_a_report_is_ok_unless_a_check_failed() -> None:
    passed = CheckResult.of("policy", [], "ok")
    skipped = CheckResult.skipped("documents.register", "not configured")
    assert CheckReport("ws", NOW, (passed, skipped)).ok
    failed = CheckResult.of("transparency", [Finding("transparency", False, "Art. 13", "m")], "")
    report = CheckReport("ws", NOW, (passed, skipped, failed))
    assert not report.ok
    assert (report.count(CheckStatus.PASSED), report.count(CheckStatus.FAILED)) == (1, 1)
    data = to_json(report)
    assert data["failed"] == 1
    assert data["checks"][2]["findings"][0]["ref"] == "Art. 13"
    with pytest.raises(KeyError):
        report.result("stores.reachable")


def test_policy_problems_are_s1_and_warnings_do_not_fail() -> None:
    found = policy_findings(
        [
            Problem("retention[0].after", "event 'x' is not declared"),
            Problem("category[2]", "unused", "unused-category", "warning"),
        ],
        "policy.toml",
    )
    assert [(f.ok, f.ref) for f in found] == [(False, "S1"), (True, "S1")]
    assert found[0].message == "policy.toml: retention[0].after: event 'x' is not declared"


# -- categories ---------------------------------------------------------------------------


def test_categories_ephemeral_undeclared_and_wrong_relation_type() -> None:
    keys = [
        ItemKey("p1", "person_contact", "email"),  # fine for a contact person
        ItemKey("w1", "person_contact", "email"),  # not for a website user
        ItemKey("w1", "person_name", "name"),
        ItemKey("ghost", "website_account", "email"),  # not registered
    ]
    types = {"p1": frozenset({"contact_person"}), "w1": frozenset({"website_user"})}
    held = {"person_contact": 2, "person_name": 1, "search_parameters": 3, "shoe_size": 1}
    found = category_findings("main", POLICY, held, keys, types)
    by_ref = sorted((f.ref, f.details.get("category")) for f in found)
    assert by_ref == [
        ("S1", "person_contact"),
        ("S1", "person_name"),
        ("S1", "shoe_size"),
        ("S1", "website_account"),
        ("S11", "search_parameters"),
    ]
    ghost = next(f for f in found if f.details.get("category") == "website_account")
    assert "not registered" in ghost.message
    assert not any(f.ok for f in found)


def test_a_subject_with_one_declaring_relation_type_is_fine() -> None:
    keys = [ItemKey("p1", "website_account", "email")]
    types = {"p1": frozenset({"contact_person", "website_user"})}
    assert category_findings("main", POLICY, {"website_account": 1}, keys, types) == []


# -- overdue ------------------------------------------------------------------------------


def test_overdue_since_is_now_minus_the_grace_in_calendar_units() -> None:
    assert overdue_since(NOW, Period(days=1)) == NOW - timedelta(days=1)
    assert overdue_since(datetime(2025, 3, 31, tzinfo=UTC), Period(months=1)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="no timezone"):
        overdue_since(datetime(2025, 1, 1), Period(days=1))  # noqa: DTZ001


def _plan_at(subjects: list[Subject], at: datetime) -> list[DueSelection]:
    consents: dict[str, list[Consent]] = {}
    return list(plan_sweep(subjects, consents, POLICY, at).selections)


@pytest.mark.parametrize("late", [timedelta(hours=1), timedelta(days=1), timedelta(days=3)])
def test_overdue_means_due_for_at_least_the_grace(late: timedelta) -> None:
    """The plan at now - grace selects exactly the items `decide` says were due then."""
    closed = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    due = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
    user = Subject("web-1", {"website_user"}).with_event("account_closed", closed)
    item = Item(
        "web-1", "website_account", "email", "w@example.nl", datetime(2025, 1, 1, tzinfo=UTC)
    )
    now = due + late
    grace = Period(days=1)
    since = overdue_since(now, grace)
    selections = _plan_at([user], since)
    selected = any(s.category == item.category and "web-1" in s.subject_ids for s in selections)
    assert selected == (late >= timedelta(days=1))
    assert selected == (decide(item, user, [], POLICY, since).status is Status.DUE)


def test_overdue_findings_name_the_rules_sources_and_sum_batches() -> None:
    selection = DueSelection(
        "website_accounts", RetentionAction.ERASE, "website_account", NOW, ("a", "b")
    )
    found = overdue_findings(
        "main",
        POLICY,
        [(selection, 1, ["a"]), (selection, 2, ["b"]), (selection, 0, [])],
        NOW,
        Period(days=1),
    )
    (finding,) = found
    assert finding.ref == "S5, S7"
    assert finding.details["count"] == 3
    assert finding.details["subjects"] == ["a", "b"]
    assert "is the sweep running?" in finding.message


def test_a_rule_without_a_source_falls_back_to_storage_limitation() -> None:
    selection = DueSelection("unknown_rule", RetentionAction.ANONYMISE, "x", NOW, ("a",))
    (finding,) = overdue_findings("main", POLICY, [(selection, 1, ["a"])], NOW, Period(days=1))
    assert finding.ref == "Art. 5(1)(e) GDPR"
    assert "anonymised" in finding.message


# -- requests and documents ---------------------------------------------------------------


def test_overdue_requests_cite_article_12() -> None:
    deadline = NOW - timedelta(days=4, hours=2)
    (finding,) = request_findings([("r-1", "erasure", "Art. 17 GDPR", deadline)], NOW)
    assert finding.ref == "Art. 12(3) GDPR"
    assert finding.details["days_late"] == 4
    assert "4 days late" in finding.message


def test_documents_compare_without_line_endings_and_bom() -> None:
    assert (
        document_findings(
            "documents.register", "Art. 30", "r.csv", "\ufeffa\r\nb\r\n", "a\nb\n", "cmd"
        )
        == []
    )
    (missing,) = document_findings("documents.register", "Art. 30", "r.csv", None, "a\n", "cmd")
    assert "does not exist" in missing.message
    (stale,) = document_findings("documents.statement", "S1", "s.md", "a\nold\n", "a\nnew\n", "cmd")
    assert stale.ref == "S1"
    assert "-old\n+new\n" in stale.details["diff"]
    assert "1 line changed" not in stale.message  # a replaced line is one removal, one addition
    assert "2 lines changed" in stale.message
