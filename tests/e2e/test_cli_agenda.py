"""`praclox-privacy agenda` and `agenda sync`, through click's runner (S8)."""

import json
from pathlib import Path

import pytest
import tomli_w

from helpers import append_config, ok, run, show

pytestmark = pytest.mark.promise("S8")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ok("init", root)
    ok(
        "subject",
        "add",
        "--relation",
        "client",
        "--id",
        "client-1",
        "--name",
        "Kantoor",
        "-w",
        root,
    )
    for person, name in (("person-1", "Jan Jansen"), ("person-2", "Els de Boer")):
        ok(
            "subject", "add", "--relation", "contact_person", "--id", person, "--name", name,
            "--organisation", "client-1", "-w", root,
        )  # fmt: skip
    for subject, field, value in (
        ("person-1", "birthday", "1980-02-29"),
        ("person-1", "child_birthday:Noor", "2015-12-28"),
        ("person-1", "wedding_date", "2006-01-02"),
        ("person-2", "birthday", "1975-12-24"),
    ):
        ok("data", "add", subject, "life_events", field, value, "-w", root)
    return root


def test_S8_agenda_lists_upcoming_congratulations_across_the_new_year(workspace: Path) -> None:
    result = ok("agenda", "--now", "2026-12-20T09:00", "-w", workspace)
    lines = result.stdout.splitlines()
    assert lines == [
        "Congratulations from 2026-12-20 through 2027-01-03: 3",
        "  2026-12-24  Els de Boer's birthday (51)",
        "  2026-12-28  birthday of Noor (11), child of Jan Jansen",
        "  2027-01-02  Jan Jansen's wedding anniversary (21)",
    ]


def test_S8_agenda_json_and_leap_day(workspace: Path) -> None:
    for leap_day, day in (("feb28", "2027-02-28"), ("mar1", "2027-03-01")):
        result = ok(
            "agenda", "--now", "2027-02-20T12:00", "--days", "10", "--leap-day", leap_day,
            "--format", "json", "-w", workspace,
        )  # fmt: skip
        data = json.loads(result.stdout)
        assert [(e["date"], e["subject_id"], e["kind"], e["years"]) for e in data["entries"]] == [
            (day, "person-1", "birthday", 47)
        ]
        assert data["leap_day"] == leap_day


def test_S8_agenda_leaves_out_objections(workspace: Path) -> None:
    ok("request", "object", "person-2", "--purpose", "congratulations", "-w", workspace)
    result = ok("agenda", "--now", "2026-12-20T09:00", "--format", "json", "-w", workspace)
    data = json.loads(result.stdout)
    assert {e["subject_id"] for e in data["entries"]} == {"person-1"}
    assert "person-2" in data["excluded"]
    assert "congratulations" in data["excluded"]["person-2"]


def test_S8_agenda_exports_ics(workspace: Path, tmp_path: Path) -> None:
    icalendar = pytest.importorskip("icalendar")
    target = tmp_path / "agenda.ics"
    result = ok("agenda", "--now", "2026-12-20T09:00", "--ics", target, "-w", workspace)
    assert f"wrote {target}" in result.stdout
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert len(events) == 4
    assert {str(e["summary"]) for e in events} >= {"Jan Jansen's wedding anniversary"}


def test_agenda_sync_without_a_caldav_store_says_so(workspace: Path) -> None:
    result = run("agenda", "sync", "-w", workspace)
    assert result.exit_code == 1
    assert "no caldav store" in result.output


# -- with a real Radicale ---------------------------------------------------------------


def _add_agenda(root: Path, table: dict[str, object]) -> None:
    append_config(root, "\n" + tomli_w.dumps({"stores": {"agenda": table}}))


def test_S8_agenda_sync_twice_then_erasure(workspace: Path, radicale: object) -> None:
    from caldav_server import Radicale

    assert isinstance(radicale, Radicale)
    _add_agenda(workspace, radicale.settings("cli-agenda"))
    first = ok("agenda", "sync", "-w", workspace)
    assert first.stdout.strip() == "agenda: 4 written, 0 removed, 0 unchanged"
    second = json.loads(ok("agenda", "sync", "--format", "json", "-w", workspace).stdout)
    assert second["stores"][0]["written"] == 0
    assert second["stores"][0]["unchanged"] == 4
    # The listing reads the sources, not the agenda copy: no duplicates there either.
    listed = ok("agenda", "--now", "2026-12-20T09:00", "-w", workspace).stdout
    assert listed.count("Els de Boer's birthday") == 1
    shown = json.loads(show("person-2", "--format", "json", root=workspace).stdout)
    assert "agenda" in json.dumps(shown)


def test_S8_agenda_sync_with_the_server_down_exits_1_and_names_it(workspace: Path) -> None:
    _add_agenda(
        workspace,
        {"plugin": "caldav", "url": "http://127.0.0.1:9/", "username": "u", "password": "pw1234"},
    )
    result = run("agenda", "sync", "-w", workspace)
    assert result.exit_code == 1
    assert "http://127.0.0.1:9/" in result.output
    assert "pw1234" not in result.output
    # The listing does not need the agenda server.
    ok("agenda", "--now", "2026-12-20T09:00", "-w", workspace)
