"""The JSON converter (formats.jsonout): its rules, and the exact shapes it writes.

The pinned shapes are those the hand-written builders wrote before the converter replaced
them (``ErasureResult.as_json``, the CLI's ``_request_json``, ...): key names, key order
and values, compared as the JSON text the CLI prints.
"""

import base64
import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from praclox_privacy.domain.agenda import Congratulation, LeapDay, LifeEvent, LifeEventKind
from praclox_privacy.domain.answers import AccessReport, ErasureResult, KeptItem
from praclox_privacy.domain.audit import AuditEntry, AuditVerification
from praclox_privacy.domain.errors import Problem
from praclox_privacy.domain.findings import CheckReport, CheckResult, Finding
from praclox_privacy.domain.guards import Agreement, Decision, DisclosureRequest, StaffMember
from praclox_privacy.domain.periods import Period
from praclox_privacy.domain.policy import RetentionAction
from praclox_privacy.domain.records import (
    Consent,
    ConsentRecord,
    Evidence,
    Item,
    ItemKey,
    Subject,
    SubjectEvent,
)
from praclox_privacy.domain.requests import Identity, complete, extend, new_request, verify
from praclox_privacy.domain.restrictions import Restriction
from praclox_privacy.formats.access_report import report_json
from praclox_privacy.formats.documents.register import build_register
from praclox_privacy.formats.jsonout import (
    Shape,
    dumps,
    insert_after,
    make_json_converter,
    register_shape,
    sorted_mapping,
    to_json,
)
from praclox_privacy.formats.policy import default_policy
from praclox_privacy.services.agenda import Agenda, AgendaEntry, SyncResult
from praclox_privacy.services.sweep import Erased, Held, StoreFailure, SweepReport
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.sql.request_register import SqlRequestRegister

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=CET)
T1 = datetime(2026, 3, 20, 17, 0, 5, 250000, tzinfo=CET)
T2 = datetime(2026, 6, 1, tzinfo=UTC)

PENDING = new_request(
    "r-1",
    "access",
    [Identity("email", "ann@example.org"), Identity("subject_id", "p1")],
    T0,
    details={"source": "mail", "note": "ü"},
)
CLOSED = complete(
    extend(
        verify(
            new_request("r-2", "erasure", [Identity("email", "ann@example.org")], T0),
            "erik",
            T0,
            "p1",
        ),
        1,
        "many requests",
        T1,
    ),
    {"b": 1, "a": [1, 2]},
    T2,
)


def same(actual: Any, expected: Any) -> None:
    """Assert equal JSON data with the same key order (as printed with indentation)."""
    assert actual == expected
    assert json.dumps(actual, indent=2, ensure_ascii=False) == json.dumps(
        expected, indent=2, ensure_ascii=False
    )


# -- the rules ------------------------------------------------------------------------------


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    SMALL = 1


class Plain(enum.Enum):
    ONE = "one"


@attrs.frozen
class Sample:
    at: datetime
    on: date
    every: Period
    colour: Colour
    size: Size
    plain: Plain
    names: frozenset[str]
    ordered: tuple[str, ...]
    mapping: dict[str, datetime]
    maybe: datetime | None = None


SAMPLE = Sample(
    T0,
    date(2026, 2, 28),
    Period(years=1, months=6),
    Colour.RED,
    Size.SMALL,
    Plain.ONE,
    frozenset({"b", "c", "a"}),
    ("z", "a"),
    {"z": T1, "a": T2},
)


def test_values_become_json_data_in_attribute_order() -> None:
    data = to_json(SAMPLE)
    same(
        data,
        {
            "at": "2026-03-01T09:30:00+01:00",
            "on": "2026-02-28",
            "every": "P1Y6M",
            "colour": "red",
            "size": 1,
            "plain": "one",
            "names": ["a", "b", "c"],
            "ordered": ["z", "a"],
            "mapping": {"z": "2026-03-20T17:00:05.250000+01:00", "a": "2026-06-01T00:00:00+00:00"},
            "maybe": None,
        },
    )
    assert type(data["colour"]) is str  # the value, not the enum
    assert json.loads(json.dumps(data)) == data


