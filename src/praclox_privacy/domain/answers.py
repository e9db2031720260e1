"""What the answers to a data subject hold, as pure values (GDPR Art. 15 to 17 and 20).

The access report (every item with its purposes, legal bases, retention date or legal
hold, and recipients), the items an erasure keeps under a legal hold and why
(Art. 17(3)(b)), and what an erasure or a rectification did. The formats in
:mod:`praclox_privacy.formats` render them for the person.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from .policy import LegalBasis, Policy, Purpose
from .records import Consent, Item, ItemKey, Subject
from .requests import DataRequest
from .restrictions import Restriction, RestrictionKind
from .retention import Decision, Status, decide

__all__ = [
    "AccessReport",
    "ErasureResult",
    "KeptItem",
    "RectificationResult",
    "ReportItem",
    "build_access_report",
    "kept_item",
]


@attrs.frozen
class ReportItem:
    """One item in an access report, with everything Art. 15(1) asks to be told about it.

    :ivar purposes: the purposes it is processed for (the item's own, or else every
        purpose the policy declares for its category and the subject's relation types).
    :ivar status: its retention status (``kept``, ``waiting``, ``due``, ``uncovered``).
    :ivar erase_at: when it will be erased under the current policy; ``None`` while the
        event its period runs from has not happened (``rule`` says which).
    :ivar hold: the legal hold that keeps it, if any (law and reason).
    :ivar recipients: the recipients of its category and purposes (none by default).
    :ivar restricted: whether a restriction (Art. 18) covers it now.
    """

    store: str
    item: Item
    purposes: tuple[Purpose, ...]
    status: Status
    erase_at: datetime | None
    rule: str | None
    hold_rule: str | None
    recipients: tuple[str, ...]
    restricted: bool

    @property
    def legal_bases(self) -> tuple[LegalBasis, ...]:
        """The distinct legal bases of its purposes, in the order of Art. 6(1)."""
        bases = {p.legal_basis for p in self.purposes}
        return tuple(b for b in LegalBasis if b in bases)


@attrs.frozen
class AccessReport:
    """Everything held about one subject, as of ``generated_at`` (Art. 15 and 20).

    :ivar request: the request this report answers (``None`` for an ad-hoc report).
    """

    subject: Subject
    generated_at: datetime
    items: tuple[ReportItem, ...]
    consents: tuple[Consent, ...]
    requests: tuple[DataRequest, ...]
    restrictions: tuple[Restriction, ...]
    request: DataRequest | None = None

    @property
    def stores(self) -> dict[str, int]:
        """How many items each store holds about the subject."""
        counts: dict[str, int] = {}
        for entry in self.items:
            counts[entry.store] = counts.get(entry.store, 0) + 1
        return counts


def _purposes_of(item: Item, subject: Subject, policy: Policy) -> tuple[Purpose, ...]:
    if item.purposes:
        found = []
        for name in item.purposes:
            try:
                found.append(policy.purpose(name))
            except KeyError:
                continue
        return tuple(found)
    seen: dict[str, Purpose] = {}
    for rt in sorted(subject.relation_types):
        for purpose in policy.purposes_for(rt, item.category):
            seen.setdefault(purpose.id, purpose)
    return tuple(seen.values())


def _recipients_of(item: Item, purposes: Sequence[Purpose], policy: Policy) -> tuple[str, ...]:
    names = {p.id for p in purposes}
    return tuple(
        r.id
        for r in policy.recipients
        if item.category in r.categories and (not r.purposes or names & set(r.purposes))
    )


def build_access_report(
    subject: Subject,
    items: Mapping[str, Sequence[Item]],
    consents: Iterable[Consent],
    requests: Iterable[DataRequest],
    restrictions: Iterable[Restriction],
    policy: Policy,
    now: datetime,
    request: DataRequest | None = None,
) -> AccessReport:
    """Build the access report of ``subject`` from its items in every store.

    :param items: the subject's items, by store name (in the order to report them).
    :raises ValueError: when an item is not the subject's or ``now`` is naive.
    """
    consents = tuple(consents)
    restrictions = tuple(restrictions)
    active = [r for r in restrictions if r.kind is RestrictionKind.RESTRICTION and r.active_at(now)]
    entries: list[ReportItem] = []
    for store, held in items.items():
        for item in held:
            decision = decide(item, subject, consents, policy, now)
            purposes = _purposes_of(item, subject, policy)
            entries.append(
                ReportItem(
                    store,
                    item,
                    purposes,
                    decision.status,
                    decision.due_at,
                    decision.rule,
                    decision.hold.rule if decision.hold is not None else None,
                    _recipients_of(item, purposes, policy),
                    any(r.category in (None, item.category) for r in active),
                )
            )
    return AccessReport(
        subject,
        now,
        tuple(entries),
        consents,
        tuple(sorted(requests, key=lambda r: (r.received_at, r.id))),
        restrictions,
        request,
    )


# -- erasure (Art. 17) ------------------------------------------------------------------------


@attrs.frozen
class KeptItem:
    """An item an erasure request left in place, and the legal ground (Art. 17(3)(b)).

    :ivar until: when it will be erased; ``None`` while the period's event has not happened.
    """

    store: str
    category: str
    field: str
    rule: str
    law: str
    until: datetime | None


def kept_item(store: str, decision: Decision) -> KeptItem:
    """Describe an item ``erasure_plan`` keeps under a legal hold.

    :raises ValueError: when the decision names no legal hold.
    """
    if decision.hold is None:
        raise ValueError(f"item {decision.item.key} is not kept by a legal hold")
    return KeptItem(
        store,
        decision.item.category,
        decision.item.field,
        decision.hold.rule,
        decision.hold.hold.law,
        decision.hold.until,
    )


@attrs.frozen
class ErasureResult:
    """What an erasure request did: what went, what stayed and why (WordPress's shape).

    :ivar erased: per store, the keys of the items erased.
    :ivar kept: the items a legal hold keeps (Art. 17(3)(b)), each with its law and date.
    :ivar recipients: recipients of erased data to notify (Art. 19); none by default. The
        ``items_erased`` plugin hook is called for every store that erased something.
    :ivar members_kept: for an organisation, its persons: separate subjects, not erased
        (S3); each asks for their own erasure.
    :ivar failures: stores that could not be reached or failed: ``(store, error)``; the
        request stays open and running the erasure again finishes it.
    """

    request: DataRequest
    subject_id: str
    at: datetime
    erased: Mapping[str, tuple[ItemKey, ...]]
    kept: tuple[KeptItem, ...]
    recipients: tuple[str, ...] = ()
    members_kept: tuple[str, ...] = ()
    failures: tuple[tuple[str, str], ...] = ()
    rows_kept: tuple[tuple[str, str], ...] = ()
    """``(store, what)`` for rows of a mapped database whose data was cleared but which
    stayed, because other rows (another subject's, or legally held ones) reference them."""
    anonymised_in: tuple[str, ...] = ()
    """Stores whose erasure anonymises rather than deletes (Tryton's ``party.erase``):
    the record stays, without the erased values."""

    @property
    def done(self) -> bool:
        """Whether every store completed (the request is then completed)."""
        return not self.failures

    @property
    def total(self) -> int:
        """How many items were erased in all."""
        return sum(len(keys) for keys in self.erased.values())


@attrs.frozen
class RectificationResult:
    """What a rectification request changed.

    :ivar rectified: the stores where the item's value was replaced.
    :ivar added_to: the store the item was added to, when no store held it (completing
        incomplete data, Art. 16).
    """

    request: DataRequest
    key: ItemKey
    rectified: tuple[str, ...]
    added_to: str | None = None
