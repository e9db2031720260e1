"""Data-subject requests across every store: the register and its deadlines (Art. 12),
access (Art. 15, 20), rectification (Art. 16), erasure (Art. 17, 19), restriction
(Art. 18), objection (Art. 21) and OpenDSR intake, on SQLite, PostgreSQL, MariaDB, files
and memory stores.

The property test builds random populations in a workspace whose primary store is SQLite
and whose other stores are memory, files, PostgreSQL and MariaDB, erases one subject, and
checks that every other subject's data is byte-identical and that an access request for
the erased subject returns only what a legal hold keeps.
"""

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import praclox_privacy
from helpers import new_workspace, sql_config, sql_store
from praclox_privacy import Consent, Evidence, Item, ItemKey, RetentionAction
from praclox_privacy.domain.requests import (
    Identity,
    RequestNotFound,
    RequestRefused,
    RequestStatus,
    RequestType,
)
from praclox_privacy.domain.restrictions import ProcessingRestricted
from praclox_privacy.formats.opendsr import OpenDsrError
from praclox_privacy.plugins import make_plugin_manager
from praclox_privacy.ports import CONFIG_NAME, StoreError
from praclox_privacy.services.requests import (
    cancel_request,
    extend_request,
    find_subjects,
    get_request,
    intake_opendsr,
    list_requests,
    opendsr_status,
    receive_request,
    verify_request,
)
from praclox_privacy.services.rights import (
    access_report,
    answer_access,
    ensure_usable,
    erase_subject,
    lift_restriction,
    object_to_processing,
    rectify_data,
    restrict_processing,
    restrictions_of,
)
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.files.store import FilesStore
from praclox_privacy.stores.sql.store import SqlStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
COLLECTED = datetime(2025, 1, 10, tzinfo=UTC)
ENDED = datetime(2025, 6, 1, tzinfo=UTC)
EXTRA = (
    '\n[stores.archive]\nplugin = "files"\npath = "archive"\n'
    '\n[stores.scratch]\nplugin = "memory"\n'
)
UUID = "a7551968-d5d6-44b2-9831-815ac9017798"


@attrs.define
class Recorder:
    """A plugin recording the erasures it is told about (Art. 19)."""

    erased: list[tuple[str, list[ItemKey]]] = attrs.Factory(list)

    @praclox_privacy.hookimpl
    def items_erased(self, store: str, keys: list[ItemKey], action: RetentionAction) -> None:
        self.erased.append((store, sorted(keys, key=str)))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return new_workspace(tmp_path / "ws", EXTRA)


@pytest.fixture
def ws(root: Path, recorder: Recorder) -> Iterator[Workspace]:
    """SQLite primary ``main``, files store ``archive``, memory store ``scratch``."""
    pm = make_plugin_manager(plugins=[recorder])
    with Workspace.open(root, plugin_manager=pm, clock=lambda: NOW) as workspace:
        yield workspace


@pytest.fixture
def people(ws: Workspace) -> Workspace:
    """Client ``acme`` (relation ended) with contact person ``jan`` (also a website user),
    a second website user ``web`` and an applicant; items in every store."""
    ws.add_subject(["client"], subject_id="acme", name="Acme BV", email="info@acme.example")
    ws.add_subject(
        ["contact_person", "website_user"],
        subject_id="jan",
        organisation="acme",
        name="Jan Jansen",
        email="jan@example.org",
    )
    ws.add_subject(["website_user"], subject_id="web", email="web@example.org")
    ws.record_event("acme", "relation_ended", ENDED)
    ws.write(
        [
            Item("acme", "invoicing_records", "invoice-2025-001", "EUR 1200", COLLECTED),
            Item("acme", "office_address", "city", "Utrecht", COLLECTED),
            Item("jan", "person_contact", "email", "jan@example.org", COLLECTED),
            Item("jan", "website_account", "email", "jan@example.org", COLLECTED),
        ]
    )
    ws.write(
        [
            Item("jan", "life_events", "birthday", "1980-02-29", COLLECTED),
            Item("acme", "invoicing_records", "invoice-2024-007", "EUR 800", COLLECTED),
        ],
        store="archive",
    )
    ws.write([Item("jan", "person_name", "name", "Jan Jansen", COLLECTED)], store="scratch")
    ws.ledger.add_consent(
        Consent("jan", "newsletter", COLLECTED, Evidence("web form", "Yes, send me"))
    )
    return ws


