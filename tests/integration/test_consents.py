"""Consents (GDPR Art. 7) in a real workspace: grant, withdraw at once, never delete (S7, S14),
and the Kantara Consent Receipt v1.1 export."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from praclox_privacy import Item
from praclox_privacy.domain.errors import OperationRefused
from praclox_privacy.ports import LedgerError
from praclox_privacy.services import consents as service
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    Workspace.init(tmp_path)
    workspace = Workspace.open(tmp_path, clock=lambda: NOW)
    workspace.add_subject(["website_user"], subject_id="anna", name="Anna", email="a@x.nl")
    workspace.add_subject(["applicant"], subject_id="piet")
    yield workspace
    workspace.close()


@pytest.mark.promise("S7")
def test_S7_grant_and_withdraw_newsletter_consent_with_evidence(ws: Workspace) -> None:
    granted = service.grant(ws, "anna", "newsletter", method="web form", reference="form-17")
    assert granted.consent.evidence.text.startswith("Ja, stuur mij de nieuwsbrief")
    assert service.is_active(ws, "anna", "newsletter")
    assert "newsletter" in service.purposes_of(ws, "anna")

    withdrawn = service.withdraw(ws, "anna", "newsletter")
    assert [w.id for w in withdrawn] == [granted.id]
    # At once: not active at the very instant of withdrawal.
    assert not service.is_active(ws, "anna", "newsletter")
    assert service.purposes_of(ws, "anna") == {"protected_area", "wishes_portal"}

    # Never deleted: the record stays, with its evidence and its withdrawal.
    [kept] = service.show(ws, "anna")
    assert kept.id == granted.id
    assert kept.consent.withdrawn_at == NOW
    assert kept.consent.evidence.reference == "form-17"
    assert [e.action for e in ws.audit_entries("anna")][-2:] == [
        "consent.granted",
        "consent.withdrawn",
    ]


@pytest.mark.promise("S7")
def test_S7_a_new_grant_supersedes_and_withdrawing_twice_does_nothing(ws: Workspace) -> None:
    service.grant(ws, "anna", "newsletter", method="web form", at=NOW - 3 * DAY)
    service.withdraw(ws, "anna", "newsletter", at=NOW - 2 * DAY)
    assert service.withdraw(ws, "anna", "newsletter") == []
    again = service.grant(ws, "anna", "newsletter", method="e-mail", at=NOW - DAY)
    assert service.is_active(ws, "anna", "newsletter")
    assert [r.id for r in service.show(ws, "anna")][-1] == again.id
    assert len(service.show(ws, "anna")) == 2


def test_undeclared_kind_or_unknown_subject_is_refused(ws: Workspace) -> None:
    with pytest.raises(OperationRefused, match="consent kind 'spam' is not declared"):
        service.grant(ws, "anna", "spam", method="web form")
    with pytest.raises(OperationRefused, match="unknown subject"):
        service.grant(ws, "nobody", "newsletter", method="web form")
    with pytest.raises(OperationRefused, match="unknown subject"):
        service.withdraw(ws, "nobody", "newsletter")


@pytest.mark.promise("S14")
def test_S14_withdrawn_keep_application_consent_makes_the_data_due(ws: Workspace) -> None:
    ws.write([Item("piet", "application", "cv", "cv.pdf", NOW - 200 * DAY)])
    ws.record_event("piet", "rejected", NOW - 150 * DAY)
    service.grant(ws, "piet", "keep_application", method="e-mail", at=NOW - 160 * DAY)
    report = run_sweep(ws, NOW)
    assert report.total == 0
    assert ws.items_of("piet")["main"]
    service.withdraw(ws, "piet", "keep_application", at=NOW)
    report = run_sweep(ws, NOW + timedelta(seconds=1))
    assert report.total == 1
    assert ws.items_of("piet")["main"] == []


# -- Kantara Consent Receipt v1.1 ----------------------------------------------------------

# Consent Receipt Specification v1.1 (Kantara Initiative), section 4: field -> JSON type,
# required or not. publicKey and onBehalf are optional.
TOP: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "version": (str, True),
    "jurisdiction": (str, True),
    "consentTimestamp": (int, True),
    "collectionMethod": (str, True),
    "consentReceiptID": (str, True),
    "publicKey": (str, False),
    "language": (str, False),
    "piiPrincipalId": (str, True),
    "piiControllers": (list, True),
    "policyUrl": (str, True),
    "services": (list, True),
    "sensitive": (bool, True),
    "spiCat": (list, True),
}
CONTROLLER: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "piiController": (str, True),
    "onBehalf": (bool, False),
    "contact": (str, True),
    "address": (dict, True),
    "email": (str, True),
    "phone": (str, True),
    "piiControllerUrl": (str, False),
}
SERVICE: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "service": (str, True),
    "purposes": (list, True),
}
PURPOSE: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "purpose": (str, True),
    "purposeCategory": (list, True),
    "consentType": (str, True),
    "piiCategory": (list, True),
    "primaryPurpose": (bool, False),
    "termination": (str, True),
    "thirdPartyDisclosure": (bool, True),
    "thirdPartyName": (str, False),
}


def check(obj: Any, spec: dict[str, tuple[type | tuple[type, ...], bool]], where: str) -> None:
    assert isinstance(obj, dict), where
    for key, (kind, required) in spec.items():
        if required:
            assert key in obj, f"{where}.{key} is required"
        if key in obj:
            value = obj[key]
            assert isinstance(value, kind), f"{where}.{key}: {type(value).__name__}"
            if kind is int:
                assert not isinstance(value, bool), f"{where}.{key}"
            if kind is str and required:
                assert key in ("phone",) or value, f"{where}.{key} is empty"
    assert set(obj) <= set(spec), f"{where}: unknown fields {set(obj) - set(spec)}"


def validate_receipt(receipt: dict[str, Any]) -> None:
    check(receipt, TOP, "receipt")
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiControllers"], "at least one controller"
    for i, controller in enumerate(receipt["piiControllers"]):
        check(controller, CONTROLLER, f"piiControllers[{i}]")
    assert receipt["services"], "at least one service"
    for i, service_ in enumerate(receipt["services"]):
        check(service_, SERVICE, f"services[{i}]")
        assert service_["purposes"], "at least one purpose"
        for j, purpose in enumerate(service_["purposes"]):
            check(purpose, PURPOSE, f"services[{i}].purposes[{j}]")
            assert all(isinstance(c, str) for c in purpose["purposeCategory"])
            assert all(isinstance(c, str) for c in purpose["piiCategory"])
            if purpose["thirdPartyDisclosure"]:
                assert purpose["thirdPartyName"]
    assert all(isinstance(c, str) for c in receipt["spiCat"])
    json.dumps(receipt)  # a JSON document


@pytest.mark.promise("S7")
def test_S7_kantara_receipt_has_every_field_of_the_v1_1_specification(ws: Workspace) -> None:
    granted = service.grant(
        ws, "anna", "newsletter", method="web form", at=NOW - DAY, until=NOW + 300 * DAY
    )
    receipt = service.receipt(ws, granted.id, policy_url="https://praclox.example/privacy")
    validate_receipt(receipt)
    assert receipt["consentTimestamp"] == int((NOW - DAY).timestamp())
    assert receipt["collectionMethod"] == "web form"
    assert receipt["jurisdiction"] == "NL"
    assert receipt["piiPrincipalId"] == "anna"
    assert receipt["policyUrl"] == "https://praclox.example/privacy"
    assert receipt["piiControllers"][0]["piiController"] == "Praclox"
    assert receipt["piiControllers"][0]["email"] == "erik@praclox.nl"
    [purpose] = receipt["services"][0]["purposes"]
    assert purpose["purposeCategory"] == ["newsletter"]
    assert purpose["thirdPartyDisclosure"] is False
    assert purpose["primaryPurpose"] is True
    assert "lapses" in purpose["termination"]
    uuid.UUID(receipt["consentReceiptID"])
    # Stable: the same consent gives the same receipt id.
    assert service.receipt(ws, granted.id)["consentReceiptID"] == receipt["consentReceiptID"]

    service.withdraw(ws, "anna", "newsletter")
    withdrawn = service.receipt(ws, granted.id, lang="nl")
    validate_receipt(withdrawn)
    assert withdrawn["services"][0]["purposes"][0]["termination"].startswith("withdrawn")


@pytest.mark.promise("S9")
def test_S9_kantara_receipt_of_a_disclosure_consent_names_the_third_party(
    ws: Workspace,
) -> None:
    from praclox_privacy.services import disclosure

    req = disclosure.request(ws, "anna", "Acme Marketing BV", ["website_account"], "mailing")
    disclosure.decide(ws, req.id, True, method="e-mail")
    [record] = [r for r in service.show(ws, "anna") if r.consent.kind == "disclosure"]
    receipt = service.receipt(ws, record.id)
    validate_receipt(receipt)
    [purpose] = receipt["services"][0]["purposes"]
    assert purpose["thirdPartyDisclosure"] is True
    assert purpose["thirdPartyName"] == "Acme Marketing BV"
    assert purpose["piiCategory"] == ["website account (name and e-mail address)"]


def test_receipt_of_an_unknown_consent(ws: Workspace) -> None:
    with pytest.raises(LedgerError, match="no consent with id 99"):
        service.receipt(ws, 99)
