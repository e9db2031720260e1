"""The pure guard rules (S7, S9, S10, S12, S13): decisions on plain values, no store."""

from datetime import UTC, datetime, timedelta

import pytest

from praclox_privacy import Consent, Evidence, default_policy
from praclox_privacy.domain.guards import (
    CONFIDENTIALITY,
    Agreement,
    DisclosureRequest,
    DisclosureStatus,
    Employment,
    StaffMember,
    active_consent,
    agreement_in_force,
    disclosure_status,
    may_disclose,
    may_store_with_agreement,
    purposes_in_effect,
    recording_allowed,
    staff_access,
)
from praclox_privacy.domain.policy import StaffAccessPolicy
from praclox_privacy.domain.records import Subject

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
EVIDENCE = Evidence("phone", "I consent")
RULES = StaffAccessPolicy()


def consent(
    kind: str, at: datetime, scope: str = "", subject: str = "jan", **kw: object
) -> Consent:
    return Consent(subject, kind, at, EVIDENCE, scope=scope, **kw)  # type: ignore[arg-type]


# -- consents ------------------------------------------------------------------------------


def test_active_consent_ignores_withdrawn_lapsed_and_future_ones() -> None:
    given = consent("newsletter", NOW - HOUR)
    assert active_consent([given], "newsletter", NOW) == given
    assert active_consent([given.withdraw(NOW)], "newsletter", NOW) is None
    assert active_consent([consent("newsletter", NOW - HOUR, until=NOW)], "newsletter", NOW) is None
    assert active_consent([consent("newsletter", NOW + HOUR)], "newsletter", NOW) is None
    assert active_consent([given], "recording", NOW) is None
    assert active_consent([given], "newsletter", NOW, scope="other") is None


@pytest.mark.promise("S7")
def test_S7_withdrawn_newsletter_consent_ends_only_the_newsletter() -> None:
    policy = default_policy()
    user = Subject("anna", {"website_user"})
    given = consent("newsletter", NOW - HOUR, subject="anna")
    assert purposes_in_effect(policy, user, [given], NOW) == {
        "newsletter",
        "protected_area",
        "wishes_portal",
    }
    assert purposes_in_effect(policy, user, [given.withdraw(NOW)], NOW) == {
        "protected_area",
        "wishes_portal",
    }


@pytest.mark.promise("S7")
def test_S7_closing_the_account_ends_all_three_purposes() -> None:
    policy = default_policy()
    user = Subject("anna", {"website_user"}).with_event("account_closed", NOW - HOUR)
    given = consent("newsletter", NOW - 2 * HOUR, subject="anna")
    assert purposes_in_effect(policy, user, [given], NOW) == frozenset()


@pytest.mark.promise("S14")
def test_S14_talent_pool_survives_the_rejection_only_with_consent() -> None:
    policy = default_policy()
    applicant = Subject("piet", {"applicant"}).with_event("rejected", NOW - HOUR)
    kept = consent("keep_application", NOW - 2 * HOUR, subject="piet")
    assert purposes_in_effect(policy, applicant, [kept], NOW) == {"talent_pool"}
    assert purposes_in_effect(policy, applicant, [kept.withdraw(NOW)], NOW) == frozenset()


# -- recordings ----------------------------------------------------------------------------


@pytest.mark.promise("S13")
def test_S13_recording_needs_that_persons_consent_for_that_session_before_the_start() -> None:
    prior = consent("recording", NOW - HOUR, scope="call-1")
    assert recording_allowed([prior], "jan", "recording", "call-1", NOW)
    assert recording_allowed([prior], "jan", "recording", "call-1", NOW - HOUR)  # same instant


@pytest.mark.promise("S13")
def test_S13_recording_whose_consent_came_after_its_start_is_refused() -> None:
    late = consent("recording", NOW + timedelta(minutes=1), scope="call-1")
    decision = recording_allowed([late], "jan", "recording", "call-1", NOW)
    assert not decision
    assert "only after it started" in decision.reason


@pytest.mark.promise("S13")
@pytest.mark.parametrize(
    "given",
    [
        consent("recording", NOW - HOUR, scope="call-2"),  # another session
        consent("recording", NOW - HOUR, scope="call-1", subject="piet"),  # another person
        consent("newsletter", NOW - HOUR, scope="call-1"),  # another kind
        consent("recording", NOW - HOUR, scope=""),  # no session named
        consent("recording", NOW - 2 * HOUR, scope="call-1").withdraw(NOW - HOUR),
    ],
)
def test_S13_recording_refused_without_a_matching_prior_consent(given: Consent) -> None:
    assert not recording_allowed([given], "jan", "recording", "call-1", NOW)