def verified(ws: Workspace, kind: RequestType | str, subject_id: str, at: datetime = NOW) -> str:
    request = receive_request(ws, kind, [Identity("subject_id", subject_id)], now=at)
    verify_request(ws, request.id, "Erik", now=at)
    return request.id


def actions(ws: Workspace) -> list[str]:
    return [e.action for e in ws.audit_entries()]


# -- the register: GDPR Art. 12(3) ----------------------------------------------------------


def test_art12_a_request_is_registered_with_its_deadline_and_audited(ws: Workspace) -> None:
    request = receive_request(ws, "access", [Identity("email", "jan@example.org")], now=NOW)
    assert request.status is RequestStatus.PENDING
    assert request.due_at == datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    assert get_request(ws, request.id) == request
    (entry,) = [e for e in ws.audit_entries() if e.action == "request.received"]
    assert entry.details["identity_kinds"] == ["email"]
    assert "jan@example.org" not in json.dumps(entry.details)


def test_art12_a_letter_received_earlier_is_due_a_month_after_it_arrived(ws: Workspace) -> None:
    received = NOW - timedelta(days=10)
    request = receive_request(
        ws, "erasure", [Identity("subject_id", "x")], now=NOW, received_at=received
    )
    assert request.due_at == datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


def test_art12_overdue_requests_are_listed_until_answered_or_extended(people: Workspace) -> None:
    ws = people
    late = receive_request(ws, "access", [Identity("subject_id", "jan")], now=NOW)
    other = receive_request(ws, "access", [Identity("subject_id", "web")], now=NOW)
    after = NOW + timedelta(days=32)
    assert list_requests(ws, overdue=True, now=NOW) == []
    assert {r.id for r in list_requests(ws, overdue=True, now=after)} == {late.id, other.id}
    extend_request(ws, other.id, 1, "many requests at once", now=NOW + timedelta(days=20))
    assert [r.id for r in list_requests(ws, overdue=True, now=after)] == [late.id]
    cancel_request(ws, late.id, "withdrawn by the person", now=after)
    assert list_requests(ws, overdue=True, now=after) == []
    assert [r.id for r in list_requests(ws, overdue=True, now=NOW + timedelta(days=62))] == [
        other.id
    ]
    assert {"request.extended", "request.cancelled"} <= set(actions(ws))


def test_art12_an_extension_after_the_first_month_is_refused(people: Workspace) -> None:
    request = receive_request(people, "access", [Identity("subject_id", "jan")], now=NOW)
    with pytest.raises(RequestRefused, match="within the first month"):
        extend_request(people, request.id, 2, "late", now=NOW + timedelta(days=40))
    assert get_request(people, request.id).extended_until is None


def test_an_unknown_request_is_an_error_naming_it(ws: Workspace) -> None:
    with pytest.raises(RequestNotFound, match="no request 'nope'"):
        get_request(ws, "nope")


# -- identities and verification --------------------------------------------------------------


def test_art12_email_identities_find_the_subject_ignoring_case(people: Workspace) -> None:
    assert find_subjects(people, [Identity("email", "JAN@Example.org")]) == ["jan"]
    assert find_subjects(people, [Identity("email", "info@acme.example")]) == ["acme"]
    assert find_subjects(people, [Identity("email", "nobody@example.org")]) == []
    assert find_subjects(people, [Identity("subject_id", "web")]) == ["web"]
    assert find_subjects(people, [Identity("subject_id", "ghost")]) == []


def test_art12_verification_settles_the_subject_from_the_identities(people: Workspace) -> None:
    request = receive_request(people, "access", [Identity("email", "Jan@example.org")], now=NOW)
    done = verify_request(people, request.id, "Erik", now=NOW)
    assert (done.subject_id, done.verified_by) == ("jan", "Erik")
    assert done.status is RequestStatus.IN_PROGRESS


