"""The guards in a real workspace (SQLite primary plus a memory store): S10, S12, S13."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import Clock, new_workspace
from praclox_privacy import Item
from praclox_privacy.domain.errors import OperationRefused
from praclox_privacy.ports import WriteRefused
from praclox_privacy.services import consents as consent_service
from praclox_privacy.services.guards import (
    AccessRefused,
    add_staff,
    agreements,
    check_access,
    end_agreement,
    guard,
    guarded,
    list_staff,
    mark_used,
    record_agreement,
)
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def ws(tmp_path: Path, clock: Clock) -> Iterator[Workspace]:
    new_workspace(tmp_path, '\n[stores.scratch]\nplugin = "memory"\n')
    workspace = Workspace.open(tmp_path, clock=clock)
    workspace.add_subject(["client"], subject_id="acme", name="Acme")
    workspace.add_subject(["client"], subject_id="globex", name="Globex")
    workspace.add_subject(["contact_person"], subject_id="jan", organisation="acme", name="Jan")
    yield workspace
    workspace.close()


def system_data(client: str = "acme", field: str = "export.csv") -> Item:
    return Item(client, "client_system_data", field, "rows", NOW)


def actions(ws: Workspace) -> list[str]:
    return [e.action for e in ws.audit_entries()]


# -- S10: client system data -------------------------------------------------------------


@pytest.mark.promise("S10")
@pytest.mark.parametrize("store", ["main", "scratch"])
def test_S10_client_system_data_without_an_agreement_is_refused(ws: Workspace, store: str) -> None:
    with pytest.raises(WriteRefused, match="no 'client_data_transfer' agreement with 'acme'"):
        ws.write([Item("acme", "office_contact", "email", "a@b.nl", NOW), system_data()], store)
    held = {i.category for i in ws.store(store).items_of("acme")}
    assert not held & {"office_contact", "client_system_data"}  # nothing of the call


@pytest.mark.promise("S10")
def test_S10_another_clients_or_an_ended_agreement_does_not_count(ws: Workspace) -> None:
    record_agreement(ws, "globex", "client_data_transfer", agreed_at=NOW - DAY)
    with pytest.raises(WriteRefused):
        ws.write([system_data("acme")])
    made = record_agreement(ws, "acme", "client_data_transfer", agreed_at=NOW - DAY)
    ws.write([system_data("acme")])
    end_agreement(ws, made.id or 0, at=NOW)
    with pytest.raises(WriteRefused):
        ws.write([system_data("acme", "second.csv")])
    assert "agreement_ended" in [e.name for e in ws.ledger.subject("acme").events]


@pytest.mark.promise("S10")
def test_S10_an_agreement_recorded_after_the_transfer_is_too_late(ws: Workspace) -> None:
    record_agreement(ws, "acme", "client_data_transfer", agreed_at=NOW + DAY)
    with pytest.raises(WriteRefused):
        ws.write([system_data()])


@pytest.mark.promise("S10")
def test_S10_import_of_client_system_data_without_agreement_names_the_line(
    ws: Workspace, tmp_path: Path
) -> None:
    data = tmp_path / "items.csv"
    data.write_text(
        "subject_id,category,field,value\n"
        "acme,office_contact,email,info@acme.nl\n"
        "acme,client_system_data,dump.sql,rows\n",
        encoding="utf-8",
    )
    with pytest.raises(OperationRefused, match=r"items\.csv:3: no 'client_data_transfer'"):
        ws.import_file(data)
    assert [i.category for i in ws.items_of("acme")["main"]] == ["office_identity"]


@pytest.mark.promise("S10")
def test_S10_client_system_data_with_an_agreement_is_erased_by_the_sweep_after_use(
    ws: Workspace, clock: Clock
) -> None:
    record_agreement(
        ws, "acme", "client_data_transfer", scope="debug the import", agreed_at=NOW - DAY
    )
    assert ws.write([system_data()]) == 1
    assert [a.kind for a in agreements(ws, "acme")] == ["client_data_transfer"]
    # Not used yet: the sweep keeps it, whenever it runs.
    run_sweep(ws, NOW + 400 * DAY)
    assert [i.field for i in ws.items_of("acme")["main"] if i.category == "client_system_data"]
    used = NOW + 2 * DAY
    mark_used(ws, "acme", at=used)
    run_sweep(ws, used + 29 * DAY)
    assert any(i.category == "client_system_data" for i in ws.items_of("acme")["main"])
    report = run_sweep(ws, used + 31 * DAY)
    assert report.total == 1
    assert not any(i.category == "client_system_data" for i in ws.items_of("acme")["main"])
    assert any(i.category == "office_identity" for i in ws.items_of("acme")["main"])
    assert "agreement.recorded" in actions(ws)
    assert "sweep.erased" in actions(ws)


def test_unknown_agreement_kind_or_client_is_refused(ws: Workspace) -> None:
    with pytest.raises(OperationRefused, match="unknown agreement kind"):
        record_agreement(ws, "acme", "handshake")
    with pytest.raises(OperationRefused, match="unknown subject"):
        record_agreement(ws, "nobody", "confidentiality")


# -- S12: staff access guard -----------------------------------------------------------------


@pytest.fixture
def staffed(ws: Workspace) -> Workspace:
    add_staff(
        ws,
        "anna",
        "Anna",
        "permanent",
        started_at=NOW - 400 * DAY,
        confidentiality_signed_at=NOW - 399 * DAY,
    )
    add_staff(
        ws,
        "tim",
        "Tim",
        "temporary",
        started_at=NOW - 10 * DAY,
        confidentiality_signed_at=NOW - 10 * DAY,
    )
    add_staff(ws, "bob", "Bob", "permanent", started_at=NOW - 10 * DAY)
    record_agreement(ws, "acme", "confidentiality", agreed_at=NOW - 300 * DAY)
    return ws


@pytest.mark.promise("S12")
def test_S12_guard_allows_signed_permanent_staff_for_a_client_with_an_agreement(
    staffed: Workspace,
) -> None:
    with guard(staffed, "anna", "acme", purpose="support ticket 12") as decision:
        assert decision.allowed
    entry = staffed.audit_entries()[-1]
    assert entry.action == "guard.allowed"
    assert entry.details["staff"] == "anna"
    assert entry.details["purpose"] == "support ticket 12"
    assert entry.subject_id == "acme"


@pytest.mark.promise("S12")
@pytest.mark.parametrize("client", ["acme", "globex"])
def test_S12_temporary_staff_are_always_refused_and_audited(
    staffed: Workspace, client: str
) -> None:
    record_agreement(staffed, "globex", "confidentiality", agreed_at=NOW - DAY)
    ran = []
    with pytest.raises(AccessRefused, match="temporary"), guard(staffed, "tim", client):
        ran.append(True)
    assert ran == []
    assert staffed.audit_entries()[-1].action == "guard.refused"


@pytest.mark.promise("S12")
@pytest.mark.parametrize(
    ("staff_id", "client", "why"),
    [
        ("bob", "acme", "not signed"),
        ("anna", "globex", "no confidentiality agreement with client"),
        ("eve", "acme", "not in the staff register"),
    ],
)
def test_S12_every_refusal_is_audited(
    staffed: Workspace, staff_id: str, client: str, why: str
) -> None:
    decision = check_access(staffed, staff_id, client)
    assert not decision
    assert why in decision.reason
    entry = staffed.audit_entries()[-1]
    assert entry.action == "guard.refused"
    assert why in entry.details["reason"]


@pytest.mark.promise("S12")
def test_S12_guard_as_decorators(staffed: Workspace) -> None:
    @guarded(staffed)
    def open_client(staff_id: str, client_id: str) -> str:
        return f"{staff_id} sees {client_id}"

    assert open_client("anna", client_id="acme") == "anna sees acme"
    with pytest.raises(AccessRefused):
        open_client("tim", "acme")

    @guard(staffed, "anna", "globex")
    def look() -> None:
        raise AssertionError("must not run")

    with pytest.raises(AccessRefused):
        look()
    with pytest.raises(TypeError, match="no argument 'client_id'"):
        guarded(staffed)(lambda staff_id: None)
    assert [e.action for e in staffed.audit_entries()[-3:]] == [
        "guard.allowed",
        "guard.refused",
        "guard.refused",
    ]


@pytest.mark.promise("S12")
def test_S12_leaving_staff_lose_access(staffed: Workspace, clock: Clock) -> None:
    add_staff(
        staffed,
        "anna",
        "Anna",
        "permanent",
        started_at=NOW - 400 * DAY,
        confidentiality_signed_at=NOW - 399 * DAY,
        ended_at=NOW + DAY,
    )
    assert check_access(staffed, "anna", "acme")
    clock.now = NOW + 2 * DAY
    assert not check_access(staffed, "anna", "acme")
    assert [m.id for m in list_staff(staffed)] == ["anna", "bob", "tim"]
    assert {"staff.added", "staff.updated"} <= set(actions(staffed))


# -- S13: recordings -------------------------------------------------------------------------


def recording(field: str = "call-2026-03-02", at: datetime = NOW) -> Item:
    return Item("jan", "recording", field, "audio.ogg", at)


@pytest.mark.promise("S13")
@pytest.mark.parametrize("store", ["main", "scratch"])
def test_S13_recording_without_consent_is_refused(ws: Workspace, store: str) -> None:
    with pytest.raises(WriteRefused, match="no prior 'recording' consent of 'jan'"):
        ws.write([recording()], store)
    assert not any(i.category == "recording" for i in ws.store(store).items_of("jan"))


@pytest.mark.promise("S13")
def test_S13_recording_with_prior_consent_for_that_session_is_stored(ws: Workspace) -> None:
    consent_service.grant(
        ws, "jan", "recording", method="phone", scope="call-2026-03-02", at=NOW - DAY
    )
    assert ws.write([recording()]) == 1
    with pytest.raises(WriteRefused, match="'call-2026-03-03'"):
        ws.write([recording("call-2026-03-03")])


@pytest.mark.promise("S13")
def test_S13_recording_whose_consent_came_after_its_start_is_refused(ws: Workspace) -> None:
    consent_service.grant(
        ws,
        "jan",
        "recording",
        method="phone",
        scope="call-2026-03-02",
        at=NOW + timedelta(minutes=5),
    )
    with pytest.raises(WriteRefused, match="only after it started"):
        ws.write([recording(at=NOW)])


@pytest.mark.promise("S13")
def test_S13_withdrawn_consent_refuses_later_recordings(ws: Workspace) -> None:
    consent_service.grant(ws, "jan", "recording", method="phone", scope="call-9", at=NOW - DAY)
    consent_service.withdraw(ws, "jan", "recording", at=NOW - DAY / 2)
    with pytest.raises(WriteRefused):
        ws.write([recording("call-9")])


# -- S12: reading client data by a named staff member (issue 16, item 14) ----------------


@pytest.mark.promise("S12")
def test_S12_reads_of_client_data_by_staff_go_through_the_guard(ws: Workspace) -> None:
    """Issue 16, item 14: a named staff member reads a client's data, or its contact
    person's, only when the access guard allows it; both reads and refusals are audited.
    A subject that is no client's (a website user) needs no guard."""
    ws.add_subject(["website_user"], subject_id="web-1", email="web@example.org")
    add_staff(ws, "anna", "Anna", "permanent", confidentiality_signed_at=NOW - DAY,
              started_at=NOW - DAY)  # fmt: skip
    add_staff(ws, "tim", "Tim", "temporary", confidentiality_signed_at=NOW - DAY,
              started_at=NOW - DAY)  # fmt: skip
    with pytest.raises(AccessRefused, match="no confidentiality agreement with client 'acme'"):
        ws.items_of("jan", staff="anna")
    record_agreement(ws, "acme", "confidentiality", agreed_at=NOW - DAY)
    found = ws.items_of("jan", staff="anna", purpose="support call")
    assert [i.value for i in found["main"]] == ["Jan"]
    with pytest.raises(AccessRefused, match="temporary staff"):
        ws.items_of("acme", staff="tim")
    with pytest.raises(AccessRefused, match="not in the staff register"):
        ws.items_of("acme", staff="nobody")
    assert ws.items_of("web-1", staff="tim")["main"][0].value == "web@example.org"
    entries = [(e.action, e.subject_id, e.actor) for e in ws.audit_entries()]
    assert ("guard.allowed", "acme", "anna") in entries
    assert ("items.read", "jan", "anna") in entries
    assert ("guard.refused", "acme", "tim") in entries
    read = [e for e in ws.audit_entries("jan") if e.action == "items.read"]
    assert read[0].details == {"staff": "anna", "purpose": "support call", "stores": {"main": 1}}


@pytest.mark.promise("S12")
def test_S12_a_temporary_worker_made_permanent_needs_a_reason(ws: Workspace) -> None:
    """Issue 16, item 14: making a temporary worker permanent opens client data to them
    (S12: no temporary staff get access), so it needs an explicit reason, audited."""
    add_staff(ws, "tim", "Tim", "temporary", confidentiality_signed_at=NOW - DAY)
    with pytest.raises(OperationRefused, match="give the reason"):
        add_staff(ws, "tim", "Tim", "permanent", confidentiality_signed_at=NOW - DAY)
    assert list_staff(ws)[0].employment.value == "temporary"
    add_staff(ws, "tim", "Tim", "permanent", confidentiality_signed_at=NOW - DAY,
              reason="contract of indefinite duration signed 2026-03-01")  # fmt: skip
    assert list_staff(ws)[0].employment.value == "permanent"
    (made,) = [e for e in ws.audit_entries() if e.action == "staff.made_permanent"]
    assert made.details == {
        "staff": "tim",
        "reason": "contract of indefinite duration signed 2026-03-01",
    }
    # Other changes of an entry need no reason.
    add_staff(ws, "tim", "Tim B.", "permanent", confidentiality_signed_at=NOW - DAY)