def test_instants_keep_their_offset_unless_utc_is_asked() -> None:
    assert to_json(T0) == "2026-03-01T09:30:00+01:00"
    assert to_json(T0, utc=True) == "2026-03-01T08:30:00+00:00"
    assert to_json(T1, utc=True) == "2026-03-20T16:00:05.250000+00:00"
    assert to_json(SAMPLE, utc=True)["mapping"]["z"] == "2026-03-20T16:00:05.250000+00:00"
    assert to_json(date(2026, 1, 2), utc=True) == "2026-01-02"


def test_collections_and_scalars_at_the_top() -> None:
    assert to_json(("a", T2)) == ["a", "2026-06-01T00:00:00+00:00"]
    assert to_json(frozenset({2, 1})) == [1, 2]
    assert to_json({"k": (Colour.RED,)}) == {"k": ["red"]}
    assert to_json(None) is None
    assert to_json([SubjectEvent("x", T2)]) == [{"event": "x", "at": "2026-06-01T00:00:00+00:00"}]


def test_each_converter_is_new_and_the_global_one_is_untouched() -> None:
    import cattrs

    first, second = make_json_converter(), make_json_converter()
    assert first is not second
    assert first.unstructure(T0) == "2026-03-01T09:30:00+01:00"
    assert make_json_converter(utc=True).unstructure(T0) == "2026-03-01T08:30:00+00:00"
    assert cattrs.global_converter.unstructure(T0) is T0


def test_omit_and_rename_the_keys_of_an_object() -> None:
    item = Item("p1", "person_contact", "email", "a@example.org", T0)
    data = to_json(item, omit=("subject_id", "purposes"), rename={"field": "name"})
    same(
        data,
        {
            "category": "person_contact",
            "name": "email",
            "value": "a@example.org",
            "collected_at": "2026-03-01T09:30:00+01:00",
        },
    )
    with pytest.raises(KeyError):
        to_json(item, omit=("nope",))
    with pytest.raises(KeyError):
        to_json(item, rename={"nope": "x"})


def test_insert_after_places_and_moves_keys() -> None:
    data = {"a": 1, "b": 2, "c": 3}
    assert list(insert_after(data, "a", x=0)) == ["a", "x", "b", "c"]
    assert list(insert_after(data, "a", c=3)) == ["a", "c", "b"]
    assert list(insert_after(data, "c", a=1, y=2)) == ["b", "c", "a", "y"]
    assert data == {"a": 1, "b": 2, "c": 3}  # a new dict
    with pytest.raises(KeyError):
        insert_after(data, "z", x=0)


@attrs.frozen
class Registered:
    name: str
    when: datetime | None
    table: dict[str, int]
    hidden: int = 0

    @property
    def shout(self) -> str:
        return self.name.upper()


def test_a_registered_shape_orders_renames_computes_and_leaves_out() -> None:
    register_shape(
        Registered,
        Shape(
            ("shout", "label", "table", "at", "length", "hidden"),
            {"label": "name", "at": "when", "length": lambda r: len(r.name)},
            {"table": sorted_mapping},
            {"hidden": lambda r: r.hidden > 0},
        ),
    )
    value = Registered("ann", T0, {"b": 1, "a": 2})
    same(
        to_json(value),
        {
            "shout": "ANN",
            "label": "ann",
            "table": {"a": 2, "b": 1},
            "at": "2026-03-01T09:30:00+01:00",
            "length": 3,
        },
    )
    assert to_json(attrs.evolve(value, hidden=4, when=None))["hidden"] == 4
    assert to_json(value, utc=True)["at"] == "2026-03-01T08:30:00+00:00"


@attrs.frozen
class Unresolvable:
    at: "datetime"
    amount: "Decimal | None" = None  # noqa: F821 - a name only type checkers would import