def test_art12_ambiguous_or_unknown_identities_need_a_named_subject(people: Workspace) -> None:
    ws = people
    ws.write([Item("web", "website_account", "name", "jan@example.org", COLLECTED)])
    both = receive_request(
        ws, "access", [Identity("email", "jan@example.org"), Identity("subject_id", "web")]
    )
    with pytest.raises(RequestRefused, match=r"match several subjects \(jan, web\)"):
        verify_request(ws, both.id, "Erik")
    assert verify_request(ws, both.id, "Erik", subject_id="web").subject_id == "web"
    nobody = receive_request(ws, "access", [Identity("email", "who@example.org")])
    with pytest.raises(RequestRefused, match="match no registered subject"):
        verify_request(ws, nobody.id, "Erik")
    with pytest.raises(RequestRefused, match="unknown subject 'ghost'"):
        verify_request(ws, nobody.id, "Erik", subject_id="ghost")


# -- access and portability: GDPR Art. 15 and 20 ----------------------------------------------


def test_art15_access_returns_everything_held_in_every_store(people: Workspace) -> None:
    request_id = verified(people, "access", "jan")
    report = answer_access(people, "jan", now=NOW)
    assert report.stores == {"main": 3, "archive": 1, "scratch": 1}
    fields = {(e.store, e.item.category, e.item.field): e for e in report.items}
    assert set(fields) == {
        ("main", "person_contact", "email"),
        ("main", "person_name", "name"),
        ("main", "website_account", "email"),
        ("archive", "life_events", "birthday"),
        ("scratch", "person_name", "name"),
    }
    birthday = fields[("archive", "life_events", "birthday")]
    assert [p.id for p in birthday.purposes] == ["congratulations"]
    assert [b.value for b in birthday.legal_bases] == ["legitimate_interest"]
    assert report.consents[0].kind == "newsletter"
    assert report.request is not None
    assert report.request.id == request_id
    assert report.request.status is RequestStatus.COMPLETED
    assert [r.id for r in report.requests] == [request_id]
    status = opendsr_status(people, request_id)
    assert status["request_status"] == "completed"
    assert status["results_count"] == 5


def test_art20_portability_requests_are_answered_like_access(people: Workspace) -> None:
    verified(people, "portability", "web")
    report = answer_access(people, "web")
    assert [e.item.field for e in report.items] == ["email"]
    assert report.request is not None
    assert report.request.type is RequestType.PORTABILITY


def test_art15_nothing_is_exported_before_verification(people: Workspace) -> None:
    request = receive_request(people, "access", [Identity("subject_id", "jan")])
    with pytest.raises(RequestRefused, match="no verified access or portability request"):
        answer_access(people, "jan")
    with pytest.raises(RequestRefused, match="not verified"):
        answer_access(people, "jan", request_id=request.id)
    assert "request.completed" not in actions(people)
    assert get_request(people, request.id).status is RequestStatus.PENDING


def test_art15_a_completed_request_is_not_answered_twice(people: Workspace) -> None:
    request_id = verified(people, "access", "jan")
    answer_access(people, "jan")
    with pytest.raises(RequestRefused, match="no verified access"):
        answer_access(people, "jan")
    with pytest.raises(RequestRefused, match="is completed"):
        answer_access(people, "jan", request_id=request_id)


def test_art15_the_request_of_another_subject_cannot_be_used(people: Workspace) -> None:
    request_id = verified(people, "access", "web")
    with pytest.raises(RequestRefused, match="concerns subject 'web', not 'jan'"):
        answer_access(people, "jan", request_id=request_id)


# -- erasure: GDPR Art. 17 and 19 -------------------------------------------------------------


@pytest.mark.promise("S6")
def test_S6_invoices_survive_erasure_and_the_requester_is_told_why(people: Workspace) -> None:
    ws = people
    verified(ws, "erasure", "acme")
    result = erase_subject(ws, "acme")
    assert result.done
    assert {s: sorted(k.field for k in keys) for s, keys in result.erased.items()} == {
        "main": ["city", "email", "name"]
    }
    kept = sorted((k.store, k.field, k.until) for k in result.kept)
    until = datetime(2032, 6, 1, tzinfo=UTC)  # 7 years after the relation ended
    assert kept == [("archive", "invoice-2024-007", until), ("main", "invoice-2025-001", until)]
    assert all(k.law.startswith("Algemene wet inzake rijksbelastingen") for k in result.kept)
    assert {i.field for i in ws.store("main").items_of("acme")} == {"invoice-2025-001"}
    assert [i.field for i in ws.store("archive").items_of("acme")] == ["invoice-2024-007"]
    record = get_request(ws, result.request.id)
    assert record.status is RequestStatus.COMPLETED
    assert [k["field"] for k in record.result["kept"]] == ["invoice-2025-001", "invoice-2024-007"]


