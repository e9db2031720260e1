"""Letters to data subjects about their requests, in Dutch or English.

The confirmations of an erasure (what went, what stays under which law and until when),
a rectification, a restriction, an objection and the lifting of a restriction. The
sentences come from ``request-texts.toml`` (:func:`~praclox_privacy.formats.texts.texts`).
"""

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from ..domain.policy import Policy
from ..domain.restrictions import Restriction, RestrictionKind
from .documents.words import after_phrase, category_label, data_label, join_and, purpose_label
from .texts import long_date, texts

if TYPE_CHECKING:
    from ..domain.answers import ErasureResult, RectificationResult

__all__ = [
    "erasure_text",
    "lift_text",
    "objection_text",
    "rectification_text",
    "restriction_text",
]


def erasure_text(
    result: "ErasureResult", policy: Policy, lang: str = "nl", tz: tzinfo = UTC
) -> str:
    """Return what an erasure did, for the requester: what went, what stays and why."""
    t = texts(lang)
    request = result.request
    date = long_date(result.at, lang, tz)
    lines = [str(t["erase_title"]), ""]
    if result.total:
        lines.append(str(t["erase_done"]).format(request=request.id, date=date, count=result.total))
    else:
        lines.append(str(t["erase_nothing"]).format(request=request.id, date=date))
    if result.failures:
        lines.append(
            str(t["erase_incomplete"]).format(
                stores=join_and([s for s, _ in result.failures], lang)
            )
        )
    if result.anonymised_in:
        lines.append(
            str(t["erase_anonymised"]).format(stores=join_and(list(result.anonymised_in), lang))
        )
    if result.kept:
        lines += ["", str(t["erase_kept"])]
        for kept in result.kept:
            rule = policy.rule(kept.rule)
            assert rule.legal_hold is not None
            data = data_label(policy, kept.category, kept.field, lang)
            common = {
                "data": data,
                "store": kept.store,
                "reason": rule.legal_hold.reason.get(lang),
                "law": kept.law,
            }
            if kept.until is not None:
                line = str(t["erase_kept_until"]).format(
                    date=long_date(kept.until, lang, tz), **common
                )
            else:
                line = str(t["erase_kept_waiting"]).format(
                    rule=after_phrase(policy, rule, lang), **common
                )
            lines.append(f"- {line}")
    lines.append("")
    if result.members_kept:
        lines.append(str(t["erase_members"]).format(ids=", ".join(result.members_kept)))
    if result.recipients:
        labels = {r.id: r.label.get(lang) for r in policy.recipients}
        lines.append(
            str(t["erase_recipients"]).format(
                recipients=join_and([labels.get(r, r) for r in result.recipients], lang)
            )
        )
    else:
        lines.append(str(t["erase_recipients_none"]))
    lines.append(str(t["erase_ledger"]))
    return "\n".join(lines) + "\n"


def rectification_text(result: "RectificationResult", policy: Policy, lang: str = "nl") -> str:
    """Return what a rectification did, for the requester."""
    t = texts(lang)
    data = data_label(policy, result.key.category, result.key.field, lang)
    key = "rectify_added" if result.added_to is not None else "rectify_done"
    return str(t[key]).format(request=result.request.id, data=data) + "\n"


def restriction_text(
    restriction: Restriction, policy: Policy, lang: str = "nl", tz: tzinfo = UTC
) -> str:
    """Return what a restriction means, for the requester."""
    t = texts(lang)
    what = (
        t["restrict_all"]
        if restriction.category is None
        else str(t["restrict_category"]).format(
            category=category_label(policy, restriction.category, lang)
        )
    )
    date = long_date(restriction.started_at, lang, tz)
    return str(t["restrict_done"]).format(date=date, what=what) + "\n"


def objection_text(
    objections: Sequence[Restriction], policy: Policy, lang: str = "nl", tz: tzinfo = UTC
) -> str:
    """Return what an objection ended, for the requester."""
    t = texts(lang)
    start = min(o.started_at for o in objections)
    purposes = join_and([purpose_label(policy, o.purpose, lang) for o in objections], lang)
    return str(t["object_done"]).format(date=long_date(start, lang, tz), purposes=purposes) + "\n"


def lift_text(restriction: Restriction, policy: Policy, lang: str = "nl", tz: tzinfo = UTC) -> str:
    """Return the confirmation that a restriction was lifted (or an objection withdrawn)."""
    t = texts(lang)
    assert restriction.lifted_at is not None
    date = long_date(restriction.lifted_at, lang, tz)
    if restriction.kind is RestrictionKind.OBJECTION:
        return (
            str(t["lift_objection"]).format(
                id=restriction.id,
                purpose=purpose_label(policy, restriction.purpose, lang),
                date=date,
            )
            + "\n"
        )
    return str(t["lift_done"]).format(id=restriction.id, date=date) + "\n"