def test_annotations_that_cannot_be_resolved_are_written_by_value() -> None:
    assert to_json(Unresolvable(T0, None)) == {"at": "2026-03-01T09:30:00+01:00", "amount": None}


def test_dumps_is_indented_utf8_text() -> None:
    assert (
        dumps({"a": ["ü", T0]}) == '{\n  "a": [\n    "ü",\n    "2026-03-01T09:30:00+01:00"\n  ]\n}'
    )


def test_round_trip_of_a_subject_through_json_text() -> None:
    subject = Subject("p1", {"b", "a"}, (SubjectEvent("joined", T0),), organisation="acme")
    data = json.loads(dumps(subject))
    again = Subject(
        data["id"],
        data["relation_types"],
        tuple(SubjectEvent(e["event"], datetime.fromisoformat(e["at"])) for e in data["events"]),
        data["organisation"],
    )
    assert again == subject
    assert again.events[0].at.utcoffset() == timedelta(hours=1)


# -- the shapes the hand-written builders wrote, pinned ------------------------------------

ERASURE = ErasureResult(
    CLOSED,
    "p1",
    T1,
    {
        "main": (ItemKey("p1", "person_contact", "email"), ItemKey("p1", "person_name", "name")),
        "archive": (),
    },
    (
        KeptItem("main", "invoicing_records", "invoice-1", "invoicing_records", "AWR art. 52", T2),
        KeptItem(
            "main", "invoicing_records", "invoice-2", "invoicing_records", "AWR art. 52", None
        ),
    ),
    recipients=("mailer",),
    members_kept=("p2", "p3"),
    failures=(("crm", "timed out"),),
    rows_kept=(("erp", "orders 5"),),
    anonymised_in=("tryton",),
)


def test_erasure_result_was_erasure_result_as_json() -> None:
    same(
        to_json(ERASURE),
        {
            "request": "r-2",
            "status": "completed",
            "subject_id": "p1",
            "at": "2026-03-20T17:00:05.250000+01:00",
            "done": False,
            "erased": {
                "main": [
                    {"category": "person_contact", "field": "email"},
                    {"category": "person_name", "field": "name"},
                ],
                "archive": [],
            },
            "erased_count": 2,
            "kept": [
                {
                    "store": "main",
                    "category": "invoicing_records",
                    "field": "invoice-1",
                    "rule": "invoicing_records",
                    "law": "AWR art. 52",
                    "until": "2026-06-01T00:00:00+00:00",
                },
                {
                    "store": "main",
                    "category": "invoicing_records",
                    "field": "invoice-2",
                    "rule": "invoicing_records",
                    "law": "AWR art. 52",
                    "until": None,
                },
            ],
            "recipients_notified": ["mailer"],
            "contact_persons_kept": ["p2", "p3"],
            "ledger_kept": True,
            "failures": [{"store": "crm", "error": "timed out"}],
            "rows_kept": [{"store": "erp", "row": "orders 5"}],
            "anonymised_in": ["tryton"],
        },
    )