@pytest.mark.promise("S6")
def test_art17_S6_invoices_of_an_active_client_are_kept_until_after_the_relation(
    ws: Workspace,
) -> None:
    ws.add_subject(["client"], subject_id="active")
    ws.write([Item("active", "invoicing_records", "inv-1", "EUR 1", COLLECTED)])
    verified(ws, "erasure", "active")
    (kept,) = erase_subject(ws, "active").kept
    assert kept.until is None  # 7 years after the relation ends, which has not happened
    assert kept.rule == "invoicing_records"


@pytest.mark.promise("S3")
def test_art17_S3_erasing_a_client_keeps_its_contact_persons(people: Workspace) -> None:
    before = people.items_of("jan")
    verified(people, "erasure", "acme")
    result = erase_subject(people, "acme")
    assert result.members_kept == ("jan",)
    assert people.items_of("jan") == before


@pytest.mark.promise("S3")
def test_art17_S3_erasing_a_contact_person_keeps_the_client(people: Workspace) -> None:
    before = people.items_of("acme")
    verified(people, "erasure", "jan")
    result = erase_subject(people, "jan")
    assert result.total == 5
    assert result.kept == ()
    assert result.members_kept == ()
    assert all(items == [] for items in people.items_of("jan").values())
    assert people.items_of("acme") == before


def test_art17_the_subject_keeps_its_ledger_entry_consents_and_requests(people: Workspace) -> None:
    request_id = verified(people, "erasure", "jan")
    erase_subject(people, "jan")
    subject = people.ledger.subject("jan")
    assert subject.relation_types == {"contact_person", "website_user"}
    assert subject.organisation == "acme"
    assert people.ledger.consents_of("jan")[0].kind == "newsletter"
    assert [r.id for r in list_requests(people, subject_id="jan")] == [request_id]


def test_art19_every_store_that_erased_notifies_the_plugins(
    people: Workspace, recorder: Recorder
) -> None:
    verified(people, "erasure", "jan")
    result = erase_subject(people, "jan")
    assert result.recipients == ()  # S9: no recipients by default
    stores = sorted(store for store, _ in recorder.erased)
    assert stores == ["archive", "main", "scratch"]
    erased = dict(recorder.erased)
    assert [k.field for k in erased["archive"]] == ["birthday"]


def test_art19_recipients_of_erased_data_are_named(root: Path) -> None:
    policy = praclox_privacy.default_policy_text().replace(
        "# Consent kinds.",
        '[[recipient]]\nid = "mailer"\nlabel = { nl = "verzendhuis", en = "mailing house" }\n'
        'purposes = ["newsletter"]\ncategories = ["website_account"]\n\n# Consent kinds.',
    )
    (root / "policy.toml").write_text(policy, encoding="utf-8")
    text = (root / CONFIG_NAME).read_text(encoding="utf-8")
    (root / CONFIG_NAME).write_text(text.replace('"default"', '"policy.toml"', 1), "utf-8")
    with Workspace.open(root, clock=lambda: NOW) as ws:
        ws.add_subject(["website_user"], subject_id="web", email="web@example.org")
        verified(ws, "erasure", "web")
        assert erase_subject(ws, "web").recipients == ("mailer",)


def test_art17_nothing_is_erased_before_verification(people: Workspace) -> None:
    before = people.items_of("jan")
    receive_request(people, "erasure", [Identity("subject_id", "jan")])
    with pytest.raises(RequestRefused, match="no verified erasure request"):
        erase_subject(people, "jan")
    assert people.items_of("jan") == before
    assert not [a for a in actions(people) if a.startswith("items.erased")]


