"""Pure retention decisions: when each item becomes due, and what keeps it.

Semantics, for one item of a subject:

* The rules that apply are those covering the item's category for any relation type the
  subject holds. The item is kept as long as *any* of them keeps it: its due date is the
  latest of the rules' due dates, and it waits while any rule's anchor event has not
  happened (a person who is both a website user and a contact person keeps their name
  while either relation lasts).
* A rule's due date is ``anchor + period``, where the anchor is the earliest of the
  rule's ``after`` events that has happened (``collected`` is the item's own instant).
* A consent extension moves the due date to the end of the consent (withdrawal or
  lapse), never beyond ``anchor + up_to`` and never before ``anchor + period``:
  withdrawing makes the item due at once, or at ``anchor + period`` if that is later.
* A legal hold keeps the item until its rule's due date, also against erasure requests.
"""

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import attrs

from .policy import COLLECTED, LegalHold, Policy, RetentionAction, RetentionRule
from .records import Consent, Item, Subject

__all__ = [
    "Decision",
    "Extension",
    "Hold",
    "Status",
    "decide",
    "decide_all",
    "erasure_plan",
    "rule_due_at",
    "subject_anchor",
]


class Status(enum.StrEnum):
    """Where an item stands on its retention clock."""

    DUE = "due"
    """The retention period is over: erase or anonymise it now."""
    KEPT = "kept"
    """The period runs; ``due_at`` says when it ends."""
    WAITING = "waiting"
    """The event the period is measured from has not happened yet."""
    UNCOVERED = "uncovered"
    """No retention rule covers the item (a policy or data error)."""


@attrs.frozen
class Extension:
    """A consent that extends an item's retention, and until when."""

    consent_kind: str
    until: datetime
    bound: datetime


@attrs.frozen
class Hold:
    """A legal hold that keeps an item, the law behind it, and when it ends."""

    rule: str
    hold: LegalHold
    until: datetime | None
    """``None`` while the event the hold is measured from has not happened."""


@attrs.frozen
class Decision:
    """The retention decision for one item at one instant."""

    item: Item
    status: Status
    due_at: datetime | None
    rule: str | None
    action: RetentionAction
    reason: str
    extension: Extension | None = None
    hold: Hold | None = None

    @property
    def is_due(self) -> bool:
        """Whether the item must be erased or anonymised now."""
        return self.status is Status.DUE


def subject_anchor(rule: RetentionRule, subject: Subject) -> datetime | None:
    """Return the earliest of the rule's subject events that happened (UTC), or ``None``.

    Only meaningful for rules not measured from ``collected``.
    """
    happened = [t for t in (subject.event_at(n) for n in rule.after if n != COLLECTED) if t]
    return min(happened).astimezone(UTC) if happened else None


def _anchor(rule: RetentionRule, item: Item, subject: Subject) -> datetime | None:
    collected = item.collected_at.astimezone(UTC)
    if COLLECTED in rule.after:
        # min(event, collected) clamped to collected is collected itself.
        return collected
    anchor = subject_anchor(rule, subject)
    if anchor is None:
        return None
    # A period never starts before the item existed: data stored after the event (a last
    # invoice after the relation ended, client data sent after an earlier "used") gets
    # its full period from its own collection.
    return max(anchor, collected)


def rule_due_at(
    rule: RetentionRule,
    item: Item,
    subject: Subject,
    consents: Iterable[Consent],
    now: datetime,
) -> tuple[datetime | None, Extension | None]:
    """Return when ``rule`` makes ``item`` due (``None``: its event has not happened).

    :param consents: the subject's consents (others are ignored).
    :param now: consents granted after ``now`` are not yet known and do not count.
    :returns: the due instant and the consent extension that set it, if any.
    """
    anchor = _anchor(rule, item, subject)
    if anchor is None:
        return None, None
    base = rule.period.after(anchor)
    ext = rule.consent_extension
    if ext is None:
        return base, None
    bound = ext.up_to.after(anchor)
    # A consent counts when given before the subject's data became due (the relation's
    # own deadline, the same for all its items), and when it is known at ``now``.
    subject_start = anchor if COLLECTED in rule.after else subject_anchor(rule, subject)
    deadline = rule.period.after(subject_start or anchor)
    best: Extension | None = None
    for consent in consents:
        if (
            consent.subject_id != subject.id
            or consent.kind != ext.consent_kind
            or consent.granted_at > now
            or consent.granted_at >= deadline
        ):
            # Unknown yet, or given after the data was already due: no resurrection.
            continue
        # A withdrawal recorded after ``now`` is not known at ``now``.
        withdrawn = (
            consent.withdrawn_at if consent.withdrawn_at and consent.withdrawn_at <= now else None
        )
        ends = [t for t in (withdrawn, consent.until) if t is not None]
        until = min([bound, *ends])
        if until > base and (best is None or until > best.until):
            best = Extension(ext.consent_kind, until, bound)
    return (best.until, best) if best is not None else (base, None)