def test_check_report_was_check_report_as_json() -> None:
    finding = Finding(
        "stores.categories", False, "S11", "store 'main' holds ...", {"store": "main", "count": 2}
    )
    report = CheckReport(
        "ws",
        T0,
        (
            CheckResult.of("policy", [Finding("policy", True, "S1", "a warning")], "valid"),
            CheckResult.of("stores.categories", [finding], "fine"),
            CheckResult.skipped("documents.register", "not configured"),
        ),
    )
    same(
        to_json(report),
        {
            "source": "ws",
            "now": "2026-03-01T09:30:00+01:00",
            "ok": False,
            "passed": 1,
            "failed": 1,
            "skipped": 1,
            "checks": [
                {
                    "check": "policy",
                    "title": "the policy is valid and complete",
                    "ref": "S1",
                    "status": "passed",
                    "summary": "valid",
                    "findings": [
                        {
                            "check": "policy",
                            "ok": True,
                            "ref": "S1",
                            "message": "a warning",
                            "details": {},
                        }
                    ],
                },
                {
                    "check": "stores.categories",
                    "title": "every store holds only categories the policy declares for each "
                    "subject's relation types, no ephemeral category, and no item that needs "
                    "the person's prior consent without it",
                    "ref": "S1, S11, S13",
                    "status": "failed",
                    "summary": "1 problem (S11)",
                    "findings": [
                        {
                            "check": "stores.categories",
                            "ok": False,
                            "ref": "S11",
                            "message": "store 'main' holds ...",
                            "details": {"store": "main", "count": 2},
                        }
                    ],
                },
                {
                    "check": "documents.register",
                    "title": "the committed Art. 30 register is what the policy generates now",
                    "ref": "Art. 30(1) GDPR",
                    "status": "skipped",
                    "summary": "not configured",
                    "findings": [],
                },
            ],
        },
    )
    policy_only = CheckReport("policy.toml", None, (CheckResult.of("policy", [], "valid"),))
    assert list(to_json(policy_only).items())[:3] == [
        ("source", "policy.toml"),
        ("now", None),
        ("ok", True),
    ]


def test_sweep_report_was_sweep_report_as_json() -> None:
    report = SweepReport(
        T1,
        False,
        (
            Erased("r1", "main", "person_contact", RetentionAction.ERASE, 2, ("p2", "p1")),
            Erased(
                "r2", "erp", "orders", RetentionAction.ANONYMISE, 3, ("p1",), table="orders", kept=0
            ),
        ),
        (
            Held(
                "r3",
                "main",
                "invoicing_records",
                "legal_hold",
                "AWR art. 52",
                2,
                {"p2": T2, "p1": T0},
            ),
        ),
        (StoreFailure("crm", "timed out"),),
        recovered=1,
    )
    same(
        to_json(report),
        {
            "now": "2026-03-20T17:00:05.250000+01:00",
            "dry_run": False,
            "ok": False,
            "total": 5,
            "recovered": 1,
            "erased": [
                {
                    "rule": "r1",
                    "store": "main",
                    "category": "person_contact",
                    "action": "erase",
                    "count": 2,
                    "subjects": ["p2", "p1"],
                },
                {
                    "rule": "r2",
                    "store": "erp",
                    "category": "orders",
                    "action": "anonymise",
                    "count": 3,
                    "subjects": ["p1"],
                    "table": "orders",
                    "kept": 0,
                },
            ],
            "held": [
                {
                    "rule": "r3",
                    "store": "main",
                    "category": "invoicing_records",
                    "kind": "legal_hold",
                    "ground": "AWR art. 52",
                    "count": 2,
                    "until": {"p1": "2026-03-01T09:30:00+01:00", "p2": "2026-06-01T00:00:00+00:00"},
                }
            ],
            "failures": [{"store": "crm", "error": "timed out"}],
        },
    )


def test_agenda_and_sync_results_were_their_as_json() -> None:
    event = LifeEvent(
        ItemKey("p1", "life_events", "child_birthday:Tim"),
        LifeEventKind.CHILD_BIRTHDAY,
        date(2020, 3, 2),
        "Tim",
    )
    congratulation = Congratulation(event, date(2026, 3, 2), 6)
    agenda = Agenda(
        date(2026, 3, 1),
        30,
        LeapDay.MAR_1,
        (AgendaEntry(congratulation, "Ann"), AgendaEntry(congratulation)),
        {"z": "restricted", "a": "not registered"},
        {"crm": "down"},
    )
    entry = {
        "date": "2026-03-02",
        "subject_id": "p1",
        "name": "Ann",
        "kind": "child_birthday",
        "child": "Tim",
        "years": 6,
        "event_date": "2020-03-02",
        "field": "child_birthday:Tim",
        "description": "birthday of Tim (6), child of Ann",
    }
    same(
        to_json(agenda),
        {
            "from": "2026-03-01",
            "days": 30,
            "leap_day": "mar1",
            "entries": [
                entry,
                {**entry, "name": None, "description": "birthday of Tim (6), child of p1"},
            ],
            "excluded": {"a": "not registered", "z": "restricted"},
            "failed_stores": {"crm": "down"},
        },
    )
    same(
        to_json(SyncResult("agenda", 2, 1, 3)),
        {"store": "agenda", "written": 2, "removed": 1, "unchanged": 3, "error": None},
    )