def test_art17_a_failing_store_leaves_the_request_open_and_a_rerun_finishes_it(
    people: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FilesStore, keys: Any, action: RetentionAction) -> int:
        raise StoreError("disk on fire")

    request_id = verified(people, "erasure", "jan")
    with monkeypatch.context() as patch:
        patch.setattr(FilesStore, "erase", broken)
        first = erase_subject(people, "jan")
    assert not first.done
    assert first.failures == (("archive", "disk on fire"),)
    assert set(first.erased) == {"main", "scratch"}
    assert get_request(people, request_id).status is RequestStatus.IN_PROGRESS
    assert "request.erasure_incomplete" in actions(people)
    second = erase_subject(people, "jan")
    assert second.done
    assert set(second.erased) == {"archive"}
    assert get_request(people, request_id).status is RequestStatus.COMPLETED
    assert all(items == [] for items in people.items_of("jan").values())


def test_art17_after_erasure_access_returns_only_legally_held_items(people: Workspace) -> None:
    verified(people, "erasure", "acme")
    erase_subject(people, "acme")
    verified(people, "access", "acme")
    report = answer_access(people, "acme")
    assert sorted(e.item.field for e in report.items) == ["invoice-2024-007", "invoice-2025-001"]
    assert all(e.hold_rule == "invoicing_records" for e in report.items)


# -- rectification: GDPR Art. 16 --------------------------------------------------------------


def test_art16_rectification_replaces_the_item_in_every_store_that_holds_it(
    people: Workspace,
) -> None:
    ws = people
    ws.write([Item("jan", "person_name", "name", "Jan Janssen", COLLECTED)], store="archive")
    collected = {
        store: [i.collected_at for i in ws.store(store).items_of("jan") if i.field == "name"]
        for store in ("main", "archive", "scratch")
    }
    verified(ws, "rectification", "jan")
    result = rectify_data(ws, "jan", "person_name", "name", "Jan Jansen-de Vries")
    assert result.rectified == ("main", "archive", "scratch")
    assert result.added_to is None
    for store in ("main", "archive", "scratch"):
        (name,) = [i for i in ws.store(store).items_of("jan") if i.field == "name"]
        assert name.value == "Jan Jansen-de Vries"
        assert [name.collected_at] == collected[store]
    assert get_request(ws, result.request.id).status is RequestStatus.COMPLETED
    entries = [e for e in ws.audit_entries() if e.action in ("item.rectified", "request.completed")]
    assert len(entries) == 4
    assert "Vries" not in json.dumps([e.details for e in entries])


def test_art16_incomplete_data_is_completed(people: Workspace) -> None:
    verified(people, "rectification", "jan")
    result = rectify_data(people, "jan", "person_contact", "phone", "+31 6 1234 5678")
    assert result.rectified == ()
    assert result.added_to == "main"
    assert "phone" in {i.field for i in people.store("main").items_of("jan")}


def test_art16_nothing_is_rectified_before_verification(people: Workspace) -> None:
    receive_request(people, "rectification", [Identity("subject_id", "jan")])
    with pytest.raises(RequestRefused, match="no verified rectification request"):
        rectify_data(people, "jan", "person_name", "name", "X")
    assert [i.value for i in people.store("main").items_of("jan") if i.field == "name"] == [
        "Jan Jansen"
    ]


# -- restriction: GDPR Art. 18 ---------------------------------------------------------------


def test_art18_restricted_data_is_kept_but_every_other_use_is_refused(people: Workspace) -> None:
    ws = people
    restriction = restrict_processing(ws, "jan", "accuracy_contested", category="life_events")
    assert restriction.id is not None
    with pytest.raises(ProcessingRestricted, match="restricted since") as caught:
        ensure_usable(ws, "jan", "congratulations")
    assert caught.value.restriction == restriction
    assert "Art. 18(1)(a) GDPR" in str(caught.value)
    ensure_usable(ws, "jan", "congratulations", "person_name")
    ensure_usable(ws, "jan", "client_relationship")
    # storage stays allowed: the data is kept and may be written
    ws.write([Item("jan", "life_events", "wedding_date", "2010-06-12", COLLECTED)], "archive")
    assert "processing.refused" in actions(ws)
    lifted = lift_restriction(ws, restriction.id, now=NOW + timedelta(days=3))
    assert lifted.lifted_at == NOW + timedelta(days=3)
    ensure_usable(ws, "jan", "congratulations", now=NOW + timedelta(days=3))
    with pytest.raises(RequestRefused, match="already lifted"):
        lift_restriction(ws, restriction.id, now=NOW + timedelta(days=4))
    assert {"restriction.started", "restriction.lifted"} <= set(actions(ws))


