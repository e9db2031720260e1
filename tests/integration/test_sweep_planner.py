"""The ledger's SQL planner makes exactly the plan `plan_sweep` makes."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praclox_privacy import Consent, Evidence, Subject, default_policy
from praclox_privacy.domain.sweep_plan import SweepPlan, plan_sweep
from praclox_privacy.stores.sql import SqlSettings
from praclox_privacy.stores.sql.database import SqlDatabase
from praclox_privacy.stores.sql.ledger import SqlLedger
from praclox_privacy.stores.sql.sweep_planner import plan_from_ledger

POLICY = default_policy()
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVENTS = ["relation_ended", "account_closed", "rejected", "used", "agreement_ended"]
TYPES = [rt.id for rt in POLICY.relation_types]
instants = st.integers(0, 4 * 365 * 24).map(lambda h: T0 + timedelta(hours=h, minutes=7))


@st.composite
def ledgers(draw):  # type: ignore[no-untyped-def]
    subjects, consents = [], []
    for n in range(draw(st.integers(1, 8))):
        types = draw(st.sets(st.sampled_from(TYPES), min_size=1, max_size=2))
        subject = Subject(f"s{n}", types)
        for event in draw(st.lists(st.sampled_from(EVENTS), max_size=4)):
            subject = subject.with_event(event, draw(instants))
        subjects.append(subject)
        if draw(st.integers(0, 4)) == 0:
            granted = draw(instants)
            consents.append(
                Consent(
                    subject.id,
                    "keep_application",
                    granted,
                    Evidence("web", "t"),
                    draw(st.none() | instants.filter(lambda t, g=granted: t >= g)),
                )
            )
    return subjects, consents


def canonical(plan: SweepPlan) -> tuple[frozenset[object], frozenset[object]]:
    return (
        frozenset(
            (s.rule, s.action, s.category, s.collected_before, s.subject_ids)
            for s in plan.selections
        ),
        frozenset(plan.held),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(world=ledgers(), now=instants)
def test_sql_planner_equals_plan_sweep(world, now) -> None:  # type: ignore[no-untyped-def]
    subjects, consents = world
    db = SqlDatabase.connect(SqlSettings(url="sqlite://"), ".", "main")
    try:
        ledger = SqlLedger(db, lambda: T0)
        for subject in subjects:
            ledger.add_subject(subject)
        for consent in consents:
            ledger.add_consent(consent)
        expected = plan_sweep(ledger.subjects(), ledger.all_consents(), POLICY, now)
        assert canonical(plan_from_ledger(ledger, POLICY, now)) == canonical(expected)
    finally:
        db.engine.dispose()
