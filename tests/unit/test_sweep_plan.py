"""The sweep plan selects exactly the items that `decide` calls due."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praclox_privacy import Consent, Evidence, Item, Subject, decide, default_policy
from praclox_privacy.domain.periods import Period, start_cutoff
from praclox_privacy.domain.sweep_plan import plan_sweep
from praclox_privacy.ports import DueQuery

POLICY = default_policy()
T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVENTS = ["relation_ended", "account_closed", "rejected", "used", "agreement_ended"]
TYPES = [rt.id for rt in POLICY.relation_types]

instants = st.integers(0, 4 * 365 * 24).map(lambda h: T0 + timedelta(hours=h, minutes=7))


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    subjects, items, consents = [], [], []
    for n in range(draw(st.integers(1, 6))):
        sid = f"s{n}"
        types = draw(st.sets(st.sampled_from(TYPES), min_size=1, max_size=2))
        subject = Subject(sid, types)
        for event in draw(st.lists(st.sampled_from(EVENTS), max_size=3)):
            subject = subject.with_event(event, draw(instants))
        subjects.append(subject)
        categories = sorted({c for rt in types for c in POLICY.relation_type(rt).categories})
        for k in range(draw(st.integers(0, 4))):
            category = draw(st.sampled_from(categories))
            items.append(Item(sid, category, f"f{k}", "v", draw(instants)))
        if "applicant" in types and draw(st.booleans()):
            granted = draw(instants)
            later = instants.filter(lambda t, g=granted: t >= g)
            withdrawn = draw(st.none() | later)
            until = draw(st.none() | instants)
            consents.append(
                Consent(sid, "keep_application", granted, Evidence("web", "t"), withdrawn, until)
            )
    return subjects, items, consents


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), now=instants)
def test_plan_selects_exactly_what_decide_calls_due(world, now) -> None:  # type: ignore[no-untyped-def]
    subjects, items, consents = world
    by_id = {s.id: s for s in subjects}
    plan = plan_sweep(
        subjects,
        {s.id: [c for c in consents if c.subject_id == s.id] for s in subjects},
        POLICY,
        now,
    )
    selected = set()
    for sel in plan.selections:
        query = DueQuery({sel.category}, sel.subject_ids, sel.collected_before)
        selected |= {i.key for i in items if query.matches(i)}
    due = {
        i.key
        for i in items
        if decide(
            i,
            by_id[i.subject_id],
            [c for c in consents if c.subject_id == i.subject_id],
            POLICY,
            now,
        ).is_due
    }
    assert selected == due


@pytest.mark.parametrize("period", ["P1M", "P3M", "P1Y", "P30D", "P7Y", "PT1H", "P4W"])
@pytest.mark.parametrize("day", [1, 28, 29, 30, 31])
def test_start_cutoff_is_exact(period: str, day: int) -> None:
    p = Period.parse(period)
    now = datetime(2024, 3 if day > 29 else 2, day, 12, 30, tzinfo=UTC)
    x = start_cutoff(p, now)
    assert p.after(x - timedelta(microseconds=1)) <= now < p.after(x)


def test_S6_legal_hold_is_reported_with_the_law_and_end_date() -> None:
    client = Subject("c1", {"client"}).with_event("relation_ended", T0)
    plan = plan_sweep([client], {}, POLICY, T0 + timedelta(days=400))
    rules = {s.rule for s in plan.selections}
    assert "office_details" in rules  # P1Y after the end: due
    (held,) = [h for h in plan.held if h.category == "invoicing_records"]
    assert held.kind == "legal_hold"
    assert "rijksbelastingen" in held.ground
    assert held.until == Period(years=7).after(T0)


def test_S14_consent_extension_is_reported_with_its_end() -> None:
    rejected = T0
    applicant = Subject("a1", {"applicant"}).with_event("rejected", rejected)
    consent = Consent(
        "a1", "keep_application", rejected + timedelta(days=1), Evidence("e-mail", "ok")
    )
    plan = plan_sweep([applicant], {"a1": [consent]}, POLICY, rejected + timedelta(days=120))
    assert plan.selections == ()
    (held,) = plan.held
    assert (held.kind, held.ground) == ("consent", "keep_application")
    assert held.until == Period(years=1).after(rejected)