def decide(
    item: Item,
    subject: Subject,
    consents: Iterable[Consent],
    policy: Policy,
    now: datetime,
) -> Decision:
    """Decide whether ``item`` is due at ``now``, when it will be, and what keeps it.

    :param subject: the item's subject.
    :param consents: the subject's consents.
    :raises ValueError: when ``item`` is not ``subject``'s or ``now`` is naive.
    """
    if item.subject_id != subject.id:
        raise ValueError(f"item {item.key} does not belong to subject {subject.id!r}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    consents = tuple(consents)
    rules = {
        r.id: r
        for rt in sorted(subject.relation_types)
        for r in policy.rules_for(rt, item.category)
    }
    if not rules:
        types = ", ".join(sorted(subject.relation_types)) or "none"
        return Decision(
            item,
            Status.UNCOVERED,
            None,
            None,
            RetentionAction.ERASE,
            f"no retention rule covers category {item.category!r} for relation types {types}",
        )
    waiting: RetentionRule | None = None
    latest: tuple[datetime, RetentionRule, Extension | None] | None = None
    hold: Hold | None = None
    for rule in rules.values():
        due, extension = rule_due_at(rule, item, subject, consents, now)
        if due is None:
            waiting = waiting or rule
        elif latest is None or due > latest[0]:
            latest = (due, rule, extension)
        holds_now = rule.legal_hold is not None and (due is None or now < due)
        longer = hold is None or (hold.until is not None and (due is None or due > hold.until))
        if holds_now and longer:
            assert rule.legal_hold is not None
            hold = Hold(rule.id, rule.legal_hold, due)
    if waiting is not None:
        events = " or ".join(waiting.after)
        return Decision(
            item,
            Status.WAITING,
            None,
            waiting.id,
            waiting.action,
            f"rule {waiting.id!r}: waiting for {events} (then {waiting.period})",
            hold=hold,
        )
    assert latest is not None
    due, rule, extension = latest
    if now >= due:
        why = (
            f"consent {extension.consent_kind!r} ended"
            if extension is not None
            else f"{rule.period} after {' or '.join(rule.after)}"
        )
        return Decision(
            item,
            Status.DUE,
            due,
            rule.id,
            rule.action,
            f"rule {rule.id!r}: due since {due.isoformat()} ({why})",
            extension,
        )
    reason = f"rule {rule.id!r}: kept until {due.isoformat()}"
    if extension is not None:
        reason += f" by consent {extension.consent_kind!r}"
    if hold is not None:
        reason += f" (legal hold: {hold.hold.law})"
    return Decision(item, Status.KEPT, due, rule.id, rule.action, reason, extension, hold)


def decide_all(
    items: Iterable[Item],
    subjects: Mapping[str, Subject],
    consents: Iterable[Consent],
    policy: Policy,
    now: datetime,
) -> list[Decision]:
    """Decide every item; see :func:`decide`.

    :param subjects: every subject that owns one of ``items``, by id.
    :raises KeyError: naming the item whose subject is missing.
    """
    by_subject: dict[str, list[Consent]] = {}
    for consent in consents:
        by_subject.setdefault(consent.subject_id, []).append(consent)
    decisions = []
    for item in items:
        try:
            subject = subjects[item.subject_id]
        except KeyError:
            raise KeyError(f"item {item.key}: unknown subject {item.subject_id!r}") from None
        decisions.append(decide(item, subject, by_subject.get(subject.id, ()), policy, now))
    return decisions


def erasure_plan(
    items: Iterable[Item],
    subject: Subject,
    consents: Iterable[Consent],
    policy: Policy,
    now: datetime,
) -> tuple[list[Item], list[Decision]]:
    """Split a subject's items for an erasure request (GDPR Art. 17).

    :returns: the items to erase, and the decisions of the items a legal hold keeps
        (Art. 17(3)(b)), each naming the law and the date the item will go.
    """
    consents = tuple(consents)
    erase: list[Item] = []
    kept: list[Decision] = []
    for item in items:
        decision = decide(item, subject, consents, policy, now)
        if decision.hold is not None and decision.status is not Status.DUE:
            kept.append(decision)
        else:
            erase.append(item)
    return erase, kept
