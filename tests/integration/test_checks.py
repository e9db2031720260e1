"""`praclox-privacy check` on real workspaces: each kind of finding fails the build (exit 1)
naming its promise or article; a clean workspace passes (exit 0); usage and configuration
errors exit 2.

Every scenario runs at fixed instants in the past: data is written with a fixed workspace
clock and `check` runs with `--now`.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import append_config, run
from praclox_privacy.domain.periods import Period
from praclox_privacy.formats.documents.register import build_register
from praclox_privacy.formats.documents.statement import render_statement
from praclox_privacy.formats.policy import default_policy, default_policy_text
from praclox_privacy.ports import CONFIG_NAME
from praclox_privacy.services.checks import CheckStatus, run_checks
from praclox_privacy.services.requests import receive_request
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace

COLLECTED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)  # website account: due a month later
DUE = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)  # nothing due yet
LATE = DUE + timedelta(days=3)  # the account has been due 3 days: overdue


# -- helpers ------------------------------------------------------------------------------


def check(root: Path, now: datetime = NOW, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run("check", "-w", root, "--now", now.isoformat(), "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, data


def status(data: dict[str, Any], name: str) -> str:
    found: str = next(c["status"] for c in data["checks"] if c["check"] == name)
    return found


def problems(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    checked = next(c for c in data["checks"] if c["check"] == name)
    return [f for f in checked["findings"] if not f["ok"]]


def only_failure(data: dict[str, Any]) -> str:
    failed = [c["check"] for c in data["checks"] if c["status"] == "failed"]
    assert len(failed) == 1, failed
    return failed[0]


def opened(root: Path, at: datetime = COLLECTED) -> Workspace:
    return Workspace.open(root, clock=lambda: at)


def populate(root: Path) -> None:
    """A client with a contact person, and a website user whose account closed."""
    with opened(root) as ws:
        ws.add_subject(["client"], subject_id="office-1", name="Tandartspraktijk De Kies")
        ws.add_subject(
            ["contact_person"],
            subject_id="person-1",
            organisation="office-1",
            name="Anna de Vries",
            email="anna@example.nl",
        )
        ws.add_subject(["website_user"], subject_id="web-1", email="web@example.nl")
        ws.record_event("web-1", "account_closed", CLOSED)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    Workspace.init(folder)
    populate(folder)
    return folder


def commit_documents(root: Path) -> None:
    policy = default_policy()
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "privacy.nl.md").write_text(render_statement(policy, "nl"), encoding="utf-8")
    (docs / "register.csv").write_text(build_register(policy, "nl").to_csv(), encoding="utf-8")
    append_config(
        root, '\n[check]\nstatement = "docs/privacy.nl.md"\nregister = "docs/register.csv"\n'
    )


# -- a clean workspace --------------------------------------------------------------------


def test_a_clean_workspace_passes_every_check(root: Path) -> None:
    commit_documents(root)
    from praclox_privacy.domain.requests import Identity

    with opened(root, NOW) as ws:  # an open request within its deadline
        receive_request(ws, "access", [Identity("email", "anna@example.nl")], now=NOW)
    code, data = check(root)
    assert code == 0, json.dumps(data, indent=2)
    assert data["ok"] is True
    assert {c["check"]: c["status"] for c in data["checks"]} == {
        "policy": "passed",
        "transparency": "passed",
        "stores.reachable": "passed",
        "stores.categories": "passed",
        "retention.overdue": "passed",
        "requests.deadlines": "passed",
        "documents.statement": "passed",
        "documents.register": "passed",
    }


def test_the_text_report_names_every_check_and_passes(root: Path) -> None:
    result = run("check", "-w", root, "--now", NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert "PASS  stores.categories" in result.stdout
    assert "SKIP  documents.statement" in result.stdout
    assert result.stdout.rstrip().endswith("ok: 6 passed, 0 failed, 2 skipped")


def test_run_checks_in_python(root: Path) -> None:
    with opened(root, NOW) as ws:
        report = run_checks(ws)
    assert report.ok
    assert report.now == NOW
    assert report.result("documents.register").status is CheckStatus.SKIPPED


# -- the policy ---------------------------------------------------------------------------


@pytest.mark.promise("S1")
def test_an_invalid_policy_fails_with_s1(root: Path) -> None:
    broken = default_policy_text().replace('after = ["account_closed"]', 'after = ["vanished"]')
    (root / "policy.toml").write_text(broken, encoding="utf-8")
    config = root / CONFIG_NAME
    config.write_text(
        config.read_text(encoding="utf-8").replace('policy = "default"', 'policy = "policy.toml"'),
        encoding="utf-8",
    )
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "policy"
    found = problems(data, "policy")
    assert {f["ref"] for f in found} == {"S1"}
    assert any("vanished" in f["message"] for f in found)
    assert status(data, "transparency") == "skipped"


@pytest.mark.promise("S1")
def test_an_invalid_policy_file_without_a_workspace_fails(tmp_path: Path) -> None:
    broken = tmp_path / "policy.toml"
    broken.write_text(default_policy_text().replace('id = "rejected"', 'id = "x"'), "utf-8")
    result = run("check", "--policy", broken)
    assert result.exit_code == 1, result.output
    assert "FAIL  policy" in result.stdout
    assert "[S1]" in result.stdout


def test_a_missing_art13_element_fails_naming_the_article(root: Path) -> None:
    text = default_policy_text()
    old = 'not_applicable = ["recipients", "third_country_transfers", "automated_decisions"]'
    assert old in text
    (root / "policy.toml").write_text(
        text.replace(old, 'not_applicable = ["recipients", "third_country_transfers"]'), "utf-8"
    )
    config = root / CONFIG_NAME
    config.write_text(
        config.read_text(encoding="utf-8").replace('policy = "default"', 'policy = "policy.toml"'),
        encoding="utf-8",
    )
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "transparency"
    (found,) = problems(data, "transparency")
    assert found["ref"] == "Art. 13(2)(f), 14(2)(g) GDPR"
    assert found["details"]["element"] == "automated_decisions"


# -- stores -------------------------------------------------------------------------------


def raw_item(ws: Workspace, subject_id: str, category: str, field: str, value: str) -> None:
    """Write an item behind the store's back, as a buggy integration would."""
    t = ws.ledger.database.tables.items
    with ws.ledger.database.begin() as conn:
        conn.execute(
            t.insert().values(
                subject_id=subject_id,
                category=category,
                field=field,
                value=value,
                collected_at=COLLECTED,
                purposes="",
            )
        )