# -- agreements ----------------------------------------------------------------------------


@pytest.mark.promise("S10")
def test_S10_agreement_in_force_between_agreed_at_and_its_end() -> None:
    a = Agreement("acme", "client_data_transfer", "debug", NOW - HOUR, ends_at=NOW + HOUR)
    assert a.active_at(NOW)
    assert not a.active_at(NOW - 2 * HOUR)
    assert not a.active_at(NOW + HOUR)
    deleted = Agreement("acme", "client_data_transfer", "", NOW - HOUR, delete_by=NOW)
    assert not deleted.active_at(NOW)
    assert agreement_in_force([a], "acme", "client_data_transfer", NOW) == a
    assert agreement_in_force([a], "other", "client_data_transfer", NOW) is None
    assert may_store_with_agreement([a], "acme", "client_data_transfer", NOW)
    refused = may_store_with_agreement([], "acme", "client_data_transfer", NOW)
    assert not refused
    assert "record the agreement" in refused.reason


# -- staff ---------------------------------------------------------------------------------

CLIENT_NDA = Agreement("acme", CONFIDENTIALITY, "", NOW - 10 * HOUR)


def member(employment: Employment = Employment.PERMANENT, **kw: object) -> StaffMember:
    values: dict[str, object] = {
        "started_at": NOW - 100 * HOUR,
        "confidentiality_signed_at": NOW - 99 * HOUR,
    }
    values.update(kw)
    return StaffMember("anna", "Anna", employment, **values)  # type: ignore[arg-type]


@pytest.mark.promise("S12")
def test_S12_permanent_staff_with_agreements_may_look() -> None:
    assert staff_access(member(), "acme", [CLIENT_NDA], RULES, NOW)


@pytest.mark.promise("S12")
@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("client_nda", [True, False])
def test_S12_temporary_staff_are_always_refused(signed: bool, client_nda: bool) -> None:
    temp = member(Employment.TEMPORARY, confidentiality_signed_at=NOW - HOUR if signed else None)
    decision = staff_access(temp, "acme", [CLIENT_NDA] if client_nda else [], RULES, NOW)
    assert not decision
    assert "temporary" in decision.reason


@pytest.mark.promise("S12")
@pytest.mark.parametrize(
    ("who", "agreements", "why"),
    [
        (None, [CLIENT_NDA], "not in the staff register"),
        (member(confidentiality_signed_at=None), [CLIENT_NDA], "not signed"),
        (member(confidentiality_signed_at=NOW + HOUR), [CLIENT_NDA], "not signed"),
        (member(), [], "no confidentiality agreement with client"),
        (member(ended_at=NOW - HOUR), [CLIENT_NDA], "not employed"),
        (member(started_at=NOW + HOUR), [CLIENT_NDA], "not employed"),
    ],
)
def test_S12_refusals(who: StaffMember | None, agreements: list[Agreement], why: str) -> None:
    decision = staff_access(who, "acme", agreements, RULES, NOW)
    assert not decision
    assert why in decision.reason


# -- disclosure ----------------------------------------------------------------------------


def request(status: DisclosureStatus = DisclosureStatus.PENDING) -> DisclosureRequest:
    return DisclosureRequest(
        "dr-1", "jan", "Acme BV", ["person_contact"], "marketing", NOW, NOW + 24 * HOUR, status
    )


@pytest.mark.promise("S9")
def test_S9_a_pending_request_expires_after_its_answer_time() -> None:
    assert disclosure_status(request(), NOW) is DisclosureStatus.PENDING
    assert disclosure_status(request(), NOW + 24 * HOUR) is DisclosureStatus.EXPIRED
    refused = request(DisclosureStatus.REFUSED)
    assert disclosure_status(refused, NOW + 48 * HOUR) is DisclosureStatus.REFUSED


@pytest.mark.promise("S9")
@pytest.mark.parametrize("status", list(DisclosureStatus))
def test_S9_disclosure_never_without_consent_to_that_request(status: DisclosureStatus) -> None:
    for_other = consent("disclosure", NOW - HOUR, scope="dr-2")
    assert not may_disclose(request(status), [for_other], "disclosure", NOW)
    assert not may_disclose(request(status), [], "disclosure", NOW)


@pytest.mark.promise("S9")
def test_S9_disclosure_only_when_consented_and_not_withdrawn() -> None:
    given = consent("disclosure", NOW - HOUR, scope="dr-1")
    consented = request(DisclosureStatus.CONSENTED)
    assert may_disclose(consented, [given], "disclosure", NOW)
    assert not may_disclose(consented, [given.withdraw(NOW)], "disclosure", NOW)
    assert not may_disclose(request(), [given], "disclosure", NOW)
