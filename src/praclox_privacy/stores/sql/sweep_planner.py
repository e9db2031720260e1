"""Plan a sweep from the SQL ledger, doing the common case inside the database.

:func:`praclox_privacy.domain.sweep_plan.plan_sweep` plans one subject at a time in Python.
For a large ledger most subjects are *simple*: they hold exactly one relation type, have
no consent on record, and every category of that relation type has exactly one retention
rule. For those, a rule's decision is one condition on one number per subject (the rule's
anchor: the earliest of its events, each taken at its latest), which the database answers
with a grouped query. Every other subject is planned by ``plan_sweep`` as before. The
result is the same plan (a test compares both on random ledgers).
"""

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from ...domain.periods import start_cutoff
from ...domain.policy import COLLECTED, Policy, RetentionRule
from ...domain.sweep_plan import DueSelection, HeldBack, SweepPlan, plan_sweep
from .ledger import SqlLedger

__all__ = ["plan_from_ledger"]


def _simple_types(policy: Policy) -> dict[str, dict[str, RetentionRule]]:
    """Relation types whose every category has exactly one rule, with those rules."""
    rules: dict[str, dict[str, list[RetentionRule]]] = {}
    for rule in policy.retention:
        for rt in rule.relation_types:
            for category in rule.categories:
                rules.setdefault(rt, {}).setdefault(category, []).append(rule)
    return {
        rt: {category: found[0] for category, found in by_category.items()}
        for rt, by_category in rules.items()
        if all(len(found) == 1 for found in by_category.values())
    }


def plan_from_ledger(ledger: SqlLedger, policy: Policy, now: datetime) -> SweepPlan:
    """Plan the sweep at ``now``: simple subjects in SQL, the others with ``plan_sweep``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    simple = _simple_types(policy)
    t = ledger.database.tables
    r, e, c = t.relations, t.events, t.consents
    # The subjects ``plan_sweep`` handles: several relation types, a consent on record, or
    # a relation type with several rules for a category. Usually few; found once.
    complex_q = sa.union(
        sa.select(r.c.subject_id).group_by(r.c.subject_id).having(sa.func.count() > 1),
        sa.select(c.c.subject_id),
        sa.select(r.c.subject_id).where(r.c.relation_type.not_in(sorted(simple) or [""])),
    ).subquery()
    groups: dict[tuple[str, datetime, str], list[str]] = {}
    actions: dict[str, object] = {}
    held: list[HeldBack] = []
    cutoffs: dict[object, datetime] = {}

    def cutoff(rule: RetentionRule) -> datetime:
        found = cutoffs.get(rule.period)
        if found is None:
            found = cutoffs[rule.period] = start_cutoff(rule.period, now)
        return found

    with ledger.database.begin() as conn:
        complex_ids = list(conn.execute(sa.select(complex_q.c.subject_id)).scalars())
        for rt, by_category in sorted(simple.items()):
            of_type = sa.select(r.c.subject_id).where(
                r.c.relation_type == rt, r.c.subject_id.not_in(sa.select(complex_q.c.subject_id))
            )
            for category, rule in sorted(by_category.items()):
                x = cutoff(rule)
                actions[rule.id] = rule.action
                if COLLECTED in rule.after:
                    ids = list(conn.execute(of_type).scalars())
                else:
                    latest = (
                        sa.select(
                            e.c.subject_id.label("subject_id"),
                            sa.func.max(e.c.at).label("latest"),
                        )
                        .where(e.c.name.in_(sorted(rule.after)), e.c.subject_id.in_(of_type))
                        .group_by(e.c.subject_id, e.c.name)
                        .subquery()
                    )
                    anchor = sa.func.min(latest.c.latest)
                    per_subject = sa.select(latest.c.subject_id).group_by(latest.c.subject_id)
                    ids = list(conn.execute(per_subject.having(anchor < x)).scalars())
                    if rule.legal_hold is not None:
                        kept = per_subject.add_columns(anchor).having(anchor >= x)
                        for subject_id, start in conn.execute(kept):
                            held.append(
                                HeldBack(
                                    rule.id,
                                    category,
                                    subject_id,
                                    "legal_hold",
                                    rule.legal_hold.law,
                                    rule.period.after(_as_utc(start)),
                                )
                            )
                if ids:
                    groups.setdefault((category, x, rule.id), []).extend(ids)
    rest = _python_plan(ledger, policy, now, complex_ids)
    for sel in rest.selections:
        actions[sel.rule] = sel.action
        groups.setdefault((sel.category, sel.collected_before, sel.rule), []).extend(
            sel.subject_ids
        )
    selections = tuple(
        DueSelection(rule, actions[rule], category, before, tuple(sorted(ids)))  # type: ignore[arg-type]
        for (category, before, rule), ids in sorted(
            groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])
        )
    )
    return SweepPlan(now, selections, (*held, *rest.held))


def _as_utc(value: object) -> datetime:
    """Return an aggregate's instant as aware UTC (some backends skip the type's processing)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected an instant from the ledger, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _python_plan(
    ledger: SqlLedger, policy: Policy, now: datetime, subject_ids: Iterable[str]
) -> SweepPlan:
    ids = sorted(set(subject_ids))
    if not ids:
        return SweepPlan(now, (), ())
    subjects = ledger.subjects(ids)
    consents = ledger.all_consents()
    return plan_sweep(subjects, consents, policy, now)