def test_art18_a_restriction_of_everything_refuses_every_purpose(people: Workspace) -> None:
    restrict_processing(people, "jan", "legal_claims")
    for purpose in ("client_relationship", "congratulations", "newsletter", "protected_area"):
        with pytest.raises(ProcessingRestricted):
            ensure_usable(people, "jan", purpose)
    ensure_usable(people, "web", "newsletter")  # another subject is not touched
    report = access_report(people, "jan")
    assert all(e.restricted for e in report.items)


def test_art18_a_restriction_needs_a_known_ground_and_category(people: Workspace) -> None:
    with pytest.raises(RequestRefused, match=r"not a ground of Art\. 18"):
        restrict_processing(people, "jan", "boredom")
    with pytest.raises(RequestRefused, match="no data category 'nope'"):
        restrict_processing(people, "jan", "unlawful", category="nope")
    assert restrictions_of(people, "jan") == []


# -- objection: GDPR Art. 21 -----------------------------------------------------------------


@pytest.mark.promise("S7")
def test_art21_S7_a_newsletter_objection_ends_only_the_newsletter(people: Workspace) -> None:
    ws = people
    (objection,) = object_to_processing(ws, "jan")
    assert objection.purpose == "newsletter"
    with pytest.raises(ProcessingRestricted, match="objected to purpose 'newsletter'"):
        ensure_usable(ws, "jan", "newsletter")
    for purpose in ("protected_area", "wishes_portal", "client_relationship", "congratulations"):
        ensure_usable(ws, "jan", purpose)
    ensure_usable(ws, "web", "newsletter")
    assert ws.items_of("jan")["main"]  # no data was erased
    again = object_to_processing(ws, "jan", ["newsletter"])
    assert again == (objection,)  # already in force: not recorded twice
    requests = list_requests(ws, subject_id="jan")
    assert [r.type for r in requests] == [RequestType.OBJECTION, RequestType.OBJECTION]
    assert all(r.status is RequestStatus.COMPLETED for r in requests)


def test_art21_objection_to_legitimate_interest_and_refusal_for_a_contract(
    people: Workspace,
) -> None:
    (objection,) = object_to_processing(people, "jan", ["congratulations"])
    with pytest.raises(ProcessingRestricted):
        ensure_usable(people, "jan", "congratulations")
    with pytest.raises(RequestRefused, match="rests on contract"):
        object_to_processing(people, "jan", ["client_relationship"])
    assert objection.id is not None
    lift_restriction(people, objection.id)
    ensure_usable(people, "jan", "congratulations", now=NOW + timedelta(seconds=1))


def test_ensure_usable_needs_a_declared_purpose(people: Workspace) -> None:
    with pytest.raises(RequestRefused, match="no purpose 'spam'"):
        ensure_usable(people, "jan", "spam")


# -- OpenDSR intake ---------------------------------------------------------------------------


def opendsr(kind: str = "erasure", email: str = "jan@example.org") -> dict[str, Any]:
    return {
        "subject_request_id": UUID,
        "subject_request_type": kind,
        "submitted_time": "2026-03-01T10:00:00Z",
        "subject_identities": [
            {"identity_type": "email", "identity_value": email, "identity_format": "raw"},
            {
                "identity_type": "ios_advertising_id",
                "identity_value": "abc",
                "identity_format": "raw",
            },
        ],
        "api_version": "1.0",
        "status_callback_urls": ["https://controller.example/callbacks"],
    }


def test_opendsr_intake_to_completed_erasure(people: Workspace) -> None:
    ws = people
    request = intake_opendsr(ws, json.dumps(opendsr()), source="req.json")
    assert request.id == UUID
    assert request.received_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert opendsr_status(ws, request) == {
        "controller_id": "Praclox",
        "subject_request_id": UUID,
        "request_status": "pending",
        "expected_completion_time": "2026-04-01T10:00:00Z",
        "received_time": "2026-03-01T10:00:00Z",
        "api_version": "1.0",
    }
    assert intake_opendsr(ws, opendsr()) == request  # the same request again: unchanged
    verify_request(ws, UUID, "Erik")
    assert opendsr_status(ws, UUID)["request_status"] == "in_progress"
    erase_subject(ws, "jan")
    status = opendsr_status(ws, UUID)
    assert status["request_status"] == "completed"
    assert status["results_count"] == 5
    kinds = [i.kind for i in get_request(ws, UUID).identities]
    assert kinds == ["email", "ios_advertising_id"]