RESTRICTION = Restriction(
    "p1",
    "restriction",
    T0,
    category="person_contact",
    reason="unlawful",
    request_id="r-3",
    lifted_at=T1,
    id=7,
)
OBJECTION = Restriction(
    "p1", "objection", T1, purpose="newsletter", reason="direct marketing", id=8
)
CONSENT = Consent(
    "p1",
    "newsletter",
    T0,
    Evidence("web form", "Yes, send me news", "form-12"),
    withdrawn_at=T2,
    until=datetime(2027, 1, 1, tzinfo=CET),
)
SCOPED = Consent("p1", "recording", T0, Evidence("phone", "I agree"), scope="call 12")
ITEM = Item("p1", "person_contact", "email", "ann@example.org", T0, ("newsletter", "support"))


def test_access_report_records_were_its_request_consent_and_restriction_json() -> None:
    subject = Subject("p1", {"client"})
    report = AccessReport(
        subject, T1, (), (CONSENT, SCOPED), (CLOSED,), (RESTRICTION, OBJECTION), CLOSED
    )
    data = report_json(report, default_policy(), "nl")
    request = {
        "id": "r-2",
        "type": "erasure",
        "article": "Art. 17 GDPR",
        "status": "completed",
        "received_at": "2026-03-01T08:30:00+00:00",
        "due_at": "2026-04-01T08:30:00+00:00",
        "extended_until": "2026-05-01T08:30:00+00:00",
        "verified_at": "2026-03-01T08:30:00+00:00",
        "closed_at": "2026-06-01T00:00:00+00:00",
    }
    same(data["request"], request)
    same(data["requests"], [request])
    same(
        data["consents"],
        [
            {
                "kind": "newsletter",
                "label": "nieuwsbrief",
                "granted_at": "2026-03-01T08:30:00+00:00",
                "withdrawn_at": "2026-06-01T00:00:00+00:00",
                "until": "2026-12-31T23:00:00+00:00",
                "active": True,
                "method": "web form",
                "text": "Yes, send me news",
                "scope": "",
            },
            {
                "kind": "recording",
                "label": "opname",
                "granted_at": "2026-03-01T08:30:00+00:00",
                "withdrawn_at": None,
                "until": None,
                "active": True,
                "method": "phone",
                "text": "I agree",
                "scope": "call 12",
            },
        ],
    )
    same(
        data["restrictions"],
        [
            {
                "id": 7,
                "kind": "restriction",
                "category": "person_contact",
                "purpose": None,
                "ground": "unlawful",
                "request": "r-3",
                "started_at": "2026-03-01T08:30:00+00:00",
                "lifted_at": "2026-03-20T16:00:05.250000+00:00",
                "active": False,
            },
            {
                "id": 8,
                "kind": "objection",
                "category": None,
                "purpose": "newsletter",
                "ground": "direct marketing",
                "request": None,
                "started_at": "2026-03-20T16:00:05.250000+00:00",
                "lifted_at": None,
                "active": True,
            },
        ],
    )
    assert data["generated_at"] == "2026-03-20T16:00:05.250000+00:00"


def test_unknown_consent_kinds_are_labelled_by_their_id() -> None:
    odd = attrs.evolve(SCOPED, kind="odd_kind")
    report = AccessReport(Subject("p1", {"client"}), T2, (), (odd,), (), ())
    consent = report_json(report, default_policy(), "en")["consents"][0]
    assert list(consent.items())[:2] == [("kind", "odd_kind"), ("label", "odd_kind")]


