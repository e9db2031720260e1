"""The workspace commands (init, subject, data, audit), through click's runner and as processes."""

import json
import sqlite3
from pathlib import Path

import pytest

from helpers import ok, run, run_process, show

PROGRESS_MARKS = ("━", "\r", "\x1b[", "importing ")


def tamper(root: Path, seq: int) -> None:
    with sqlite3.connect(root / "praclox-privacy.db") as conn:
        changed = conn.execute(
            "UPDATE pp_audit SET details = ? WHERE seq = ?", ('{"count":999}', seq)
        ).rowcount
    conn.close()
    assert changed == 1


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    result = ok("init", root)
    assert result.output == f"created {root / 'praclox-privacy.toml'}\n"
    return root


@pytest.fixture
def populated(root: Path) -> Path:
    """acme (client), jan (its contact person), beta (a prospect)."""
    w = ("-w", root)
    assert (
        ok("subject", "add", "--relation", "client", "--id", "acme", "--name", "Acme BV", *w).output
        == "acme\n"
    )
    ok(
        "subject",
        "add",
        "--relation",
        "contact_person",
        "--id",
        "jan",
        "--organisation",
        "acme",
        "--name",
        "Jan Jansen",
        "--email",
        "jan@acme.example",
        *w,
    )
    ok("subject", "add", "--relation", "prospect", "--id", "beta", "--name", "Beta & Zn", *w)
    return root


# -- init ----------------------------------------------------------------------------------


def test_init_refuses_an_existing_workspace(root: Path) -> None:
    before = (root / "praclox-privacy.toml").read_text(encoding="utf-8")
    result = run("init", root)
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output
    assert (root / "praclox-privacy.toml").read_text(encoding="utf-8") == before


# -- subjects ------------------------------------------------------------------------------


def test_subject_add_prints_the_id(root: Path) -> None:
    generated = ok("subject", "add", "--relation", "client", "-w", root).output.strip()
    assert generated.startswith("client-")
    assert len(generated) == len("client-") + 8
    result = ok(
        "subject",
        "add",
        "--relation",
        "contact_person",
        "--relation",
        "website_user",
        "--organisation",
        generated,
        "--id",
        "zoe",
        "--format",
        "json",
        "-w",
        root,
    )
    assert json.loads(result.stdout) == {
        "id": "zoe",
        "relation_types": ["contact_person", "website_user"],
        "organisation": generated,
        "events": [],
    }
    listed = json.loads(ok("subject", "list", "--format", "json", "-w", root).stdout)
    assert [s["id"] for s in listed] == sorted([generated, "zoe"])


def test_subject_add_refusals_are_clear(root: Path) -> None:
    for args, code, fragment in [
        (("--relation", "supplier"), 1, "relation type supplier is not declared"),
        (("--relation", "client", "--id", "../../etc/passwd"), 2, "not a valid subject id"),
        (("--relation", "contact_person", "--organisation", "nobody"), 1, "unknown organisation"),
    ]:
        result = run("subject", "add", *args, "-w", root)
        assert result.exit_code == code, result.output
        assert fragment in result.stderr
        assert "Traceback" not in result.output
    assert ok("subject", "list", "-w", root).output == ""


def test_subject_event_reads_at_in_the_workspace_zone(populated: Path) -> None:
    w = ("-w", populated)
    result = ok("subject", "event", "jan", "relation_ended", "--at", "2026-07-01", *w)
    assert result.output == "jan: relation_ended at 2026-07-01T00:00:00+02:00\n"
    ok("subject", "event", "jan", "relation_ended", "--at", "2026-01-05T09:30:00+00:00", *w)
    shown = json.loads(show("jan", "--format", "json", root=w[1]).stdout)
    assert [(e["event"], e["at"]) for e in shown["events"]] == [
        ("relation_ended", "2026-06-30T22:00:00+00:00"),
        ("relation_ended", "2026-01-05T09:30:00+00:00"),
    ]
    bad = run("subject", "event", "jan", "relation_ended", "--at", "1 juli", *w)
    assert bad.exit_code == 1
    assert "not an ISO 8601" in bad.stderr
    bad = run("subject", "event", "jan", "exploded", "--at", "2026-07-01", *w)
    assert bad.exit_code == 1
    assert "'exploded' is not declared" in bad.stderr
    bad = run("subject", "event", "nobody", "relation_ended", "--at", "2026-07-01", *w)
    assert bad.exit_code == 1
    assert "unknown subject 'nobody'" in bad.stderr


def test_S15_subject_relations_prospect_becomes_client(populated: Path) -> None:
    w = ("-w", populated)
    ok("subject", "event", "beta", "relation_ended", "--at", "2026-02-01", *w)
    before = json.loads(show("beta", "--format", "json", root=w[1]).stdout)
    refused = run("data", "add", "beta", "invoicing_records", "inv-1", "EUR 10", *w)
    assert refused.exit_code == 1
    assert ok("subject", "relations", "beta", "--relation", "client", *w).output == "beta: client\n"
    after = json.loads(show("beta", "--format", "json", root=w[1]).stdout)
    assert after == {**before, "relation_types": ["client"]}
    assert after["items"]["main"][0]["value"] == "Beta & Zn"
    ok("data", "add", "beta", "invoicing_records", "inv-1", "EUR 10", *w)
    clients = ok("subject", "list", "--relation", "client", *w).output
    assert clients == "acme\tclient\nbeta\tclient\n"


