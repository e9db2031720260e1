"""Workspaces on SQLite: configuration, subjects, events, writes, imports and the audit."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from helpers import new_workspace
from praclox_privacy.domain.errors import (
    InvalidValue,
    OperationRefused,
    PolicyError,
    WorkspaceError,
)
from praclox_privacy.domain.records import Item, ItemKey
from praclox_privacy.formats.items import ImportFormatError
from praclox_privacy.ports import CONFIG_NAME, LedgerError, StoreUnavailable, WriteRefused
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
BAD_ID = "../../etc/passwd"
ARCHIVE = '\n[stores.archive]\nplugin = "files"\npath = "archive"\n'


def clock() -> datetime:
    return NOW


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workspace made by ``init``, with a second store: ``archive`` (files)."""
    return new_workspace(tmp_path / "ws", ARCHIVE)


@pytest.fixture
def ws(root: Path) -> Iterator[Workspace]:
    with Workspace.open(root, clock=clock) as workspace:
        yield workspace


@pytest.fixture
def people(ws: Workspace) -> Workspace:
    """A client ``acme`` with contact person ``jan``, a prospect and a website user."""
    ws.add_subject(["client"], subject_id="acme", name="Acme BV", email="info@acme.example")
    ws.add_subject(["prospect"], subject_id="beta")
    ws.add_subject(["contact_person"], subject_id="jan", organisation="acme", name="Jan")
    ws.add_subject(["website_user"], subject_id="web-1", email="web@example.org")
    return ws


def snapshot(ws: Workspace) -> dict[str, Any]:
    """Everything a failed operation must leave as it was."""
    return {
        "items": {s.id: ws.items_of(s.id) for s in ws.ledger.subjects()},
        "held": {name: dict(ws.store(name).categories_held()) for name in ws.store_names},
        "subjects": ws.ledger.subjects(),
        "audit": ws.audit_entries(),
    }