def test_register_json_was_its_rows_as_dicts() -> None:
    for lang in ("en", "nl"):
        built = build_register(default_policy(), lang)
        rows = [attrs.asdict(row) for row in built.rows]
        assert built.to_json() == json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def test_the_item_in_an_agenda_event_was_its_own_json() -> None:
    from praclox_privacy.formats.ical import _decode_item, _encode_item

    encoded = _encode_item(ITEM)
    assert base64.b64decode(encoded) == (
        b'{"subject_id": "p1", "category": "person_contact", "field": "email", '
        b'"value": "ann@example.org", "collected_at": "2026-03-01T09:30:00+01:00", '
        b'"purposes": ["newsletter", "support"]}'
    )
    assert _decode_item(encoded) == ITEM


# -- the CLI's --format json ----------------------------------------------------------------


def test_items_and_subjects_were_the_cli_item_and_subject_json() -> None:
    same(
        to_json(ITEM),
        {
            "subject_id": "p1",
            "category": "person_contact",
            "field": "email",
            "value": "ann@example.org",
            "collected_at": "2026-03-01T09:30:00+01:00",
            "purposes": ["newsletter", "support"],
        },
    )
    subject = Subject(
        "p1",
        {"website_user", "contact_person"},
        (SubjectEvent("registered", T1), SubjectEvent("joined", T0)),
        organisation="acme",
    )
    same(
        to_json(subject),
        {
            "id": "p1",
            "relation_types": ["contact_person", "website_user"],
            "organisation": "acme",
            "events": [
                {"event": "registered", "at": "2026-03-20T17:00:05.250000+01:00"},
                {"event": "joined", "at": "2026-03-01T09:30:00+01:00"},
            ],
        },
    )


def test_audit_entries_and_their_verification_were_the_cli_audit_json() -> None:
    entry = AuditEntry(
        12, T0, "cli", "restriction.added", "p1", {"b": 2, "a": [1]}, "0" * 64, "ab" * 32
    )
    same(
        to_json(entry, omit=("prev_hash",)),
        {
            "seq": 12,
            "at": "2026-03-01T09:30:00+01:00",
            "actor": "cli",
            "action": "restriction.added",
            "subject_id": "p1",
            "details": {"b": 2, "a": [1]},
            "hash": "ab" * 32,
        },
    )
    same(
        to_json(AuditVerification(False, 11, 12, "hash mismatch")),
        {"ok": False, "checked": 11, "broken_at": 12, "reason": "hash mismatch"},
    )
    same(
        to_json(AuditVerification(True, 3)),
        {"ok": True, "checked": 3, "broken_at": None, "reason": ""},
    )


def test_policy_problems_were_the_cli_policy_check_json() -> None:
    problems = [
        Problem("retention[0].after", "event 'x' is not declared", "unknown-event"),
        Problem("category[2]", "unused", "unused-category", "warning"),
    ]
    same(
        to_json(problems),
        [
            {
                "location": "retention[0].after",
                "message": "event 'x' is not declared",
                "code": "unknown-event",
                "severity": "error",
            },
            {
                "location": "category[2]",
                "message": "unused",
                "code": "unused-category",
                "severity": "warning",
            },
        ],
    )