def test_subject_show_and_list(populated: Path) -> None:
    w = ("-w", populated)
    text = show("jan", root=w[1]).output
    assert text.splitlines() == [
        "jan: contact_person of acme",
        "  [main] person_contact.email = jan@acme.example",
        "  [main] person_name.name = Jan Jansen",
    ]
    shown = json.loads(show("jan", "--format", "json", root=w[1]).stdout)
    assert shown["organisation"] == "acme"
    assert [(i["category"], i["field"], i["value"]) for i in shown["items"]["main"]] == [
        ("person_contact", "email", "jan@acme.example"),
        ("person_name", "name", "Jan Jansen"),
    ]
    assert ok("subject", "list", *w).output == (
        "acme\tclient\nbeta\tprospect\njan\tcontact_person\n"
    )
    listed = json.loads(
        ok("subject", "list", "--relation", "prospect", "--format", "json", *w).stdout
    )
    assert listed == [
        {"id": "beta", "relation_types": ["prospect"], "organisation": None, "events": []}
    ]
    missing = run("subject", "show", "nobody", *w)
    assert missing.exit_code == 1
    assert "unknown subject 'nobody'" in missing.stderr


# -- data ----------------------------------------------------------------------------------


def test_data_add(populated: Path) -> None:
    w = ("-w", populated)
    result = ok(
        "data",
        "add",
        "jan",
        "life_events",
        "birthday",
        "1980-02-29",
        "--purpose",
        "congratulations",
        *w,
    )
    assert result.output == "stored jan/life_events/birthday in main\n"
    shown = json.loads(show("jan", "--format", "json", root=w[1]).stdout)
    birthday = [i for i in shown["items"]["main"] if i["category"] == "life_events"]
    assert [(i["value"], i["purposes"]) for i in birthday] == [("1980-02-29", ["congratulations"])]


def test_S11_data_add_refuses_search_parameters(populated: Path) -> None:
    w = ("-w", populated)
    audit_before = ok("audit", "show", "--format", "json", *w).stdout
    result = run("data", "add", "jan", "search_parameters", "query", "accountants Utrecht", *w)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error:" in result.stderr
    assert "category 'search_parameters' is ephemeral and is never stored" in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.output
    assert ok("audit", "show", "--format", "json", *w).stdout == audit_before
    shown = json.loads(show("jan", "--format", "json", root=w[1]).stdout)
    assert {i["category"] for i in shown["items"]["main"]} == {"person_name", "person_contact"}


def test_data_add_refusals_exit_1(populated: Path) -> None:
    w = ("-w", populated)
    for args, fragment in [
        (("acme", "person_name", "name", "X"), "not declared for relation type client"),
        (("ghost", "office_identity", "name", "X"), "'ghost' is not registered"),
        (("../../etc/passwd", "office_identity", "name", "X"), "not a valid subject id"),
        (("acme", "office_identity", "name", "X", "--store", "crm"), "no store named 'crm'"),
    ]:
        result = run("data", "add", *args, *w)
        assert result.exit_code == 1, result.output
        assert fragment in result.stderr
        assert "Traceback" not in result.output