def write_config(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    return root


def open_problems(root: Path) -> tuple[WorkspaceError, list[tuple[str, str]]]:
    with pytest.raises(WorkspaceError) as caught:
        Workspace.open(root).close()
    return caught.value, [(p.location, p.message) for p in caught.value.problems]


# -- configuration -------------------------------------------------------------------------

_MAIN = '[stores.main]\nplugin = "sql"\nurl = "sqlite:///x.db"\n'


@pytest.mark.parametrize(
    ("text", "location", "fragment"),
    [
        (_MAIN + '[stores.x]\nplugin = "nope"\n', "stores.x.plugin", "unknown store kind 'nope'"),
        (_MAIN + 'colour = "red"\n', "stores.main.colour", "unknown key"),
        (
            '[stores.main]\nplugin = "sql"\ntable_prefix = "Bad-Prefix"\n',
            "stores.main.table_prefix",
            "'Bad-Prefix'",
        ),
        (
            '[stores.main]\nplugin = "sql"\ntable_prefix = "a_prefix_longer_than_16"\n',
            "stores.main.table_prefix",
            "1-16",
        ),
        ('[stores.main]\nplugin = "sql"\nbatch_size = 0\n', "stores.main.batch_size", "at least 1"),
        ('[stores.main]\nplugin = "sql"\nurl = 3\n', "stores.main.url", "string"),
        ('[stores.main]\nurl = "sqlite:///x.db"\n', "stores.main.plugin", "required key"),
        ('primary = "other"\n' + _MAIN, "primary", "no store named 'other'"),
        ('[stores.main]\nplugin = "files"\npath = "d"\n', "primary", "must be an 'sql' store"),
        ('timezone = "Mars/Olympus_Mons"\n' + _MAIN, "timezone", "unknown time zone"),
        ('colour = "red"\n' + _MAIN, "colour", "unknown key"),
        ('[stores.Main]\nplugin = "sql"\n', "stores.Main", "a store name is"),
        ("[stores.main\nplugin = 'sql'\n", "", "cannot read it"),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, text: str, location: str, fragment: str
) -> None:
    root = write_config(tmp_path / "ws", text)
    error, problems = open_problems(root)
    assert error.source == str(root / CONFIG_NAME)
    assert any(loc == location and fragment in msg for loc, msg in problems), problems
    prefix = f"{root / CONFIG_NAME}: {location}: " if location else f"{root / CONFIG_NAME}: "
    assert prefix in str(error)


def test_every_config_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = write_config(
        tmp_path / "ws",
        'timezone = "Nowhere/Town"\n' + _MAIN + 'colour = 1\n[stores.x]\nplugin = "nope"\n',
    )
    _, problems = open_problems(root)
    assert {loc for loc, _ in problems} == {"timezone", "stores.main.colour", "stores.x.plugin"}


def test_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    error, problems = open_problems(tmp_path)
    assert error.source == str(tmp_path / CONFIG_NAME)
    assert "no workspace here" in problems[0][1]
    assert "praclox-privacy init" in problems[0][1]


def test_missing_policy_file_is_named(tmp_path: Path) -> None:
    root = write_config(tmp_path / "ws", 'policy = "mine.toml"\n' + _MAIN)
    with pytest.raises(PolicyError) as caught:
        Workspace.open(root)
    assert caught.value.source == str(root / "mine.toml")


def test_init_creates_a_workspace_and_refuses_an_existing_one(tmp_path: Path) -> None:
    root = tmp_path / "new" / "ws"
    path = Workspace.init(root)
    assert path == root / CONFIG_NAME
    assert (root / "praclox-privacy.db").is_file()
    text = path.read_text(encoding="utf-8")
    with Workspace.open(root) as ws:
        assert ws.store_names == ["main"]
        assert ws.config.timezone == "Europe/Amsterdam"
        assert ws.verify_audit().ok
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.init(root)
    assert path.read_text(encoding="utf-8") == text


def test_init_with_an_unreachable_database_leaves_no_config(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        Workspace.init(tmp_path, url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not (tmp_path / CONFIG_NAME).exists()


# -- subjects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relation", "extra", "name_category", "email_category"),
    [
        pytest.param("client", {}, "office_identity", "office_contact", id="S2-client"),
        pytest.param(
            "contact_person", {"organisation": "acme"}, "person_name", "person_contact", id="S3"
        ),
        pytest.param("website_user", {}, "website_account", "website_account", id="S5"),
        pytest.param("applicant", {}, "application", "application", id="S14"),
        pytest.param("prospect", {}, "office_identity", "office_contact", id="S15-prospect"),
    ],
)
def test_S2_S3_S5_S14_add_subject_stores_name_and_email_in_the_right_category(
    ws: Workspace, relation: str, extra: dict[str, str], name_category: str, email_category: str
) -> None:
    ws.add_subject(["client"], subject_id="acme")
    subject = ws.add_subject([relation], name="Naam Één", email="een@example.org", **extra)
    assert subject.id.startswith(relation.replace("_", "-") + "-")
    assert ws.ledger.subject(subject.id) == subject
    got = {(i.category, i.field, i.value) for i in ws.items_of(subject.id)["main"]}
    assert got == {
        (name_category, "name", "Naam Één"),
        (email_category, "email", "een@example.org"),
    }
    assert all(i.collected_at == NOW for i in ws.items_of(subject.id)["main"])
    last = ws.audit_entries()[-1]
    assert (last.action, last.subject_id) == ("items.written", subject.id)


def test_add_subject_without_name_or_email_stores_no_items(ws: Workspace) -> None:
    ws.add_subject(["client"], subject_id="acme")
    assert ws.items_of("acme") == {"main": [], "archive": []}
    assert [e.action for e in ws.audit_entries()] == ["subject.added"]


def test_S3_contact_persons_organisation_must_be_a_known_client_or_prospect(
    people: Workspace,
) -> None:
    ws = people
    before = snapshot(ws)
    with pytest.raises(OperationRefused, match="unknown organisation 'nobody'"):
        ws.add_subject(["contact_person"], organisation="nobody", name="X")
    with pytest.raises(OperationRefused, match=r"'web-1' is a website_user.*client or prospect"):
        ws.add_subject(["contact_person"], organisation="web-1", name="X")
    with pytest.raises(OperationRefused, match="does not belong to an organisation"):
        ws.add_subject(["website_user"], organisation="acme")
    assert snapshot(ws) == before
    of_prospect = ws.add_subject(["contact_person"], organisation="beta")
    assert ws.ledger.subject(of_prospect.id).organisation == "beta"


def test_undeclared_relation_type_is_refused_listing_the_declared_ones(ws: Workspace) -> None:
    declared = "applicant, client, contact_person, prospect, website_user"
    with pytest.raises(OperationRefused) as caught:
        ws.add_subject(["supplier"], name="X")
    assert "relation type supplier is not declared" in str(caught.value)
    assert f"(declared: {declared})" in str(caught.value)
    with pytest.raises(OperationRefused, match="at least one relation type"):
        ws.add_subject([])
    ws.add_subject(["client"], subject_id="acme")
    with pytest.raises(OperationRefused, match=rf"supplier.*\(declared: {declared}\)"):
        ws.set_relation_types("acme", ["client", "supplier"])
    assert ws.ledger.subject("acme").relation_types == {"client"}
    assert ws.ledger.subjects() == [ws.ledger.subject("acme")]


def test_duplicate_subject_id_is_refused_and_its_items_not_written(people: Workspace) -> None:
    before = snapshot(people)
    with pytest.raises(LedgerError, match="'acme' already exists"):
        people.add_subject(["client"], subject_id="acme", name="Other BV")
    assert snapshot(people) == before


def test_undeclared_event_is_refused_listing_the_declared_ones(people: Workspace) -> None:
    with pytest.raises(OperationRefused) as caught:
        people.record_event("acme", "exploded", NOW)
    message = str(caught.value)
    assert "'exploded' is not declared" in message
    assert "(declared: account_closed, agreement_ended, rejected, relation_ended, used)" in message
    with pytest.raises(OperationRefused, match="'collected' is not declared"):
        people.record_event("acme", "collected", NOW)
    assert people.ledger.subject("acme").events == ()


def test_record_event_needs_an_aware_instant(people: Workspace) -> None:
    before = snapshot(people)
    with pytest.raises(InvalidValue, match="timezone-aware"):
        people.record_event("acme", "relation_ended", datetime(2026, 1, 1, 9, 0))  # noqa: DTZ001
    assert snapshot(people) == before
    aware = datetime(2026, 1, 1, 9, 0, tzinfo=CET)
    got = people.record_event("acme", "relation_ended", aware)
    assert got.event_at("relation_ended") == aware


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01", datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),  # CEST, +02:00
        ("2026-01-15", datetime(2026, 1, 14, 23, 0, tzinfo=UTC)),  # CET, +01:00
        ("2026-03-01T09:30", datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        ("2026-03-01T09:30+00:00", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30:00-05:00", datetime(2026, 3, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant_reads_dates_in_the_workspace_zone(
    people: Workspace, text: str, expected: datetime
) -> None:
    instant = people.parse_instant(text)
    assert instant == expected
    assert instant.utcoffset() is not None
    got = people.record_event("acme", "relation_ended", instant)
    assert got.event_at("relation_ended") == expected


def test_parse_instant_follows_the_configured_zone(tmp_path: Path) -> None:
    root = write_config(tmp_path / "ws", 'timezone = "America/New_York"\n' + _MAIN)
    with Workspace.open(root) as ws:
        assert ws.parse_instant("2026-07-01") == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "01-07-2026", "2026-13-01", ""])
def test_parse_instant_refuses_what_is_not_iso_8601(ws: Workspace, text: str) -> None:
    with pytest.raises(OperationRefused, match="not an ISO 8601"):
        ws.parse_instant(text)


# -- writes --------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["main", "archive"])
def test_S11_search_parameters_are_never_stored(people: Workspace, store: str) -> None:
    before = snapshot(people)
    items = [
        Item("jan", "person_contact", "phone", "06-12345678", NOW),
        Item("jan", "search_parameters", "query", "accountants in Utrecht", NOW),
    ]
    with pytest.raises(WriteRefused) as caught:
        people.write(items, store)
    message = str(caught.value)
    assert "'search_parameters' is ephemeral" in message
    assert "'jan'" in message
    assert "nothing was written" in message
    assert snapshot(people) == before
    assert all("search_parameters" not in held for held in snapshot(people)["held"].values())


@pytest.mark.parametrize("store", ["main", "archive"])
def test_write_refuses_a_category_undeclared_for_the_relation_type(
    people: Workspace, store: str
) -> None:
    before = snapshot(people)
    items = [
        Item("web-1", "website_account", "name", "Web Één", NOW),
        Item("web-1", "life_events", "birthday", "1990-01-01", NOW),
    ]
    with pytest.raises(WriteRefused) as caught:
        people.write(items, store)
    assert caught.value.index == 1
    assert "'life_events' is not declared for relation type website_user" in str(caught.value)
    with pytest.raises(WriteRefused, match="'shoe_size' is not declared in the policy"):
        people.write([Item("web-1", "shoe_size", "eu", "44", NOW)], store)
    with pytest.raises(WriteRefused, match="'ghost' is not registered"):
        people.write([Item("ghost", "website_account", "name", "G", NOW)], store)
    assert snapshot(people) == before


def test_write_to_an_unknown_store_is_refused(people: Workspace) -> None:
    with pytest.raises(
        OperationRefused, match=r"no store named 'crm' \(configured: main, archive\)"
    ):
        people.write([Item("acme", "office_identity", "name", "X", NOW)], "crm")


def test_items_of_spans_every_store(people: Workspace) -> None:
    birthday = Item("jan", "life_events", "birthday", "1980-02-29", NOW, ("congratulations",))
    assert people.write([birthday], "archive") == 1
    got = people.items_of("jan")
    assert list(got) == ["main", "archive"]
    assert got["archive"] == [birthday]
    assert {i.category for i in got["main"]} == {"person_name"}
    entry = people.audit_entries()[-1]
    assert entry.details == {"store": "archive", "count": 1, "categories": {"life_events": 1}}
    assert people.items_of("acme")["archive"] == []


# -- imports -------------------------------------------------------------------------------


def jsonl(*records: Any) -> str:
    return "".join(
        (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records
    )


def test_import_jsonl(people: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        jsonl(
            {
                "subject_id": "acme",
                "category": "office_address",
                "field": "city",
                "value": "'s-Hertogenbosch",
                "collected_at": "2026-01-02T10:00:00+01:00",
                "purposes": ["client_relationship", "invoicing"],
            },
            "",
            {
                "subject_id": "jan",
                "category": "life_events",
                "field": "birthday",
                "value": "1980-02-29",
            },
        ),
        encoding="utf-8",
    )
    progress: list[int] = []
    assert people.import_file(path, on_progress=progress.append) == 2
    assert progress[-1] == path.stat().st_size
    city = people.items_of("acme")["main"][0]
    assert city == Item(
        "acme",
        "office_address",
        "city",
        "'s-Hertogenbosch",
        datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
        ("client_relationship", "invoicing"),
    )
    assert (
        Item("jan", "life_events", "birthday", "1980-02-29", NOW) in people.items_of("jan")["main"]
    )
    entry = people.audit_entries()[-1]
    assert (entry.action, entry.subject_id) == ("items.written", None)
    assert entry.details["categories"] == {"life_events": 1, "office_address": 1}


def test_import_csv_with_bom_quoted_newlines_and_purposes(
    people: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(
        (
            "\ufeffsubject_id,category,field,value,collected_at,purposes\r\n"
            'acme,office_address,street,"Kerkstraat 1\nachterom, ""de poort""",'
            "2026-01-02T10:00:00+01:00,client_relationship;invoicing\r\n"
            "\r\n"
            "jan,person_contact,phone,06-12345678,,\r\n"
        ).encode()
    )
    assert people.import_file(path, "archive") == 2
    street, phone = people.items_of("acme")["archive"][0], people.items_of("jan")["archive"][0]
    assert street.value == 'Kerkstraat 1\nachterom, "de poort"'
    assert street.purposes == ("client_relationship", "invoicing")
    assert street.collected_at == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert (phone.value, phone.collected_at, phone.purposes) == ("06-12345678", NOW, ())


def test_import_format_comes_from_the_extension_or_is_given(
    people: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "items.txt"
    path.write_text(
        jsonl({"subject_id": "acme", "category": "office_identity", "field": "name", "value": "A"})
    )
    with pytest.raises(ImportFormatError, match="unknown format"):
        people.import_file(path)
    assert people.import_file(path, fmt="jsonl") == 1


_GOOD = {"subject_id": "acme", "category": "office_identity", "field": "name", "value": "Acme 2"}
_GOOD_CSV = "acme,office_identity,name,Acme 2\n"
_HEADER = "subject_id,category,field,value\n"


@pytest.mark.parametrize(
    ("name", "content", "line", "fragment"),
    [
        ("bad-json.jsonl", jsonl(_GOOD, '{"subject_id": "acme",'), 2, "not a JSON object"),
        ("array.jsonl", jsonl(_GOOD, "", "[1, 2]"), 3, "not a JSON object"),
        (
            "missing.jsonl",
            jsonl(_GOOD, {k: v for k, v in _GOOD.items() if k != "value"}),
            2,
            "'value' is missing",
        ),
        ("unknown.jsonl", jsonl(_GOOD, {**_GOOD, "colour": "red"}), 2, "unknown key colour"),
        ("number.jsonl", jsonl({**_GOOD, "value": 3}), 1, "'value' is not a string"),
        (
            "naive.jsonl",
            jsonl(_GOOD, _GOOD, {**_GOOD, "collected_at": "2026-01-02T10:00:00"}),
            3,
            "has no UTC offset",
        ),
        ("when.jsonl", jsonl({**_GOOD, "collected_at": "gisteren"}), 1, "not an ISO 8601"),
        ("purposes.jsonl", jsonl({**_GOOD, "purposes": "invoicing"}), 1, "'purposes' must be"),
        (
            "bad-id.jsonl",
            jsonl(_GOOD, {**_GOOD, "subject_id": BAD_ID}),
            2,
            "not a valid subject id",
        ),
        ("latin1.jsonl", jsonl(_GOOD).encode() + b'{"value": "caf\xe9"}\n', 2, "not UTF-8"),
        ("columns.csv", _HEADER + _GOOD_CSV + "acme,office_identity,name\n", 3, "3 columns"),
        ("header.csv", "subject_id,category,field,value,colour\n", 1, "unknown: colour"),
        ("header-missing.csv", "subject_id,category,value\n", 1, "missing: field"),
        (
            "naive.csv",
            "subject_id,category,field,value,collected_at\nacme,office_identity,name,A,2026-01-02\n",
            2,
            "no UTC offset",
        ),
        (
            "latin1.csv",
            (_HEADER + _GOOD_CSV).encode() + b"acme,office_identity,name,caf\xe9\n",
            3,
            "not UTF-8",
        ),
        (
            "quote.csv",
            _HEADER + _GOOD_CSV + _GOOD_CSV + 'acme,office_identity,name,"open\nstill open\n',
            4,
            "not CSV",
        ),
        ("bad-id.csv", _HEADER + f"{BAD_ID},office_identity,name,A\n", 2, "not a valid subject id"),
    ],
)
def test_malformed_import_names_file_and_line_and_stores_nothing(
    people: Workspace, tmp_path: Path, name: str, content: str | bytes, line: int, fragment: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    before = snapshot(people)
    for store in ("main", "archive"):
        with pytest.raises(ImportFormatError) as caught:
            people.import_file(path, store)
        assert (caught.value.path, caught.value.line) == (str(path), line)
        assert str(caught.value).startswith(f"{path}:{line}: ")
        assert fragment in str(caught.value)
    assert snapshot(people) == before


@pytest.mark.parametrize("store", ["main", "archive"])
def test_refused_import_item_names_file_and_line_and_stores_nothing(
    people: Workspace, tmp_path: Path, store: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        _HEADER
        + 'acme,office_address,street,"Kerkstraat 1\nachterom"\n'  # lines 2-3
        + "jan,person_contact,phone,06-12345678\n"  # line 4
        + "jan,search_parameters,query,accountants Utrecht\n",  # line 5
        encoding="utf-8",
    )
    before = snapshot(people)
    with pytest.raises(OperationRefused) as caught:
        people.import_file(path, store)
    message = str(caught.value)
    assert message.startswith(f"{path}:5: ")
    assert "'search_parameters' is ephemeral" in message
    assert "nothing of people.csv was imported" in message
    assert snapshot(people) == before

    path.write_text(_HEADER + _GOOD_CSV + "\nweb-1,office_identity,name,X\n", encoding="utf-8")
    with pytest.raises(OperationRefused, match=rf"^{path}:4: .*relation type website_user"):
        people.import_file(path, store)
    assert snapshot(people) == before


@pytest.mark.parametrize("bad", ["refused", "malformed"])
def test_failed_bulk_import_names_the_line_and_leaves_the_store_identical(
    people: Workspace, tmp_path: Path, bad: str
) -> None:
    subjects = [f"c{i}" for i in range(10)]
    for sid in subjects:
        people.add_subject(["client"], subject_id=sid, name=f"Kantoor {sid}")
    # items the import would overwrite, so the rollback has something to undo
    people.write(
        Item(f"c{n % 10}", "invoicing_records", f"inv-{n:06d}", f"old {n}", NOW)
        for n in range(1, 2001)
    )
    before = snapshot(people)
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(1, 100_001):
            if n == 50_000:
                handle.write(
                    '{"subject_id": "c1", "category": "search_parameters", "field": "q", '
                    '"value": "x"}\n'
                    if bad == "refused"
                    else '{"subject_id": "c1", "category": \n'
                )
            else:
                handle.write(
                    f'{{"subject_id": "c{n % 10}", "category": "invoicing_records", '
                    f'"field": "inv-{n:06d}", "value": "new {n}"}}\n'
                )
    expected = OperationRefused if bad == "refused" else ImportFormatError
    with pytest.raises(expected) as caught:
        people.import_file(path)
    assert str(caught.value).startswith(f"{path}:50000: ")
    assert snapshot(people) == before
    assert people.store().categories_held()["invoicing_records"] == 2000


# -- subject ids are never paths -----------------------------------------------------------


def test_a_path_as_subject_id_is_rejected_everywhere(
    people: Workspace, root: Path, tmp_path: Path
) -> None:
    canary = root / "etc" / "passwd.json"
    canary.parent.mkdir()
    canary.write_text("{}", encoding="utf-8")
    before = snapshot(people)
    with pytest.raises(InvalidValue, match="not a valid subject id"):
        people.add_subject(["client"], subject_id=BAD_ID, name="X")
    with pytest.raises((InvalidValue, OperationRefused)):
        people.add_subject(["contact_person"], organisation=BAD_ID)
    with pytest.raises(InvalidValue, match="not a valid subject id"):
        Item(BAD_ID, "office_identity", "name", "X", NOW)
    with pytest.raises(LedgerError):
        people.record_event(BAD_ID, "relation_ended", NOW)
    with pytest.raises(LedgerError):
        people.set_relation_types(BAD_ID, ["client"])
    archive = people.store("archive")
    with pytest.raises(InvalidValue):
        archive.items_of(BAD_ID)
    with pytest.raises(InvalidValue):
        people.erase([ItemKey(BAD_ID, "office_identity", "name")], "archive")
    with pytest.raises(InvalidValue):
        people.rectify(ItemKey(BAD_ID, "office_identity", "name"), "Y", "archive")
    path = tmp_path / "evil.jsonl"
    path.write_text(jsonl({**_GOOD, "subject_id": BAD_ID}), encoding="utf-8")
    for store in ("main", "archive"):
        with pytest.raises(ImportFormatError, match=rf"^{path}:1: .*not a valid subject id"):
            people.import_file(path, store)
    assert snapshot(people) == before
    assert canary.read_text(encoding="utf-8") == "{}"
    assert not (tmp_path / "etc").exists()


# -- the audit holds no personal values ----------------------------------------------------


def test_erase_and_rectify_audit_entries_hold_no_personal_values(
    ws: Workspace, tmp_path: Path
) -> None:
    values = [
        "Jan Jansen-Vermeulen",
        "jan.jansen@acme.example",
        "1980-05-17",
        "Zoë Ørsted",
        "Jan de Vries-Rectified",
        "Kerkstraat 123",
    ]
    ws.add_subject(["client"], subject_id="acme")
    ws.add_subject(
        ["contact_person"], subject_id="jan", organisation="acme", name=values[0], email=values[1]
    )
    ws.write([Item("jan", "life_events", "birthday", values[2], NOW)])
    ws.write([Item("jan", "life_events", "wedding_date", values[3], NOW)], "archive")
    path = tmp_path / "x.jsonl"
    path.write_text(
        jsonl(
            {
                "subject_id": "acme",
                "category": "office_address",
                "field": "street",
                "value": values[5],
            }
        )
    )
    ws.import_file(path)
    ws.rectify(ItemKey("jan", "person_name", "name"), values[4])
    ws.rectify(ItemKey("jan", "life_events", "wedding_date"), "2001-06-06", "archive")
    assert (
        ws.erase([ItemKey("jan", "life_events", "birthday")], reason="request of the subject") == 1
    )
    assert ws.erase([ItemKey("jan", "life_events", "wedding_date")], "archive") == 1
    assert ws.erase([ItemKey("acme", "office_address", "street")]) == 1
    assert [i.value for i in ws.items_of("jan")["main"]] == [values[1], values[4]]

    entries = ws.audit_entries()
    actions = [e.action for e in entries]
    assert actions.count("item.rectified") == 2
    assert actions.count("items.erased") == 3
    rectified = next(e for e in entries if e.action == "item.rectified")
    assert rectified.subject_id == "jan"
    assert rectified.details == {"store": "main", "category": "person_name", "field": "name"}
    erased = next(e for e in entries if e.action == "items.erased")
    assert erased.details["categories"] == {"life_events": 1}
    assert erased.details["count"] == 1
    text = json.dumps(
        [[e.actor, e.action, e.subject_id, e.details] for e in entries], ensure_ascii=False
    )
    for value in [*values, "2001-06-06"]:
        assert value not in text
    assert ws.verify_audit().ok


def test_database_password_from_the_environment(
    tmp_path: Path, postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``password_env`` keeps the password out of the workspace file."""
    import sqlalchemy as sa

    url = sa.make_url(postgresql_url)
    root = tmp_path / "ws"
    Workspace.init(root, url=url.set(password=None).render_as_string(hide_password=False))
    config = (root / CONFIG_NAME).read_text(encoding="utf-8")
    (root / CONFIG_NAME).write_text(
        config.replace("[stores.main]\n", '[stores.main]\npassword_env = "PP_TEST_DB_PASSWORD"\n'),
        encoding="utf-8",
    )
    monkeypatch.delenv("PP_TEST_DB_PASSWORD", raising=False)
    with pytest.raises(StoreUnavailable, match="store 'main': environment variable PP_TEST_DB"):
        Workspace.open(root)
    monkeypatch.setenv("PP_TEST_DB_PASSWORD", url.password or "")
    with Workspace.open(root) as ws:
        assert ws.verify_audit().ok