@pytest.mark.promise("S11")
def test_an_ephemeral_category_in_a_store_fails_with_s11(root: Path) -> None:
    with opened(root) as ws:
        raw_item(ws, "person-1", "search_parameters", "query", "tandarts utrecht")
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "stores.categories"
    (found,) = problems(data, "stores.categories")
    assert found["ref"] == "S11"
    assert found["details"] == {"store": "main", "category": "search_parameters", "count": 1}
    assert "ephemeral" in found["message"]


@pytest.mark.promise("S1")
def test_a_category_not_declared_for_the_relation_type_fails_with_s1(root: Path) -> None:
    with opened(root) as ws:
        # The person's e-mail address stays when they are no longer a contact person.
        ws.set_relation_types("person-1", ["website_user"])
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "stores.categories"
    found = problems(data, "stores.categories")
    assert {f["ref"] for f in found} == {"S1"}
    assert {f["details"]["category"] for f in found} == {"person_name", "person_contact"}
    assert all(f["details"]["subjects"] == ["person-1"] for f in found)
    assert all(f["details"]["relation_types"] == ["website_user"] for f in found)


@pytest.mark.promise("S1")
def test_items_of_an_unregistered_subject_and_undeclared_category_fail(root: Path) -> None:
    with opened(root) as ws:
        raw_item(ws, "ghost-1", "person_contact", "email", "ghost@example.nl")
        raw_item(ws, "person-1", "shoe_size", "size", "42")
    code, data = check(root)
    assert code == 1
    messages = [f["message"] for f in problems(data, "stores.categories")]
    assert any("not registered" in m and "person_contact" in m for m in messages)
    assert any("'shoe_size', which the policy does not declare" in m for m in messages)


def test_an_unreachable_store_fails(root: Path) -> None:
    append_config(root, '\n[stores.archive]\nplugin = "files"\npath = "archive"\n')
    append_config(
        root, '\n[stores.down]\nplugin = "sql"\nurl = "postgresql+psycopg://u@127.0.0.1:1/x"\n'
    )
    code, data = check(root)
    assert code == 1
    found = problems(data, "stores.reachable")
    assert [f["details"]["store"] for f in found] == ["down"]
    assert found[0]["ref"] == "S1"
    assert "127.0.0.1" in found[0]["message"] or "port 1" in found[0]["message"]
    # The reachable store is still checked.
    assert status(data, "stores.categories") == "passed"


def test_an_unreachable_primary_store_fails(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root)
    config = root / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    start = text.index("url = ")
    config.write_text(
        text[:start] + 'url = "postgresql+psycopg://u@127.0.0.1:1/x"\n', encoding="utf-8"
    )
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "stores.reachable"
    assert status(data, "policy") == "skipped"