def test_requests_were_the_cli_request_json() -> None:
    from praclox_privacy.cli.requests import _request_json

    same(
        _request_json(PENDING, T1),
        {
            "id": "r-1",
            "type": "access",
            "status": "pending",
            "subject_id": None,
            "identities": [
                {"kind": "email", "value": "ann@example.org", "format": "raw"},
                {"kind": "subject_id", "value": "p1", "format": "raw"},
            ],
            "received_at": "2026-03-01T09:30:00+01:00",
            "due_at": "2026-04-01T09:30:00+01:00",
            "extended_until": None,
            "extension_reason": "",
            "deadline": "2026-04-01T09:30:00+01:00",
            "overdue": False,
            "verified_at": None,
            "verified_by": "",
            "closed_at": None,
            "details": {"source": "mail", "note": "ü"},
            "result": {},
        },
    )
    same(
        _request_json(CLOSED, T2),
        {
            "id": "r-2",
            "type": "erasure",
            "status": "completed",
            "subject_id": "p1",
            "identities": [{"kind": "email", "value": "ann@example.org", "format": "raw"}],
            "received_at": "2026-03-01T09:30:00+01:00",
            "due_at": "2026-04-01T09:30:00+01:00",
            "extended_until": "2026-05-01T09:30:00+01:00",
            "extension_reason": "many requests",
            "deadline": "2026-05-01T09:30:00+01:00",
            "overdue": False,
            "verified_at": "2026-03-01T09:30:00+01:00",
            "verified_by": "erik",
            "closed_at": "2026-06-01T00:00:00+00:00",
            "details": {},
            "result": {"b": 1, "a": [1, 2]},
        },
    )
    assert _request_json(PENDING, datetime(2026, 5, 1, tzinfo=UTC))["overdue"] is True


def test_restrictions_were_the_cli_restriction_json() -> None:
    same(
        to_json([RESTRICTION, OBJECTION]),
        [
            {
                "id": 7,
                "subject_id": "p1",
                "kind": "restriction",
                "category": "person_contact",
                "purpose": None,
                "ground": "unlawful",
                "request": "r-3",
                "started_at": "2026-03-01T09:30:00+01:00",
                "lifted_at": "2026-03-20T17:00:05.250000+01:00",
            },
            {
                "id": 8,
                "subject_id": "p1",
                "kind": "objection",
                "category": None,
                "purpose": "newsletter",
                "ground": "direct marketing",
                "request": None,
                "started_at": "2026-03-20T17:00:05.250000+01:00",
                "lifted_at": None,
            },
        ],
    )


def test_consents_and_disclosures_were_the_cli_consent_and_disclosure_json() -> None:
    from praclox_privacy.cli.consent import _consent_json

    same(
        _consent_json(ConsentRecord(5, CONSENT)),
        {
            "id": 5,
            "subject_id": "p1",
            "kind": "newsletter",
            "scope": "",
            "granted_at": "2026-03-01T09:30:00+01:00",
            "withdrawn_at": "2026-06-01T00:00:00+00:00",
            "until": "2027-01-01T00:00:00+01:00",
            "method": "web form",
            "text": "Yes, send me news",
            "reference": "form-12",
        },
    )
    assert list(_consent_json(ConsentRecord(6, SCOPED)).items())[:4] == [
        ("id", 6),
        ("subject_id", "p1"),
        ("kind", "recording"),
        ("scope", "call 12"),
    ]
    disclosure = DisclosureRequest(
        "d-1", "p1", "the police", ("person_contact", "person_name"), "an investigation", T0, T1
    )
    same(
        to_json(disclosure),
        {
            "id": "d-1",
            "subject_id": "p1",
            "requester": "the police",
            "data": ["person_contact", "person_name"],
            "reason": "an investigation",
            "requested_at": "2026-03-01T09:30:00+01:00",
            "answer_by": "2026-03-20T17:00:05.250000+01:00",
            "status": "pending",
            "decided_at": None,
        },
    )


STAFF = StaffMember("erik", "Erik G", "permanent", T0, confidentiality_signed_at=T1)
AGREEMENT = Agreement("acme", "confidentiality", "all client data", T0, ends_at=T2, id=4)


