"""Plan a retention sweep as selections a store can run set-based (pure, no I/O).

:func:`~praclox_privacy.domain.decide` answers "is this item due?" one item at a time.
A sweep over a million items must not ask that a million times, so this module works
per *subject* instead: for each category a subject's relation types have rules for, it
reduces every rule to one condition on the item's collection instant,
``collected_at < X``, or to "not due":

* a rule measured from ``collected``: ``X`` is the period's start cutoff at ``now``;
* a rule measured from a subject's event ``A``: not due while ``A + period > now``,
  else ``X`` is the period's cutoff (items collected after ``A`` get their full period);
* with an active consent extension: not due while ``A + up_to > now``, else the
  cutoff of ``up_to``.

An item is due when every rule lets it go, so the subject's condition is
``collected_at < min(X)``. Subjects with the same category, cutoff and governing rule
are grouped into one :class:`DueSelection`, which a store turns into a few statements.
The result is exactly the set of items :func:`~praclox_privacy.domain.decide`
calls due (a property test checks this).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from .periods import Period, start_cutoff
from .policy import COLLECTED, Policy, RetentionAction, RetentionRule
from .records import Consent, Subject
from .retention import subject_anchor

__all__ = ["DueSelection", "HeldBack", "SweepPlan", "plan_sweep"]


@attrs.frozen
class DueSelection:
    """Items due now: ``category`` of ``subject_ids``, collected before ``collected_before``.

    :ivar rule: the rule that binds (the one with the earliest cutoff).
    """

    rule: str
    action: RetentionAction
    category: str
    collected_before: datetime
    subject_ids: tuple[str, ...]


@attrs.frozen
class HeldBack:
    """A subject's items of a category kept past the rule's period, and why.

    :ivar kind: ``legal_hold`` (``ground`` is the law) or ``consent`` (the consent kind).
    :ivar until: when the hold or the consent extension ends.
    """

    rule: str
    category: str
    subject_id: str
    kind: str
    ground: str
    until: datetime


@attrs.frozen
class SweepPlan:
    """What a sweep at ``now`` erases (selections) and what it keeps on purpose (held)."""

    now: datetime
    selections: tuple[DueSelection, ...]
    held: tuple[HeldBack, ...]


class _Cutoffs:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self._cache: dict[Period, datetime] = {}

    def __call__(self, period: Period) -> datetime:
        found = self._cache.get(period)
        if found is None:
            found = self._cache[period] = start_cutoff(period, self.now)
        return found


def _active_extension(
    rule: RetentionRule, anchor: datetime, consents: Sequence[Consent], now: datetime
) -> datetime | None:
    """Return when an active consent extension ends (its bound or the consent's ``until``)."""
    ext = rule.consent_extension
    if ext is None:
        return None
    deadline = rule.period.after(anchor)
    bound = ext.up_to.after(anchor)
    best: datetime | None = None
    for consent in consents:
        if consent.kind != ext.consent_kind or consent.granted_at > now:
            continue
        if consent.granted_at >= deadline:
            continue
        withdrawn = (
            consent.withdrawn_at if consent.withdrawn_at and consent.withdrawn_at <= now else None
        )
        ends = [t for t in (withdrawn, consent.until) if t is not None]
        end = min(ends) if ends else None
        if end is not None and end <= now:
            continue  # ended: the plain period applies again
        until = bound if end is None else min(bound, end)
        best = until if best is None else max(best, until)
    return best


def plan_sweep(
    subjects: Iterable[Subject],
    consents: Mapping[str, Sequence[Consent]],
    policy: Policy,
    now: datetime,
) -> SweepPlan:
    """Plan the sweep at ``now``: the selections to erase and what is held back.

    :param consents: every subject's consents, by subject id.
    :raises ValueError: when ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    cutoff = _Cutoffs(now)
    rules_by_type: dict[str, dict[str, list[RetentionRule]]] = {}
    for rule in policy.retention:
        for rt in rule.relation_types:
            for category in rule.categories:
                rules_by_type.setdefault(rt, {}).setdefault(category, []).append(rule)
    groups: dict[tuple[str, datetime, str, RetentionAction], list[str]] = {}
    held: list[HeldBack] = []
    by_types: dict[frozenset[str], list[tuple[str, list[RetentionRule]]]] = {}

    def applicable_rules(types: frozenset[str]) -> list[tuple[str, list[RetentionRule]]]:
        # Per set of relation types (few distinct ones): each category and its rules.
        found = by_types.get(types)
        if found is None:
            categories: dict[str, dict[str, RetentionRule]] = {}
            for rt in sorted(types):
                for category, type_rules in rules_by_type.get(rt, {}).items():
                    for rule in type_rules:
                        categories.setdefault(category, {})[rule.id] = rule
            found = by_types[types] = [
                (category, list(rules.values())) for category, rules in sorted(categories.items())
            ]
        return found

    for subject in subjects:
        own_consents = consents.get(subject.id, ())
        for category, applicable in applicable_rules(subject.relation_types):
            limit: datetime | None = None
            binding: RetentionRule | None = None
            for rule in applicable:
                if COLLECTED in rule.after:
                    x = cutoff(rule.period)
                else:
                    anchor = subject_anchor(rule, subject)
                    if anchor is None:
                        limit = None
                        break
                    x = cutoff(rule.period)
                    # "anchor + period > now", compared without calendar arithmetic:
                    if anchor >= x:
                        if rule.legal_hold is not None:
                            until = rule.period.after(anchor)
                            law = rule.legal_hold.law
                            held.append(
                                HeldBack(rule.id, category, subject.id, "legal_hold", law, until)
                            )
                        limit = None
                        break
                    ext = rule.consent_extension
                    extended = (
                        _active_extension(rule, anchor, own_consents, now)
                        if own_consents and ext is not None
                        else None
                    )
                    if extended is not None:
                        assert ext is not None
                        if anchor >= cutoff(ext.up_to):
                            kind = ext.consent_kind
                            held.append(
                                HeldBack(rule.id, category, subject.id, "consent", kind, extended)
                            )
                            limit = None
                            break
                        x = cutoff(ext.up_to)
                if limit is None or binding is None or x < limit:
                    limit, binding = x, rule
            else:
                if limit is not None and binding is not None:
                    key = (category, limit, binding.id, binding.action)
                    groups.setdefault(key, []).append(subject.id)
    selections = tuple(
        DueSelection(rule, action, category, before, tuple(sorted(ids)))
        for (category, before, rule, action), ids in sorted(
            groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])
        )
    )
    return SweepPlan(now, selections, tuple(held))