# -- retention ----------------------------------------------------------------------------


@pytest.mark.promise("S7")
def test_an_item_overdue_past_the_grace_fails_naming_the_rules_promises(root: Path) -> None:
    code, data = check(root, LATE)
    assert code == 1
    assert only_failure(data) == "retention.overdue"
    (found,) = problems(data, "retention.overdue")
    assert found["ref"] == "S5, S7"
    assert found["details"]["rule"] == "website_accounts"
    assert found["details"]["subjects"] == ["web-1"]
    assert found["details"]["count"] == 1


def test_within_the_grace_period_nothing_is_overdue(root: Path) -> None:
    assert check(root, DUE + timedelta(hours=23))[0] == 0
    assert check(root, LATE, "--grace", "P1W")[0] == 0
    append_config(root, '\n[check]\ngrace = "P1W"\n')
    assert check(root, LATE)[0] == 0
    assert check(root, LATE, "--grace", "P1D")[0] == 1


def test_a_sweep_clears_the_overdue_finding(root: Path) -> None:
    with opened(root, LATE) as ws:
        run_sweep(ws)
    code, data = check(root, LATE)
    assert code == 0, data


def test_the_overdue_check_runs_in_small_batches(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import praclox_privacy.services.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "BATCH_SUBJECTS", 1)
    with opened(root, LATE) as ws:
        for i in range(3):
            ws.add_subject(["website_user"], subject_id=f"web-x{i}", email=f"x{i}@example.nl")
            ws.record_event(f"web-x{i}", "account_closed", CLOSED)
    with opened(root, LATE + timedelta(days=40)) as ws:
        report = run_checks(ws, grace=Period(days=1))
    (found,) = report.result("retention.overdue").problems
    assert found.details["count"] == 4


# -- requests -----------------------------------------------------------------------------


def test_a_request_past_its_deadline_fails_with_art_12(root: Path) -> None:
    from praclox_privacy.domain.requests import Identity

    with opened(root, NOW) as ws:
        late = receive_request(
            ws,
            "access",
            [Identity("email", "anna@example.nl")],
            now=NOW,
            received_at=datetime(2025, 1, 20, tzinfo=UTC),
        )
        receive_request(ws, "erasure", [Identity("email", "web@example.nl")], now=NOW)
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "requests.deadlines"
    (found,) = problems(data, "requests.deadlines")
    assert found["ref"] == "Art. 12(3) GDPR"
    assert found["details"]["request"] == late.id
    assert found["details"]["article"] == "Art. 15 GDPR"


# -- committed documents ------------------------------------------------------------------


@pytest.mark.promise("S1")
def test_a_stale_committed_statement_fails_with_a_diff(root: Path) -> None:
    commit_documents(root)
    path = root / "docs" / "privacy.nl.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Praclox", "Praclox B.V.", 1), "utf-8")
    code, data = check(root)
    assert code == 1
    assert only_failure(data) == "documents.statement"
    (found,) = problems(data, "documents.statement")
    assert found["ref"] == "S1"
    diff = found["details"]["diff"]
    assert "-" in diff
    assert any(line.startswith("-") and "Praclox B.V." in line for line in diff.splitlines())
    assert "praclox-privacy statement" in found["message"]
    text = run("check", "-w", root, "--now", NOW.isoformat())
    assert text.exit_code == 1
    assert "Praclox B.V." in text.stdout  # the diff is shown


def test_a_missing_or_stale_register_fails_with_art_30(root: Path) -> None:
    commit_documents(root)
    path = root / "docs" / "register.csv"
    path.unlink()
    code, data = check(root)
    assert code == 1
    (found,) = problems(data, "documents.register")
    assert found["ref"] == "Art. 30(1) GDPR"
    assert "does not exist" in found["message"]
    # Line endings and a byte order mark do not count; content does.
    path.write_text(
        "\ufeff" + build_register(default_policy(), "nl").to_csv().replace("\r\n", "\n"), "utf-8"
    )
    assert check(root)[0] == 0
    path.write_text(build_register(default_policy(), "en").to_csv(), "utf-8")
    assert check(root)[0] == 1


# -- exit code 2 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ("--format", "xml"),
        ("--grace", "a day"),
        ("--now", "yesterday"),
        ("--bogus",),
    ],
)
def test_usage_errors_exit_2(root: Path, extra: tuple[str, ...]) -> None:
    result = run("check", "-w", root, *extra)
    assert result.exit_code == 2, result.output


def test_usage_errors_exit_2_without_a_workspace(tmp_path: Path) -> None:
    assert run("check", "--grace", "soon").exit_code == 2
    assert run("check", "--now", "soon").exit_code == 2
    assert run("check", "-w", tmp_path).exit_code == 2  # no praclox-privacy.toml there
    assert run("check", "--policy", tmp_path / "missing.toml").exit_code == 2