def test_staff_agreements_and_decisions_were_the_cli_guard_json() -> None:
    same(
        to_json(STAFF),
        {
            "id": "erik",
            "name": "Erik G",
            "employment": "permanent",
            "confidentiality_signed_at": "2026-03-20T17:00:05.250000+01:00",
            "started_at": "2026-03-01T09:30:00+01:00",
            "ended_at": None,
        },
    )
    same(
        to_json(AGREEMENT),
        {
            "id": 4,
            "client": "acme",
            "kind": "confidentiality",
            "scope": "all client data",
            "agreed_at": "2026-03-01T09:30:00+01:00",
            "ends_at": "2026-06-01T00:00:00+00:00",
            "delete_by": None,
        },
    )
    same(
        to_json(Decision.refuse("no confidentiality agreement in force")),
        {"allowed": False, "reason": "no confidentiality agreement in force"},
    )


# -- what the stores write ------------------------------------------------------------------


def test_identities_kept_in_the_request_register_were_written_by_hand() -> None:
    assert SqlRequestRegister._row(PENDING)["identities"] == (
        '[{"kind": "email", "value": "ann@example.org", "format": "raw"}, '
        '{"kind": "subject_id", "value": "p1", "format": "raw"}]'
    )


def test_audit_details_of_restrictions_agreements_and_staff_were_written_by_hand(
    tmp_path: Path,
) -> None:
    Workspace.init(tmp_path)
    with Workspace.open(tmp_path, clock=lambda: T2) as ws:
        ws.add_subject(["client"], subject_id="acme", name="Acme")
        started = attrs.evolve(RESTRICTION, subject_id="acme", lifted_at=None, id=None)
        restrictions = ws.ledger.requests
        added = restrictions.add_restriction(started, "cli")
        restrictions.lift(added.id or 0, T1, "cli")
        registers = ws.ledger.registers
        registers.add_agreement(attrs.evolve(AGREEMENT, id=None), "cli")
        registers.save_staff(STAFF, "cli")
        registers.save_staff(attrs.evolve(STAFF, ended_at=T2), "cli")
        entries = {e.action: e for e in ws.audit_entries()}
        restriction = {
            "restriction": added.id,
            "kind": "restriction",
            "category": "person_contact",
            "purpose": None,
            "ground": "unlawful",
            "request": "r-3",
            "started_at": "2026-03-01T09:30:00+01:00",
            "lifted_at": None,
        }
        assert entries["restriction.started"].details == restriction
        lifted = entries["restriction.lifted"].details
        assert lifted == {
            **restriction,
            "started_at": lifted["started_at"],  # as read back from the database
            "lifted_at": "2026-03-20T17:00:05.250000+01:00",
        }
        assert datetime.fromisoformat(lifted["started_at"]) == T0
        assert entries["agreement.recorded"].details == {
            "agreement": 1,
            "kind": "confidentiality",
            "agreed_at": "2026-03-01T09:30:00+01:00",
            "ends_at": "2026-06-01T00:00:00+00:00",
            "delete_by": None,
        }
        staff = {
            "staff": "erik",
            "employment": "permanent",
            "confidentiality_signed_at": "2026-03-20T17:00:05.250000+01:00",
            "started_at": "2026-03-01T09:30:00+01:00",
            "ended_at": None,
        }
        assert entries["staff.added"].details == staff
        assert entries["staff.updated"].details == {
            **staff,
            "ended_at": "2026-06-01T00:00:00+00:00",
        }
        assert ws.verify_audit().ok


def test_a_files_store_document_was_written_by_hand() -> None:
    from praclox_privacy.stores.files.disk import encode

    other = Item("p1", "a_cat", "f", "ü", T2)
    assert encode("p1", [ITEM, other]).decode("utf-8") == (
        "{\n"
        '  "format": 1,\n'
        '  "subject_id": "p1",\n'
        '  "items": [\n'
        '    {"category": "a_cat", "field": "f", "value": "ü", '
        '"collected_at": "2026-06-01T00:00:00+00:00", "purposes": []},\n'
        '    {"category": "person_contact", "field": "email", "value": "ann@example.org", '
        '"collected_at": "2026-03-01T09:30:00+01:00", "purposes": ["newsletter", "support"]}\n'
        "  ]\n"
        "}\n"
    )