def test_opendsr_malformed_requests_list_every_problem_and_register_nothing(
    people: Workspace,
) -> None:
    bad = opendsr(kind="rectification") | {"submitted_time": "tomorrow", "colour": "red"}
    with pytest.raises(OpenDsrError) as caught:
        intake_opendsr(people, bad, source="bad.json")
    assert [p.location for p in caught.value.problems] == [
        "colour",
        "subject_request_type",
        "submitted_time",
    ]
    assert list_requests(people) == []


def test_opendsr_a_reused_id_for_another_request_is_refused(people: Workspace) -> None:
    intake_opendsr(people, opendsr())
    with pytest.raises(RequestRefused, match="different request"):
        intake_opendsr(people, opendsr(kind="access"))


# -- every step is audited, without personal values -------------------------------------------


def test_every_step_is_audited_and_no_personal_value_reaches_the_audit(
    people: Workspace,
) -> None:
    ws = people
    start = len(ws.audit_entries())
    access = receive_request(ws, "access", [Identity("email", "jan@example.org")])
    verify_request(ws, access.id, "Erik")
    answer_access(ws, "jan")
    rect = verified(ws, "rectification", "jan")
    rectify_data(ws, "jan", "person_name", "name", "Jan Secret-Name", request_id=rect)
    object_to_processing(ws, "jan")
    restriction = restrict_processing(ws, "jan", "accuracy_contested", note="phoned 06-1234")
    with pytest.raises(ProcessingRestricted):
        ensure_usable(ws, "jan", "congratulations")
    assert restriction.id is not None
    lift_restriction(ws, restriction.id)
    verified(ws, "erasure", "jan")
    erase_subject(ws, "jan")
    entries = ws.audit_entries()[start:]
    assert {e.action for e in entries} >= {
        "request.received",
        "request.verified",
        "request.completed",
        "item.rectified",
        "objection.recorded",
        "restriction.started",
        "processing.refused",
        "restriction.lifted",
        "items.erased",
    }
    text = json.dumps([e.details for e in entries], ensure_ascii=False)
    for value in ("jan@example.org", "Jan Jansen", "Secret", "1980-02-29", "06-1234"):
        assert value not in text
    assert ws.verify_audit().ok


# -- the register on PostgreSQL and MariaDB ---------------------------------------------------


@pytest.fixture(params=["postgresql", "mariadb"])
def server_root(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    url = request.getfixturevalue(f"{request.param}_url")
    root = tmp_path / request.param
    root.mkdir()
    (root / CONFIG_NAME).write_text(sql_config(url, EXTRA), encoding="utf-8")
    return root


def test_the_register_on_a_server_primary(server_root: Path) -> None:
    with Workspace.open(server_root, clock=lambda: NOW) as ws:
        ws.add_subject(["client"], subject_id="acme", email="Info@Acme.example")
        ws.write([Item("acme", "invoicing_records", "inv-1", "EUR 1 €", COLLECTED)], "archive")
        request = receive_request(ws, "erasure", [Identity("email", "info@acme.EXAMPLE")])
        assert verify_request(ws, request.id, "Erik").subject_id == "acme"
        assert list_requests(ws, overdue=True, now=NOW + timedelta(days=40))[0].id == request.id
        result = erase_subject(ws, "acme")
        assert [k.field for k in result.kept] == ["inv-1"]
        assert get_request(ws, request.id).status is RequestStatus.COMPLETED
        restriction = restrict_processing(ws, "acme", "legal_claims")
        with pytest.raises(ProcessingRestricted):
            ensure_usable(ws, "acme", "invoicing")
        assert restriction.id is not None
        assert lift_restriction(ws, restriction.id).lifted_at == NOW
        verified(ws, "access", "acme")
        assert [e.item.value for e in answer_access(ws, "acme").items] == ["EUR 1 €"]
        assert ws.verify_audit().ok


# -- the property: erasing A leaves everyone else byte-identical -----------------------------

STORES = ("main", "scratch", "archive", "pg", "maria")
KINDS: dict[str, tuple[str, ...]] = {
    "client": ("office_identity", "office_contact", "invoicing_records"),
    "contact_person": ("person_name", "person_contact", "life_events"),
    "website_user": ("website_account",),
    "applicant": ("application",),
}
VALUES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24)
FIELDS = st.sampled_from(["name", "email", "phone", "birthday", "cv", "note-1", "Naam Ä"])


