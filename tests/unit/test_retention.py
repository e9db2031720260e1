"""Unit tests of the pure retention decisions (:mod:`praclox_privacy.domain.retention`)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from praclox_privacy import default_policy, default_policy_text, load_policy
from praclox_privacy.domain.periods import Period
from praclox_privacy.domain.policy import (
    ConsentExtension,
    Controller,
    Labels,
    LegalBasis,
    LegalHold,
    Policy,
    RetentionAction,
    RetentionRule,
)
from praclox_privacy.domain.records import Consent, Evidence, Item, Subject
from praclox_privacy.domain.retention import (
    Extension,
    Status,
    decide,
    decide_all,
    erasure_plan,
    rule_due_at,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
POLICY = default_policy()
EVIDENCE = Evidence(method="e-mail", text="Ja, bewaar mijn sollicitatie.", reference="mail-17")
AWR = "Algemene wet inzake rijksbelastingen"

# The rejection date used throughout the S14 tests, and the dates derived from it by hand.
REJECTED = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
REJECTED_P3M = datetime(2025, 4, 30, 10, 0, tzinfo=UTC)  # 31 Jan + 3 months
REJECTED_P1Y = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def make_item(
    subject_id: str, category: str, field: str = "name", collected_at: datetime | None = None
) -> Item:
    return Item(
        subject_id=subject_id,
        category=category,
        field=field,
        value=f"{category}:{field}",
        collected_at=collected_at or at(2024, 1, 1),
    )


def make_consent(
    subject_id: str,
    kind: str,
    granted_at: datetime,
    withdrawn_at: datetime | None = None,
    until: datetime | None = None,
) -> Consent:
    consent = Consent(
        subject_id=subject_id, kind=kind, granted_at=granted_at, evidence=EVIDENCE, until=until
    )
    return consent.withdraw(withdrawn_at) if withdrawn_at is not None else consent


def applicant(rejected: datetime | None = REJECTED) -> Subject:
    subject = Subject("applicant-1", {"applicant"})
    return subject.with_event("rejected", rejected) if rejected is not None else subject


APPLICATION = make_item("applicant-1", "application", "cv", collected_at=at(2024, 12, 1))


def keep_application(**kwargs: datetime | None) -> Consent:
    kwargs.setdefault("granted_at", REJECTED)
    return make_consent("applicant-1", "keep_application", **kwargs)  # type: ignore[arg-type]


def hand_policy(*rules: RetentionRule) -> Policy:
    """A minimal policy; ``decide`` only reads its retention rules."""
    return Policy(
        controller=Controller(name="Test", email="dpo@example.nl", country="NL"),
        relation_types=(),
        categories=(),
        purposes=(),
        events=(),
        retention=rules,
    )


def rule(
    id: str,
    relation_types: tuple[str, ...],
    categories: tuple[str, ...],
    period: str,
    after: tuple[str, ...],
    **kwargs: object,
) -> RetentionRule:
    return RetentionRule(
        id=id,
        relation_types=relation_types,
        categories=categories,
        period=Period.parse(period),
        after=after,
        **kwargs,  # type: ignore[arg-type]
    )


HOLD = LegalHold(law="Testwet art. 1", reason=Labels(nl="wettelijk", en="by law"))


# -- S14: applicants -------------------------------------------------------------------------


@pytest.mark.promise("S14")
def test_S14_default_policy_keeps_applications_three_months_or_one_year_with_consent() -> None:
    applications = POLICY.rule("applications")
    assert POLICY.rules_for("applicant", "application") == (applications,)
    assert applications.period == Period(months=3)
    assert applications.after == ("rejected",)
    assert applications.consent_extension == ConsentExtension("keep_application", Period(years=1))
    assert "S14" in applications.source


@pytest.mark.promise("S14")
@pytest.mark.parametrize(
    "now",
    [REJECTED, REJECTED + timedelta(days=1), at(2025, 3, 31), REJECTED_P3M - MICRO],
)
def test_S14_rejected_applicant_is_kept_before_three_months(now: datetime) -> None:
    decision = decide(APPLICATION, applicant(), [], POLICY, now)
    assert decision.status is Status.KEPT
    assert not decision.is_due
    assert decision.due_at == REJECTED_P3M
    assert decision.rule == "applications"
    assert decision.action is RetentionAction.ERASE
    assert decision.extension is None
    assert decision.hold is None


@pytest.mark.promise("S14")
@pytest.mark.parametrize(
    "now", [REJECTED_P3M, REJECTED_P3M + MICRO, at(2025, 5, 1), at(2030, 1, 1)]
)
def test_S14_rejected_applicant_is_due_from_three_months(now: datetime) -> None:
    decision = decide(APPLICATION, applicant(), [], POLICY, now)
    assert decision.status is Status.DUE
    assert decision.is_due
    assert decision.due_at == REJECTED_P3M
    assert decision.rule == "applications"


@pytest.mark.promise("S14")
def test_S14_applicant_not_yet_rejected_is_waiting() -> None:
    decision = decide(APPLICATION, applicant(rejected=None), [], POLICY, at(2030, 1, 1))
    assert decision.status is Status.WAITING
    assert decision.due_at is None
    assert decision.rule == "applications"
    assert "rejected" in decision.reason


@pytest.mark.promise("S14")
def test_S14_latest_rejection_counts() -> None:
    subject = applicant(at(2024, 1, 10)).with_event("rejected", REJECTED)
    decision = decide(APPLICATION, subject, [], POLICY, at(2025, 3, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == REJECTED_P3M


@pytest.mark.promise("S14")
def test_S14_due_date_is_measured_on_utc_instants() -> None:
    # Retention arithmetic runs on UTC, so every store can select due items with one
    # cutoff. Rejected 1 March 12:00 CET (11:00 UTC): due 1 June 11:00 UTC (13:00 CEST).
    rejected = datetime(2025, 3, 1, 12, tzinfo=AMSTERDAM)
    subject = applicant(rejected)
    decision = decide(APPLICATION, subject, [], POLICY, at(2025, 6, 1, 10, 59, 59))
    assert decision.status is Status.KEPT
    assert decision.due_at == at(2025, 6, 1, 11)
    assert decision.due_at == datetime(2025, 6, 1, 13, tzinfo=AMSTERDAM)
    assert decide(APPLICATION, subject, [], POLICY, at(2025, 6, 1, 11)).is_due


@pytest.mark.promise("S14")
def test_S14_keep_application_consent_extends_to_one_year() -> None:
    consent = keep_application(granted_at=REJECTED + timedelta(days=2))
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 8, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == REJECTED_P1Y
    assert decision.rule == "applications"
    assert decision.extension == Extension("keep_application", REJECTED_P1Y, REJECTED_P1Y)
    assert "keep_application" in decision.reason


@pytest.mark.promise("S14")
def test_S14_consent_never_extends_beyond_one_year() -> None:
    consents = [
        keep_application(),
        keep_application(granted_at=at(2025, 2, 1), until=at(2030, 1, 1)),
    ]
    assert decide(APPLICATION, applicant(), consents, POLICY, REJECTED_P1Y - MICRO).status is (
        Status.KEPT
    )
    decision = decide(APPLICATION, applicant(), consents, POLICY, REJECTED_P1Y)
    assert decision.status is Status.DUE
    assert decision.due_at == REJECTED_P1Y


@pytest.mark.promise("S14")
def test_S14_consent_granted_before_rejection_extends_from_the_rejection() -> None:
    consent = keep_application(granted_at=at(2024, 12, 1))
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 6, 1))
    assert decision.due_at == REJECTED_P1Y


@pytest.mark.promise("S14")
def test_S14_lapsing_consent_extends_until_it_lapses() -> None:
    until = at(2025, 9, 1)
    consent = keep_application(until=until)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 6, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == until
    assert decision.extension == Extension("keep_application", until, REJECTED_P1Y)
    assert decide(APPLICATION, applicant(), [consent], POLICY, until).is_due


@pytest.mark.promise("S14")
def test_S14_consent_lapsing_before_three_months_does_not_shorten_retention() -> None:
    consent = keep_application(until=at(2025, 3, 1))
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 3, 15))
    assert decision.status is Status.KEPT
    assert decision.due_at == REJECTED_P3M
    assert decision.extension is None


@pytest.mark.promise("S14")
def test_S14_consent_lapsing_exactly_at_three_months_is_no_extension() -> None:
    consent = keep_application(until=REJECTED_P3M)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 3, 15))
    assert decision.due_at == REJECTED_P3M
    assert decision.extension is None


@pytest.mark.promise("S14")
def test_S14_withdrawing_consent_makes_the_application_due_at_once() -> None:
    withdrawn = at(2025, 7, 15, 16, 30)
    consent = keep_application(withdrawn_at=withdrawn)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, withdrawn)
    assert decision.status is Status.DUE
    assert decision.due_at == withdrawn
    later = decide(APPLICATION, applicant(), [consent], POLICY, withdrawn + timedelta(hours=1))
    assert later.status is Status.DUE
    assert later.due_at == withdrawn


@pytest.mark.promise("S14")
def test_S14_withdrawal_not_yet_made_at_now_does_not_count() -> None:
    withdrawn = at(2025, 7, 15)
    consent = keep_application(withdrawn_at=withdrawn)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, withdrawn - MICRO)
    assert decision.status is Status.KEPT
    assert decision.due_at == REJECTED_P1Y


@pytest.mark.promise("S14")
def test_S14_withdrawal_within_three_months_keeps_until_three_months() -> None:
    withdrawn = at(2025, 2, 15)
    consent = keep_application(withdrawn_at=withdrawn)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 3, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == REJECTED_P3M
    assert decision.extension is None
    assert decide(APPLICATION, applicant(), [consent], POLICY, REJECTED_P3M).is_due


@pytest.mark.promise("S14")
def test_S14_withdrawal_ends_the_extension_even_with_a_later_until() -> None:
    withdrawn = at(2025, 6, 1)
    consent = keep_application(until=at(2025, 12, 1), withdrawn_at=withdrawn)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 6, 2))
    assert decision.status is Status.DUE
    assert decision.due_at == withdrawn


@pytest.mark.promise("S14")
def test_S14_consent_granted_after_now_does_not_count() -> None:
    granted = at(2025, 3, 1)
    consent = keep_application(granted_at=granted)
    before = decide(APPLICATION, applicant(), [consent], POLICY, granted - MICRO)
    assert before.status is Status.KEPT
    assert before.due_at == REJECTED_P3M
    assert before.extension is None
    on_grant = decide(APPLICATION, applicant(), [consent], POLICY, granted)
    assert on_grant.due_at == REJECTED_P1Y


@pytest.mark.promise("S14")
def test_S14_consent_granted_after_now_does_not_stop_a_due_application() -> None:
    consent = keep_application(granted_at=at(2025, 6, 1))
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 5, 1))
    assert decision.status is Status.DUE
    assert decision.due_at == REJECTED_P3M


@pytest.mark.promise("S14")
@pytest.mark.parametrize(
    ("subject_id", "kind"),
    [("applicant-1", "newsletter"), ("applicant-1", "recording"), ("applicant-2", None)],
)
def test_S14_only_the_applicants_own_keep_application_consent_extends(
    subject_id: str, kind: str | None
) -> None:
    consent = make_consent(subject_id, kind or "keep_application", REJECTED)
    decision = decide(APPLICATION, applicant(), [consent], POLICY, at(2025, 6, 1))
    assert decision.status is Status.DUE
    assert decision.due_at == REJECTED_P3M
    due, extension = rule_due_at(
        POLICY.rule("applications"), APPLICATION, applicant(), [consent], at(2025, 6, 1)
    )
    assert (due, extension) == (REJECTED_P3M, None)


@pytest.mark.promise("S14")
def test_S14_the_longest_of_several_consents_counts() -> None:
    consents = [
        keep_application(until=at(2025, 8, 1)),
        keep_application(granted_at=at(2025, 2, 1), until=at(2025, 10, 1)),
        keep_application(granted_at=at(2025, 2, 2), withdrawn_at=at(2025, 5, 1)),
    ]
    decision = decide(APPLICATION, applicant(), consents, POLICY, at(2025, 6, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == at(2025, 10, 1)


@pytest.mark.promise("S14")
def test_S14_policy_may_choose_the_regulators_four_weeks() -> None:
    text = default_policy_text()
    assert text.count('period = "P3M"') == 1
    four_weeks = load_policy(text.replace('period = "P3M"', 'period = "P4W"'))
    assert four_weeks.rule("applications").period == Period(weeks=4)
    due = REJECTED + timedelta(weeks=4)
    assert decide(APPLICATION, applicant(), [], four_weeks, due - MICRO).status is Status.KEPT
    decision = decide(APPLICATION, applicant(), [], four_weeks, due)
    assert decision.status is Status.DUE
    assert decision.due_at == due
    # The consent extension still reaches one year.
    consent = keep_application()
    assert decide(APPLICATION, applicant(), [consent], four_weeks, due).due_at == REJECTED_P1Y


@pytest.mark.promise("S14")
def test_S14_application_has_no_legal_hold_and_is_erased_on_request() -> None:
    erase, kept = erasure_plan([APPLICATION], applicant(), [], POLICY, at(2025, 2, 1))
    assert erase == [APPLICATION]
    assert kept == []


# -- S6: invoicing records under a legal hold ---------------------------------------------

CLIENT_ENDED = at(2025, 1, 1)
INVOICE = make_item("c1", "invoicing_records", "invoice-2024-001")
OFFICE_NAME = make_item("c1", "office_identity", "name")


def client(ended: datetime | None = CLIENT_ENDED) -> Subject:
    subject = Subject("c1", {"client"})
    return subject.with_event("relation_ended", ended) if ended is not None else subject


@pytest.mark.promise("S6")
def test_S6_invoicing_records_survive_an_erasure_request_naming_the_law() -> None:
    erase, kept = erasure_plan([OFFICE_NAME, INVOICE], client(), [], POLICY, at(2025, 6, 1))
    assert erase == [OFFICE_NAME]
    assert [d.item for d in kept] == [INVOICE]
    (decision,) = kept
    assert decision.status is Status.KEPT
    assert decision.rule == "invoicing_records"
    assert decision.due_at == at(2032, 1, 1)
    assert decision.hold is not None
    assert decision.hold.rule == "invoicing_records"
    assert AWR in decision.hold.hold.law
    assert decision.hold.until == at(2032, 1, 1)
    assert "7" in decision.hold.hold.reason.en
    assert AWR in decision.reason


@pytest.mark.promise("S6")
def test_S6_invoicing_records_are_held_while_the_relation_lasts() -> None:
    decision = decide(INVOICE, client(ended=None), [], POLICY, at(2040, 1, 1))
    assert decision.status is Status.WAITING
    assert decision.hold is not None
    assert AWR in decision.hold.hold.law
    assert decision.hold.until is None
    erase, kept = erasure_plan(
        [INVOICE, OFFICE_NAME], client(ended=None), [], POLICY, at(2026, 1, 1)
    )
    assert erase == [OFFICE_NAME]
    assert [d.item for d in kept] == [INVOICE]


@pytest.mark.promise("S6")
def test_S6_invoicing_records_become_due_seven_years_after_the_relation_ended() -> None:
    due = at(2032, 1, 1)
    before = decide(INVOICE, client(), [], POLICY, due - MICRO)
    assert before.status is Status.KEPT
    assert before.hold is not None
    decision = decide(INVOICE, client(), [], POLICY, due)
    assert decision.status is Status.DUE
    assert decision.due_at == due
    assert decision.hold is None
    erase, kept = erasure_plan([INVOICE], client(), [], POLICY, due)
    assert erase == [INVOICE]
    assert kept == []


@pytest.mark.promise("S6")
def test_S6_invoicing_purpose_is_a_legal_obligation_naming_the_law() -> None:
    invoicing = POLICY.purpose("invoicing")
    assert invoicing.legal_basis is LegalBasis.LEGAL_OBLIGATION
    assert invoicing.law is not None
    assert AWR in invoicing.law
    assert POLICY.rule("invoicing_records").period == Period(years=7)
    assert POLICY.rule("invoicing_records").legal_hold is not None


@pytest.mark.promise("S6")
def test_S6_office_details_are_not_held_and_go_one_year_after_the_relation() -> None:
    decision = decide(OFFICE_NAME, client(), [], POLICY, at(2025, 6, 1))
    assert decision.status is Status.KEPT
    assert decision.due_at == at(2026, 1, 1)
    assert decision.hold is None
    assert decide(OFFICE_NAME, client(), [], POLICY, at(2026, 1, 1)).is_due


def test_legal_hold_lasts_while_its_own_rule_keeps_the_item() -> None:
    policy = hand_policy(
        rule("held", ("client",), ("ledger",), "P2Y", ("relation_ended",), legal_hold=HOLD),
        rule("longer", ("partner",), ("ledger",), "P5Y", ("relation_ended",)),
    )
    subject = Subject("c1", {"client", "partner"}).with_event("relation_ended", at(2025, 1, 1))
    ledger = make_item("c1", "ledger", "2024")
    held = decide(ledger, subject, [], policy, at(2026, 1, 1))
    assert held.status is Status.KEPT
    assert held.due_at == at(2030, 1, 1)
    assert held.rule == "longer"
    assert held.hold is not None
    assert held.hold.rule == "held"
    assert held.hold.until == at(2027, 1, 1)
    assert erasure_plan([ledger], subject, [], policy, at(2026, 1, 1)) == ([], [held])
    # After the hold ends, the item is still kept by the other rule but may be erased.
    free = decide(ledger, subject, [], policy, at(2027, 1, 1))
    assert free.status is Status.KEPT
    assert free.hold is None
    assert erasure_plan([ledger], subject, [], policy, at(2027, 1, 1)) == ([ledger], [])


@pytest.mark.parametrize(("long_type", "short_type"), [("alpha", "beta"), ("beta", "alpha")])
def test_the_longest_legal_hold_is_reported(long_type: str, short_type: str) -> None:
    policy = hand_policy(
        rule("long", (long_type,), ("ledger",), "P7Y", ("relation_ended",), legal_hold=HOLD),
        rule("short", (short_type,), ("ledger",), "P2Y", ("relation_ended",), legal_hold=HOLD),
        rule("open", ("gamma",), ("ledger",), "P1Y", ("never",), legal_hold=HOLD),
    )
    subject = Subject("c1", {"alpha", "beta"}).with_event("relation_ended", at(2025, 1, 1))
    ledger = make_item("c1", "ledger", "2024")
    decision = decide(ledger, subject, [], policy, at(2026, 1, 1))
    assert decision.status is Status.KEPT
    assert decision.hold is not None
    assert (decision.hold.rule, decision.hold.until) == ("long", at(2032, 1, 1))
    # A held rule still waiting for its event holds without an end date.
    waiting = decide(
        ledger, subject.with_relation_types("alpha", "beta", "gamma"), [], policy, at(2026, 1, 1)
    )
    assert waiting.status is Status.WAITING
    assert waiting.hold is not None
    assert (waiting.hold.rule, waiting.hold.until) == ("open", None)


# -- S10: data from clients' systems ------------------------------------------------------

SYSTEM_DATA = make_item("c1", "client_system_data", "export.csv", collected_at=at(2025, 3, 1))


@pytest.mark.promise("S10")
@pytest.mark.parametrize(
    ("events", "due"),
    [
        ({"used": at(2025, 3, 10)}, at(2025, 4, 9)),
        ({"agreement_ended": at(2025, 3, 20)}, at(2025, 4, 19)),
        ({"used": at(2025, 3, 20), "agreement_ended": at(2025, 3, 5)}, at(2025, 4, 4)),
        ({"used": at(2025, 3, 5), "agreement_ended": at(2025, 3, 20)}, at(2025, 4, 4)),
        ({"used": at(2025, 3, 5), "relation_ended": at(2025, 3, 6)}, at(2025, 4, 4)),
    ],
)
def test_S10_client_system_data_is_due_30_days_after_use_or_agreement_end(
    events: dict[str, datetime], due: datetime
) -> None:
    subject = Subject("c1", {"client"})
    for name, instant in events.items():
        subject = subject.with_event(name, instant)
    kept = decide(SYSTEM_DATA, subject, [], POLICY, due - MICRO)
    assert kept.status is Status.KEPT
    assert kept.due_at == due
    assert kept.rule == "client_system_data"
    decision = decide(SYSTEM_DATA, subject, [], POLICY, due)
    assert decision.status is Status.DUE
    assert decision.due_at == due
    assert decision.action is RetentionAction.ERASE


@pytest.mark.promise("S10")
def test_S10_client_system_data_waits_for_use() -> None:
    subject = Subject("c1", {"client"})
    decision = decide(SYSTEM_DATA, subject, [], POLICY, at(2030, 1, 1))
    assert decision.status is Status.WAITING
    assert decision.due_at is None
    assert "used" in decision.reason
    assert "agreement_ended" in decision.reason


@pytest.mark.promise("S10")
def test_S10_client_system_data_has_no_legal_hold() -> None:
    subject = Subject("c1", {"client"}).with_event("used", at(2025, 3, 10))
    erase, kept = erasure_plan([SYSTEM_DATA], subject, [], POLICY, at(2025, 3, 11))
    assert erase == [SYSTEM_DATA]
    assert kept == []


# -- S13: recordings ----------------------------------------------------------------------


@pytest.mark.promise("S13")
def test_S13_recording_is_due_30_days_after_it_was_collected() -> None:
    collected = datetime(2025, 5, 10, 14, 0, tzinfo=AMSTERDAM)
    recording = make_item("p1", "recording", "call-2025-05-10", collected_at=collected)
    person = Subject("p1", {"contact_person"}, organisation="c1")  # relation goes on
    due = datetime(2025, 6, 9, 14, 0, tzinfo=AMSTERDAM)
    kept = decide(recording, person, [], POLICY, due - MICRO)
    assert kept.status is Status.KEPT
    assert kept.due_at == due
    assert kept.rule == "recordings"
    decision = decide(recording, person, [], POLICY, due)
    assert decision.status is Status.DUE
    assert decision.due_at == due


@pytest.mark.promise("S13")
def test_S13_consent_to_record_does_not_extend_the_recording() -> None:
    recording = make_item("p1", "recording", "call", collected_at=at(2025, 5, 10))
    person = Subject("p1", {"contact_person"})
    consent = make_consent("p1", "recording", at(2025, 5, 9))
    decision = decide(recording, person, [consent], POLICY, at(2025, 6, 9))
    assert decision.status is Status.DUE
    assert decision.due_at == at(2025, 6, 9)


# -- S15: prospects are kept like clients ---------------------------------------------------

OFFICE_CATEGORIES = ("office_identity", "office_address", "office_contact")


@pytest.mark.promise("S15")
@pytest.mark.parametrize("category", OFFICE_CATEGORIES)
def test_S15_prospect_office_data_follows_the_client_rules(category: str) -> None:
    assert POLICY.rules_for("prospect", category) == POLICY.rules_for("client", category)
    assert POLICY.rules_for("prospect", category) != ()
    data = make_item("c1", category)
    ended = at(2025, 2, 1)
    prospect = Subject("c1", {"prospect"}).with_event("relation_ended", ended)
    client_ = Subject("c1", {"client"}).with_event("relation_ended", ended)
    for now in (at(2025, 6, 1), at(2026, 2, 1)):
        as_prospect = decide(data, prospect, [], POLICY, now)
        as_client = decide(data, client_, [], POLICY, now)
        assert (as_prospect.status, as_prospect.due_at, as_prospect.rule) == (
            as_client.status,
            as_client.due_at,
            as_client.rule,
        )


@pytest.mark.promise("S15")
def test_S15_prospect_becoming_client_keeps_its_data_and_history() -> None:
    items = [make_item("c1", c) for c in OFFICE_CATEGORIES]
    prospect = Subject("c1", {"prospect"}).with_event("demo_given", at(2024, 6, 1))
    now = at(2025, 6, 1)
    for decision in decide_all(items, {"c1": prospect}, [], POLICY, now):
        assert decision.status is Status.WAITING
        assert decision.rule == "office_details"

    client_ = prospect.with_relation_types("client")
    assert client_.event_at("demo_given") == at(2024, 6, 1)
    decisions = decide_all(items, {"c1": client_}, [], POLICY, now)
    assert [d.item for d in decisions] == items
    assert all(d.status is Status.WAITING for d in decisions)
    assert all(d.rule == "office_details" for d in decisions)
    erase, kept = erasure_plan(items, client_, [], POLICY, now)
    assert (erase, kept) == (items, [])  # still erasable on request: nothing holds them


@pytest.mark.promise("S15")
def test_S15_after_becoming_a_client_the_client_rules_govern() -> None:
    prospect = Subject("c1", {"prospect"})
    now = at(2026, 1, 1)
    assert decide(INVOICE, prospect, [], POLICY, now).status is Status.UNCOVERED
    assert decide(SYSTEM_DATA, prospect, [], POLICY, now).status is Status.UNCOVERED

    client_ = prospect.with_relation_types("client")
    invoice = decide(INVOICE, client_, [], POLICY, now)
    assert invoice.status is Status.WAITING
    assert invoice.rule == "invoicing_records"
    assert invoice.hold is not None
    ended = client_.with_event("relation_ended", at(2026, 3, 1))
    office = decide(OFFICE_NAME, ended, [], POLICY, at(2026, 6, 1))
    assert office.status is Status.KEPT
    assert office.due_at == at(2027, 3, 1)
    assert decide(INVOICE, ended, [], POLICY, at(2026, 6, 1)).due_at == at(2033, 3, 1)


# -- S5: one person, several relation types ------------------------------------------------

ACCOUNT = make_item("p1", "website_account", "email")
PERSON_NAME = make_item("p1", "person_name", "name")


@pytest.mark.promise("S5")
def test_S5_closing_the_website_account_leaves_the_contact_persons_data() -> None:
    person = Subject("p1", {"website_user", "contact_person"}, organisation="c1")
    closed = person.with_event("account_closed", at(2025, 1, 10))
    now = at(2025, 3, 1)
    account, name = decide_all([ACCOUNT, PERSON_NAME], {"p1": closed}, [], POLICY, now)
    assert account.status is Status.DUE
    assert account.due_at == at(2025, 2, 10)
    assert account.rule == "website_accounts"
    assert name.status is Status.WAITING
    assert name.rule == "contact_persons"


@pytest.mark.promise("S5")
def test_S5_ending_the_contact_relation_leaves_the_website_account() -> None:
    person = Subject("p1", {"website_user", "contact_person"}).with_event(
        "relation_ended", at(2023, 1, 1)
    )
    now = at(2025, 3, 1)
    account, name = decide_all([ACCOUNT, PERSON_NAME], {"p1": person}, [], POLICY, now)
    assert account.status is Status.WAITING
    assert account.rule == "website_accounts"
    assert name.status is Status.DUE
    # The name was collected (2024-01-01) after the relation ended: a period never
    # starts before the item existed.
    assert name.due_at == at(2025, 1, 1)


S5_POLICY = hand_policy(
    rule("website", ("website_user",), ("person_name",), "P1M", ("account_closed",)),
    rule("contact", ("contact_person",), ("person_name",), "P1Y", ("relation_ended",)),
)


@pytest.mark.promise("S5")
def test_S5_shared_item_waits_while_any_relation_lasts() -> None:
    person = Subject("p1", {"website_user", "contact_person"}).with_event(
        "account_closed", at(2020, 1, 1)
    )
    decision = decide(PERSON_NAME, person, [], S5_POLICY, at(2025, 1, 1))
    assert decision.status is Status.WAITING
    assert decision.rule == "contact"
    # The same person without the contact relation would be due long ago.
    website_only = person.with_relation_types("website_user")
    assert decide(PERSON_NAME, website_only, [], S5_POLICY, at(2025, 1, 1)).is_due


@pytest.mark.promise("S5")
@pytest.mark.parametrize(
    ("closed", "ended", "due", "rule_id"),
    [
        (at(2025, 1, 1), at(2025, 2, 1), at(2026, 2, 1), "contact"),
        (at(2025, 1, 1), at(2023, 1, 1), at(2025, 2, 1), "website"),
    ],
)
def test_S5_shared_item_is_kept_until_the_last_rule_lets_go(
    closed: datetime, ended: datetime, due: datetime, rule_id: str
) -> None:
    person = (
        Subject("p1", {"website_user", "contact_person"})
        .with_event("account_closed", closed)
        .with_event("relation_ended", ended)
    )
    kept = decide(PERSON_NAME, person, [], S5_POLICY, due - MICRO)
    assert kept.status is Status.KEPT
    assert kept.due_at == due
    assert kept.rule == rule_id
    decision = decide(PERSON_NAME, person, [], S5_POLICY, due)
    assert decision.status is Status.DUE
    assert decision.rule == rule_id


# -- WAITING, UNCOVERED, rule_due_at -------------------------------------------------------


def test_uncovered_when_no_rule_covers_the_category() -> None:
    office = make_item("applicant-1", "office_identity")
    decision = decide(office, applicant(), [], POLICY, at(2025, 6, 1))
    assert decision.status is Status.UNCOVERED
    assert decision.due_at is None
    assert decision.rule is None
    assert not decision.is_due
    assert "office_identity" in decision.reason
    assert "applicant" in decision.reason


@pytest.mark.promise("S11")
def test_S11_search_parameters_have_no_retention_rule() -> None:
    search = make_item("p1", "search_parameters", "query")
    person = Subject("p1", {"contact_person"})
    assert decide(search, person, [], POLICY, at(2025, 6, 1)).status is Status.UNCOVERED


def test_uncovered_for_a_subject_without_relation_types() -> None:
    nobody = Subject("p1", ())
    decision = decide(PERSON_NAME, nobody, [], POLICY, at(2025, 6, 1))
    assert decision.status is Status.UNCOVERED
    assert "none" in decision.reason


def test_uncovered_for_an_unknown_relation_type() -> None:
    stranger = Subject("p1", {"supplier"})
    assert decide(PERSON_NAME, stranger, [], POLICY, at(2025, 6, 1)).status is Status.UNCOVERED


def test_waiting_when_the_anchor_event_has_not_happened() -> None:
    person = Subject("p1", {"contact_person"}).with_event("account_closed", at(2020, 1, 1))
    decision = decide(PERSON_NAME, person, [], POLICY, at(2040, 1, 1))
    assert decision.status is Status.WAITING
    assert decision.due_at is None
    assert decision.rule == "contact_persons"
    assert "relation_ended" in decision.reason


def test_rule_due_at_is_none_before_the_anchor_event() -> None:
    assert rule_due_at(
        POLICY.rule("applications"), APPLICATION, applicant(None), [], at(2025, 1, 1)
    ) == (None, None)


def test_rule_due_at_measures_collected_from_the_item() -> None:
    r = rule("r", ("x",), ("c",), "P30D", ("collected",))
    data = make_item("p1", "c", collected_at=at(2025, 1, 15))
    subject = Subject("p1", {"x"}).with_event("collected", at(2020, 1, 1))
    assert rule_due_at(r, data, subject, [], at(2025, 1, 1)) == (at(2025, 2, 14), None)


def test_rule_due_at_uses_the_earliest_event_that_happened() -> None:
    r = rule("r", ("x",), ("c",), "P1M", ("a", "b", "collected"))
    data = make_item("p1", "c", collected_at=at(2025, 1, 1))
    subject = Subject("p1", {"x"}).with_event("b", at(2025, 3, 31))
    assert rule_due_at(r, data, subject, [], at(2025, 1, 1)) == (at(2025, 2, 1), None)
    r = rule("r", ("x",), ("c",), "P1M", ("a", "b"))
    subject = subject.with_event("a", at(2025, 4, 15))
    assert rule_due_at(r, data, subject, [], at(2025, 1, 1)) == (at(2025, 4, 30), None)


def test_rule_due_at_never_starts_before_the_item_existed() -> None:
    r = rule("r", ("x",), ("c",), "P1M", ("a",))
    data = make_item("p1", "c", collected_at=at(2025, 5, 1))
    subject = Subject("p1", {"x"}).with_event("a", at(2025, 3, 31))
    assert rule_due_at(r, data, subject, [], at(2025, 1, 1)) == (at(2025, 6, 1), None)


def test_rule_due_at_reports_the_extension() -> None:
    r = rule(
        "r",
        ("x",),
        ("c",),
        "P1M",
        ("collected",),
        consent_extension=ConsentExtension("keep", Period(months=6)),
    )
    data = make_item("p1", "c", collected_at=at(2025, 1, 1))
    subject = Subject("p1", {"x"})
    consent = make_consent("p1", "keep", at(2025, 1, 1), until=at(2025, 3, 1))
    assert rule_due_at(r, data, subject, [consent], at(2025, 1, 2)) == (
        at(2025, 3, 1),
        Extension("keep", at(2025, 3, 1), at(2025, 7, 1)),
    )


def test_anonymise_action_is_reported() -> None:
    policy = hand_policy(
        rule(
            "stats",
            ("client",),
            ("usage",),
            "P1Y",
            ("collected",),
            action=RetentionAction.ANONYMISE,
        )
    )
    data = make_item("c1", "usage", collected_at=at(2024, 1, 1))
    decision = decide(data, Subject("c1", {"client"}), [], policy, at(2025, 1, 1))
    assert decision.status is Status.DUE
    assert decision.action is RetentionAction.ANONYMISE


# -- errors --------------------------------------------------------------------------------


def test_decide_rejects_a_naive_now() -> None:
    naive = at(2025, 6, 1).replace(tzinfo=None)
    with pytest.raises(ValueError, match="no timezone"):
        decide(APPLICATION, applicant(), [], POLICY, naive)


def test_decide_rejects_an_item_of_another_subject() -> None:
    other = make_item("applicant-2", "application", "cv")
    with pytest.raises(ValueError, match="applicant-2/application/cv"):
        decide(other, applicant(), [], POLICY, at(2025, 6, 1))


def test_erasure_plan_rejects_an_item_of_another_subject() -> None:
    other = make_item("applicant-2", "application", "cv")
    with pytest.raises(ValueError, match="does not belong"):
        erasure_plan([APPLICATION, other], applicant(), [], POLICY, at(2025, 6, 1))


def test_decide_all_raises_key_error_naming_the_item_of_a_missing_subject() -> None:
    ghost = make_item("ghost", "person_name", "name")
    with pytest.raises(KeyError) as excinfo:
        decide_all([APPLICATION, ghost], {"applicant-1": applicant()}, [], POLICY, at(2025, 6, 1))
    message = excinfo.value.args[0]
    assert "ghost/person_name/name" in message
    assert "'ghost'" in message


def test_decide_all_gives_each_subject_its_own_consents() -> None:
    other = Subject("applicant-2", {"applicant"}).with_event("rejected", REJECTED)
    other_application = make_item("applicant-2", "application", "cv")
    consents = [keep_application()]
    decisions = decide_all(
        [APPLICATION, other_application],
        {"applicant-1": applicant(), "applicant-2": other},
        consents,
        POLICY,
        at(2025, 6, 1),
    )
    assert [d.item for d in decisions] == [APPLICATION, other_application]
    assert [d.status for d in decisions] == [Status.KEPT, Status.DUE]
    assert [d.due_at for d in decisions] == [REJECTED_P1Y, REJECTED_P3M]


def test_decide_all_of_nothing_is_empty() -> None:
    assert decide_all([], {}, [], POLICY, at(2025, 6, 1)) == []


# -- properties ----------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800))


@pytest.mark.promise("S14")
@settings(deadline=None, max_examples=300)
@given(
    rejected=instants,
    now=instants,
    granted=st.none() | instants,
    withdrawn_after=st.none() | offsets,
    until=st.none() | instants,
)
def test_S14_property_due_iff_now_reaches_due_at(
    rejected: datetime,
    now: datetime,
    granted: datetime | None,
    withdrawn_after: timedelta | None,
    until: datetime | None,
) -> None:
    consents = []
    if granted is not None:
        withdrawn = granted + withdrawn_after if withdrawn_after is not None else None
        consents.append(keep_application(granted_at=granted, withdrawn_at=withdrawn, until=until))
    decision = decide(APPLICATION, applicant(rejected), consents, POLICY, now)

    anchor = max(rejected, APPLICATION.collected_at)
    base = Period(months=3).after(anchor)
    bound = Period(years=1).after(anchor)
    assert decision.due_at is not None
    # Never before the rejection plus three months, never after the consent's bound.
    assert decision.due_at >= base
    assert decision.due_at - anchor >= timedelta(days=89)
    assert decision.due_at <= bound
    assert decision.due_at - anchor <= timedelta(days=366)
    assert (decision.status is Status.DUE) == (now >= decision.due_at)
    assert decision.status in (Status.DUE, Status.KEPT)
    if not consents or consents[0].granted_at > now or consents[0].granted_at >= base:
        assert decision.due_at == base
        assert decision.extension is None


@pytest.mark.promise("S10")
@settings(deadline=None)
@given(used=st.none() | instants, ended=st.none() | instants, now=instants)
def test_S10_property_due_30_days_after_the_earliest_event(
    used: datetime | None, ended: datetime | None, now: datetime
) -> None:
    subject = Subject("c1", {"client"})
    if used is not None:
        subject = subject.with_event("used", used)
    if ended is not None:
        subject = subject.with_event("agreement_ended", ended)
    decision = decide(SYSTEM_DATA, subject, [], POLICY, now)
    happened = [t for t in (used, ended) if t is not None]
    if not happened:
        assert decision.status is Status.WAITING
        assert decision.due_at is None
        return
    anchor = max(min(happened), SYSTEM_DATA.collected_at)
    assert decision.due_at == anchor + timedelta(days=30)
    assert (decision.status is Status.DUE) == (now >= decision.due_at)


@pytest.mark.promise("S5")
@settings(deadline=None)
@given(closed=st.none() | instants, ended=st.none() | instants, now=instants)
def test_S5_property_shared_item_goes_only_when_every_relation_lets_go(
    closed: datetime | None, ended: datetime | None, now: datetime
) -> None:
    person = Subject("p1", {"website_user", "contact_person"})
    if closed is not None:
        person = person.with_event("account_closed", closed)
    if ended is not None:
        person = person.with_event("relation_ended", ended)
    decision = decide(PERSON_NAME, person, [], S5_POLICY, now)
    if closed is None or ended is None:
        assert decision.status is Status.WAITING
        return
    collected = PERSON_NAME.collected_at
    closed, ended = max(closed, collected), max(ended, collected)
    due = max(Period(months=1).after(closed), Period(years=1).after(ended))
    assert decision.due_at == due
    assert decision.due_at >= closed + timedelta(days=28)
    assert decision.due_at >= ended + timedelta(days=365)
    assert (decision.status is Status.DUE) == (now >= due)