@pytest.mark.parametrize(
    ("table", "location"),
    [
        ('grace = "a day"', "check.grace"),
        ('statement = "privacy.txt"', "check.statement"),
        ('register_lang = "de"', "check.register_lang"),
        ("surprise = 1", "check.surprise"),
    ],
)
def test_a_bad_check_table_exits_2_naming_the_key(root: Path, table: str, location: str) -> None:
    append_config(root, f"\n[check]\n{table}\n")
    result = run("check", "-w", root)
    assert result.exit_code == 2, result.output
    assert location in result.stderr


def test_a_bad_workspace_config_exits_2(root: Path) -> None:
    append_config(root, '\n[stores.crm]\nplugin = "nonexistent"\n')
    result = run("check", "-w", root)
    assert result.exit_code == 2
    assert "stores.crm.plugin" in result.stderr


# -- several findings at once -------------------------------------------------------------


def test_every_kind_of_finding_at_once(root: Path) -> None:
    from praclox_privacy.domain.requests import Identity

    commit_documents(root)
    (root / "docs" / "register.csv").write_text("stale\n", "utf-8")
    with opened(root, NOW) as ws:
        raw_item(ws, "person-1", "search_parameters", "query", "x")
        ws.set_relation_types("office-1", ["website_user"])
        receive_request(
            ws,
            "erasure",
            [Identity("email", "web@example.nl")],
            now=NOW,
            received_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
    code, data = check(root, LATE)
    assert code == 1

    def refs(name: str) -> set[str]:
        return {f["ref"] for f in problems(data, name)}

    assert refs("stores.categories") == {"S1", "S11"}
    assert refs("retention.overdue") == {"S5, S7"}
    assert refs("requests.deadlines") == {"Art. 12(3) GDPR"}
    assert refs("documents.register") == {"Art. 30(1) GDPR"}
    assert status(data, "documents.statement") == "passed"


# -- recordings an application keeps in its own tables (S13) -------------------------------


def test_S13_a_recording_in_a_mapped_table_without_prior_consent_fails_the_check(
    tmp_path: Path,
) -> None:
    """Issue 16, item 15: the library refuses to store a recording without that person's
    prior consent (S13), but an application writes its own tables: `check` flags the
    mapped recording column of each person without a prior `recording` consent."""
    import sqlalchemy as sa

    from praclox_privacy import Consent, Evidence

    app = tmp_path / "app.db"
    engine = sa.create_engine(f"sqlite:///{app}")
    metadata = sa.MetaData()
    calls = sa.Table(
        "call_notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("recording", sa.Text),
        sa.Column("recorded_at", sa.DateTime),
        sa.Column("left_on", sa.Date),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            calls.insert(),
            [
                {"id": 1, "full_name": "Anna", "recording": "call-17.ogg",
                 "recorded_at": datetime(2025, 2, 1, 10)},  # noqa: DTZ001
                {"id": 2, "full_name": "Bram", "recording": "call-18.ogg",
                 "recorded_at": datetime(2025, 2, 2, 10)},  # noqa: DTZ001
                {"id": 3, "full_name": "Cor", "recording": None, "recorded_at": None},
            ],
        )  # fmt: skip
    engine.dispose()
    (tmp_path / "mapping.toml").write_text(
        """
[[table]]
name = "call_notes"
relation_type = "contact_person"
subject_prefix = "caller-"
collected = "recorded_at"
events = { relation_ended = "left_on" }
[table.columns]
full_name = { category = "person_name", field = "name" }
recording = { category = "recording" }
""",
        encoding="utf-8",
    )
    root = tmp_path / "ws"
    Workspace.init(root)
    append_config(
        root, f'\n[stores.app]\nplugin = "sql-mapped"\nurl = "sqlite:///{app}"\n'
        f'mapping = "{tmp_path / "mapping.toml"}"\n'
    )  # fmt: skip
    with opened(root, NOW) as ws:
        ws.sync_subjects("app")
        ws.ledger.add_consent(
            Consent(
                "caller-1",
                "recording",
                datetime(2025, 1, 31, 9, 0, tzinfo=UTC),  # before Anna's call
                Evidence("phone", "May we record this call?", "call-17"),
                scope="call-17",
            )
        )
    code, data = check(root)
    assert code == 1
    (found,) = [f for f in problems(data, "stores.categories") if f["ref"] == "S13"]
    assert found["details"]["subjects"] == ["caller-2"]
    assert found["details"]["category"] == "recording"
    assert "'app'" in found["message"]