@st.composite
def populations(draw: st.DrawFn) -> list[tuple[str, bool, list[tuple[str, str, str, str]]]]:
    """Subjects: (kind, relation ended?, items as (store, category, field, value))."""
    people = []
    kinds = ["client", *draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4))]
    for kind in kinds:
        items = draw(
            st.lists(
                st.tuples(st.sampled_from(STORES), st.sampled_from(KINDS[kind]), FIELDS, VALUES),
                max_size=8,
                unique_by=lambda t: (t[0], t[1], t[2]),
            )
        )
        people.append((kind, draw(st.booleans()), items))
    return people


@pytest.fixture(scope="module")
def every_store(
    tmp_path_factory: pytest.TempPathFactory, postgresql_url: str, mariadb_url: str
) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("every-store")
    stores = EXTRA + sql_store("pg", postgresql_url) + sql_store("maria", mariadb_url)
    (root / CONFIG_NAME).write_text(sql_config("sqlite:///main.db", stores), encoding="utf-8")
    with Workspace.open(root, clock=lambda: NOW) as ws:
        yield ws


def raw_state(ws: Workspace, skip: str) -> dict[str, Any]:
    """Every other subject's stored data, as the backends hold it (bytes for files)."""
    state: dict[str, Any] = {}
    others = [s.id for s in ws.ledger.subjects() if s.id != skip]
    for name in ws.store_names:
        store = ws.store(name)
        if isinstance(store, SqlStore):
            t = store.database.tables.items
            with store.database.begin() as conn:
                rows = conn.execute(
                    sa.select(t).where(t.c.subject_id != skip).order_by(*t.primary_key.columns)
                ).all()
            state[name] = [tuple(row) for row in rows]
        elif isinstance(store, FilesStore):
            folder = store.path / "subjects"
            state[name] = {
                p.name: p.read_bytes() for p in sorted(folder.glob("*.json")) if p.stem != skip
            }
        else:
            state[name] = {s: store.items_of(s) for s in others}
    return state


_COUNTER = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(population=populations(), data=st.data())
def test_art17_property_erasing_one_subject_leaves_every_other_byte_identical(
    every_store: Workspace, population: Any, data: st.DataObject
) -> None:
    ws = every_store
    run = next(_COUNTER)
    ids: list[str] = []
    org = f"c{run}-0"
    for index, (kind, ended, items) in enumerate(population):
        sid = f"c{run}-{index}" if kind == "client" else f"s{run}-{index}"
        ws.add_subject(
            [kind], subject_id=sid, organisation=org if kind == "contact_person" else None
        )
        if ended:
            event = {"client": "relation_ended", "contact_person": "relation_ended"}.get(kind)
            if event:
                ws.record_event(sid, event, ENDED)
        by_store: dict[str, list[Item]] = {}
        for store, category, field, value in items:
            by_store.setdefault(store, []).append(Item(sid, category, field, value, COLLECTED))
        for store, batch in by_store.items():
            ws.write(batch, store)
        ids.append(sid)
    target = data.draw(st.sampled_from(ids), label="erased")
    before = raw_state(ws, target)
    held_before = {
        (name, i.field)
        for name in ws.store_names
        for i in ws.store(name).items_of(target)
        if i.category == "invoicing_records"
    }

    verified(ws, "erasure", target)
    result = erase_subject(ws, target)

    assert result.done
    assert raw_state(ws, target) == before
    verified(ws, "access", target)
    report = answer_access(ws, target)
    assert {(e.store, e.item.field) for e in report.items} == held_before
    assert all(e.hold_rule == "invoicing_records" for e in report.items)
    assert {(k.store, k.field) for k in result.kept} == held_before
    if target == org:
        members = sorted(
            s for s in ids if s.startswith("s") and population[ids.index(s)][0] == "contact_person"
        )
        assert list(result.members_kept) == members