def test_data_import_jsonl_and_csv_quietly(populated: Path, tmp_path: Path) -> None:
    w = ("-w", populated)
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "subject_id": "acme",
                "category": "office_address",
                "field": "city",
                "value": "Utrecht",
            }
        )
        + "\n"
        + json.dumps(
            {
                "subject_id": "jan",
                "category": "life_events",
                "field": "birthday",
                "value": "1980-02-29",
                "purposes": ["congratulations"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    result = ok("data", "import", jsonl, *w)
    assert result.output == f"imported 2 items from {jsonl} into main\n"
    csv = tmp_path / "items.csv"
    csv.write_bytes(
        "\ufeffsubject_id,category,field,value,purposes\r\n"
        'acme,office_address,street,"Kerkstraat 1\nachterom",'
        "client_relationship;invoicing\r\n".encode()
    )
    result = ok("data", "import", csv, *w)
    assert result.output == f"imported 1 items from {csv} into main\n"
    for mark in PROGRESS_MARKS:
        assert mark not in result.output
    shown = json.loads(show("acme", "--format", "json", root=w[1]).stdout)
    street = next(i for i in shown["items"]["main"] if i["field"] == "street")
    assert street["value"] == "Kerkstraat 1\nachterom"
    assert street["purposes"] == ["client_relationship", "invoicing"]


def test_data_import_failures_name_file_and_line(populated: Path, tmp_path: Path) -> None:
    w = ("-w", populated)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"subject_id": "acme", "category": "office_address", "field": "city", "value": "U"}\n'
        "{oops\n",
        encoding="utf-8",
    )
    result = run("data", "import", bad, *w)
    assert result.exit_code == 1
    assert f"{bad}:2: not a JSON object" in result.stderr
    refused = tmp_path / "refused.csv"
    refused.write_text(
        "subject_id,category,field,value\nacme,office_address,city,U\njan,search_parameters,q,x\n",
        encoding="utf-8",
    )
    result = run("data", "import", refused, *w)
    assert result.exit_code == 1
    assert f"{refused}:3: category 'search_parameters' is ephemeral" in result.stderr
    assert "nothing of refused.csv was imported" in result.stderr
    assert "Traceback" not in result.output
    shown = json.loads(show("acme", "--format", "json", root=w[1]).stdout)
    assert [i["category"] for i in shown["items"]["main"]] == ["office_identity"]


# -- audit ---------------------------------------------------------------------------------


def test_audit_show_verify_and_tampering(populated: Path) -> None:
    w = ("-w", populated)
    entries = json.loads(ok("audit", "show", "--format", "json", *w).stdout)
    assert [e["seq"] for e in entries] == list(range(1, 7))
    assert [e["action"] for e in entries[:2]] == ["subject.added", "items.written"]
    assert entries[0]["subject_id"] == "acme"
    assert entries[0]["actor"] == "cli"
    text = ok("audit", "show", "--subject", "jan", *w).output.splitlines()
    assert len(text) == 2
    assert all(" jan " in line for line in text)
    assert len(ok("audit", "show", "--limit", "2", *w).output.splitlines()) == 2
    assert "Acme BV" not in ok("audit", "show", *w).output

    result = ok("audit", "verify", *w)
    assert result.output == "audit trail intact: 6 entries\n"
    tamper(populated, 4)
    result = run("audit", "verify", *w)
    assert result.exit_code == 1
    assert "audit trail broken at entry 4: content does not match its hash" in result.stderr
    assert "(3 entries before it are intact)" in result.stderr
    verdict = json.loads(run("audit", "verify", "--format", "json", *w).stdout)
    assert verdict == {
        "ok": False,
        "checked": 3,
        "broken_at": 4,
        "reason": "content does not match its hash",
    }


# -- configuration errors ------------------------------------------------------------------


def test_workspace_option_without_a_workspace_exits_2(tmp_path: Path) -> None:
    for args in (("subject", "list"), ("audit", "verify"), ("data", "add", "a", "b", "c", "d")):
        result = run(*args, "--workspace", tmp_path)
        assert result.exit_code == 2
        assert f"{tmp_path / 'praclox-privacy.toml'}: no workspace here" in result.stderr
        assert "praclox-privacy init" in result.stderr
        assert "Traceback" not in result.output


def test_broken_config_exits_2_naming_the_key(root: Path) -> None:
    config = root / "praclox-privacy.toml"
    config.write_text(config.read_text(encoding="utf-8") + 'colour = "red"\n', encoding="utf-8")
    result = run("subject", "list", "-w", root)
    assert result.exit_code == 2
    assert f"{config}: stores.main.colour: unknown key" in result.stderr
    config.write_text(
        'timezone = "Europe/Amstredam"\n[stores.main]\nplugin = "sql"\n', encoding="utf-8"
    )
    result = run("audit", "verify", "-w", root)
    assert result.exit_code == 2
    assert f"{config}: timezone: unknown time zone 'Europe/Amstredam'" in result.stderr
    config.write_text("[stores.main\n", encoding="utf-8")
    result = run("audit", "show", "-w", root)
    assert result.exit_code == 2
    assert "cannot read it" in result.stderr
    assert "Traceback" not in result.output


# -- as a real process ---------------------------------------------------------------------


def test_as_a_process(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    done = run_process("init", root)
    assert done.returncode == 0, done.stderr
    added = run_process("subject", "add", "--relation", "client", "--name", "Acme BV", "-w", root)
    assert added.returncode == 0, added.stderr
    acme = added.stdout.strip()
    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(
            json.dumps(
                {
                    "subject_id": acme,
                    "category": "invoicing_records",
                    "field": f"inv-{n}",
                    "value": f"EUR {n}",
                }
            )
            + "\n"
            for n in range(25_000)
        ),
        encoding="utf-8",
    )
    imported = run_process("data", "import", items, cwd=root)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == f"imported 25000 items from {items} into main\n"
    assert imported.stderr == ""  # quiet: stderr is not a terminal
    for mark in PROGRESS_MARKS:
        assert mark not in imported.stdout
    verified = run_process("audit", "verify", "-w", root)
    assert (verified.returncode, verified.stdout) == (0, "audit trail intact: 3 entries\n")
    tamper(root, 2)
    verified = run_process("audit", "verify", "-w", root)
    assert verified.returncode == 1
    assert "audit trail broken at entry 2" in verified.stderr
    nowhere = run_process("subject", "list", "-w", tmp_path)
    assert nowhere.returncode == 2
    assert "no workspace here" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr + verified.stderr + imported.stderr
