"""The view of a policy that the statement templates read: plain values in one language.

:func:`statement_context` resolves every label to the chosen language and groups the
policy the way a reader asks about it: per relation type what is stored, why, how long
and where it comes from; then what is never stored, what needs consent or an agreement
beforehand, who receives data, and who to contact. The raw :class:`Policy` is included
too (as ``policy``), for templates that need more.
"""

from collections.abc import Callable
from typing import Any

import attrs

from ...domain.policy import (
    DataCategory,
    LegalBasis,
    Policy,
    Purpose,
    RelationType,
    RetentionAction,
    RetentionRule,
)
from .words import article, category_label, event_label, period_words, retention_phrase

__all__ = [
    "CategoryView",
    "PurposeView",
    "RelationView",
    "RetentionView",
    "rights_contact",
    "statement_context",
]


@attrs.frozen
class CategoryView:
    """A data category in one language.

    :ivar consent: the label of the consent needed beforehand (``requires_consent``).
    :ivar agreement: the agreement needed beforehand (``requires_agreement``).
    """

    id: str
    label: str
    description: str | None
    optional: bool
    ephemeral: bool
    consent: str | None
    agreement: str | None
    purposes: tuple[str, ...]
    retention: tuple["RetentionView", ...]


@attrs.frozen
class PurposeView:
    """A purpose in one language, with its legal basis.

    :ivar basis: the legal basis's code (``contract``, ``consent``, ...).
    :ivar article: "art. 6 lid 1 onder b AVG" or "Art. 6(1)(b) GDPR".
    """

    id: str
    label: str
    description: str | None
    basis: str
    article: str
    law: str | None
    legitimate_interest: str | None
    consent: str | None
    direct_marketing: bool
    categories: tuple[str, ...]
    relation_types: tuple[str, ...]


@attrs.frozen
class RetentionView:
    """A retention rule in one language.

    :ivar categories: the labels of the categories it covers (for the relation type at
        hand, in a relation type's list).
    :ivar after: the events in words; the earliest that happens counts.
    :ivar extension: the longest period with consent, in words.
    :ivar phrase: the whole rule in plain words (as the register writes it).
    """

    id: str
    categories: tuple[str, ...]
    period: str
    after: tuple[str, ...]
    action: str
    extension: str | None
    extension_consent: str | None
    legal_hold_law: str | None
    legal_hold_reason: str | None
    note: str
    phrase: str


@attrs.frozen
class RelationView:
    """A relation type in one language, with what is stored about it and why.

    :ivar origins: codes of :class:`~praclox_privacy.domain.policy.DataOrigin`.
    :ivar stored: categories that are stored; ``not_stored``: ephemeral ones.
    """

    id: str
    kind: str
    label: str
    description: str | None
    origins: tuple[str, ...]
    origin_note: str | None
    provision: str | None
    stored: tuple[CategoryView, ...]
    not_stored: tuple[CategoryView, ...]
    purposes: tuple[PurposeView, ...]
    retention: tuple[RetentionView, ...]


def _text(labels: Any, lang: str) -> str | None:
    return None if labels is None else str(labels.get(lang))


def _retention(
    policy: Policy, rule: RetentionRule, categories: list[str], lang: str
) -> RetentionView:
    ext = rule.consent_extension
    consent = None
    if ext is not None:
        try:
            consent = policy.consent_kind(ext.consent_kind).label.get(lang)
        except KeyError:
            consent = ext.consent_kind
    return RetentionView(
        id=rule.id,
        categories=tuple(category_label(policy, c, lang) for c in categories),
        period=period_words(rule.period, lang),
        after=tuple(event_label(policy, e, lang) for e in rule.after),
        action=RetentionAction(rule.action).value,
        extension=None if ext is None else period_words(ext.up_to, lang),
        extension_consent=consent,
        legal_hold_law=None if rule.legal_hold is None else rule.legal_hold.law,
        legal_hold_reason=None if rule.legal_hold is None else rule.legal_hold.reason.get(lang),
        note=rule.note,
        phrase=retention_phrase(policy, rule, lang),
    )


def _category(policy: Policy, cat: DataCategory, lang: str) -> CategoryView:
    consent = None
    if cat.requires_consent is not None:
        try:
            consent = policy.consent_kind(cat.requires_consent).label.get(lang)
        except KeyError:
            consent = cat.requires_consent
    rules = [r for r in policy.retention if cat.id in r.categories]
    return CategoryView(
        id=cat.id,
        label=cat.label.get(lang),
        description=_text(cat.description, lang),
        optional=cat.optional,
        ephemeral=cat.ephemeral,
        consent=consent,
        agreement=cat.requires_agreement,
        purposes=tuple(p.label.get(lang) for p in policy.purposes if cat.id in p.categories),
        retention=tuple(_retention(policy, r, [cat.id], lang) for r in rules),
    )


def _purpose(policy: Policy, p: Purpose, lang: str) -> PurposeView:
    consent = None
    if p.consent_kind is not None:
        try:
            consent = policy.consent_kind(p.consent_kind).label.get(lang)
        except KeyError:
            consent = p.consent_kind
    rts = {rt.id: rt for rt in policy.relation_types}
    return PurposeView(
        id=p.id,
        label=p.label.get(lang),
        description=_text(p.description, lang),
        basis=LegalBasis(p.legal_basis).value,
        article=article(p.legal_basis, lang),
        law=p.law,
        legitimate_interest=_text(p.legitimate_interest, lang),
        consent=consent,
        direct_marketing=p.direct_marketing,
        categories=tuple(category_label(policy, c, lang) for c in p.categories),
        relation_types=tuple(rts[r].label.get(lang) if r in rts else r for r in p.relation_types),
    )


def _relation(policy: Policy, rt: RelationType, lang: str) -> RelationView:
    cats = [policy.category(c) for c in rt.categories if c in {x.id for x in policy.categories}]
    rules = []
    for rule in policy.retention:
        if rt.id not in rule.relation_types:
            continue
        covered = [c for c in rule.categories if c in rt.categories]
        if covered:
            rules.append(_retention(policy, rule, covered, lang))
    return RelationView(
        id=rt.id,
        kind=rt.kind.value,
        label=rt.label.get(lang),
        description=_text(rt.description, lang),
        origins=tuple(o.value for o in rt.origins),
        origin_note=_text(rt.origin_note, lang),
        provision=_text(rt.provision, lang),
        stored=tuple(_category(policy, c, lang) for c in cats if not c.ephemeral),
        not_stored=tuple(_category(policy, c, lang) for c in cats if c.ephemeral),
        purposes=tuple(
            _purpose(policy, p, lang) for p in policy.purposes if rt.id in p.relation_types
        ),
        retention=tuple(rules),
    )


def rights_contact(policy: Policy) -> str:
    """Return where requests to exercise one's rights go: the setting, the DPO, the controller."""
    if policy.statement.rights_contact:
        return policy.statement.rights_contact
    if policy.controller.dpo is not None:
        return policy.controller.dpo.email
    return policy.controller.email


_CODES = frozenset({"id", "kind", "basis", "action", "origins", "lang", "policy"})


def _escaped(value: Any, escape: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, tuple):
        return tuple(_escaped(v, escape) for v in value)
    if isinstance(value, dict):
        return {k: v if k in _CODES else _escaped(v, escape) for k, v in value.items()}
    if isinstance(value, CategoryView | PurposeView | RetentionView | RelationView):
        changes = {
            a.name: _escaped(getattr(value, a.name), escape)
            for a in attrs.fields(type(value))
            if a.name not in _CODES
        }
        return attrs.evolve(value, **changes)
    return value


def statement_context(
    policy: Policy, lang: str, escape: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """Return the values the statement templates are rendered with.

    :param lang: ``"nl"`` or ``"en"``.
    :param escape: applied to every text taken from the policy (not to codes such as
        ids and legal-basis names, nor to ``policy`` itself); the Markdown templates get
        their texts escaped for Markdown this way.
    :returns: a dict; docs/documents.md lists its keys.
    """
    context = _context(policy, lang)
    return context if escape is None else _escaped(context, escape)


def _context(policy: Policy, lang: str) -> dict[str, Any]:
    period_words(policy.statement.response_time, lang)  # checks the language
    c = policy.controller
    purposes = tuple(_purpose(policy, p, lang) for p in policy.purposes)
    categories = tuple(_category(policy, cat, lang) for cat in policy.categories)
    rts = {rt.id: rt for rt in policy.relation_types}
    recipients = [
        {
            "id": r.id,
            "label": r.label.get(lang),
            "purposes": tuple(
                next((p.label for p in purposes if p.id == pid), pid) for pid in r.purposes
            ),
            "categories": tuple(category_label(policy, cid, lang) for cid in r.categories),
            "third_country": r.third_country,
        }
        for r in policy.recipients
    ]
    disclosure = None
    if policy.disclosure is not None:
        disclosure = {"answer_within": period_words(policy.disclosure.answer_within, lang)}
    not_applicable = set(policy.statement.not_applicable)
    return {
        "lang": lang,
        "policy": policy,
        "controller": {
            "name": c.name,
            "email": c.email,
            "address": c.address,
            "country": c.country,
        },
        "dpo": None if c.dpo is None else {"name": c.dpo.name, "email": c.dpo.email},
        "authority": (
            None
            if c.supervisory_authority is None
            else {"name": c.supervisory_authority.name, "url": c.supervisory_authority.url}
        ),
        "rights_contact": rights_contact(policy),
        "response_time": period_words(policy.statement.response_time, lang),
        "relations": tuple(_relation(policy, rt, lang) for rt in policy.relation_types),
        "categories": categories,
        "purposes": purposes,
        "never_stored": tuple(cat for cat in categories if cat.ephemeral),
        "consent_first": tuple(cat for cat in categories if cat.consent and not cat.ephemeral),
        "agreement_first": tuple(cat for cat in categories if cat.agreement and not cat.ephemeral),
        "consent_purposes": tuple(p for p in purposes if p.basis == LegalBasis.CONSENT.value),
        "has_legitimate_interest": any(
            p.basis == LegalBasis.LEGITIMATE_INTEREST.value for p in purposes
        ),
        "direct_marketing": tuple(p for p in purposes if p.direct_marketing),
        "legal_holds": any(r.legal_hold is not None for r in policy.retention),
        "anonymised": any(r.action is RetentionAction.ANONYMISE for r in policy.retention),
        "recipients": tuple(recipients),
        "disclosure": disclosure,
        "third_country_transfers": policy.third_country_transfers,
        "transfers_none": "third_country_transfers" in not_applicable,
        "staff_access": policy.staff_access,
        "security_measures": tuple(m.get(lang) for m in policy.security_measures),
        "automated_decisions": _text(policy.statement.automated_decisions, lang),
        "automated_decisions_none": "automated_decisions" in not_applicable,
        "organisation_types": tuple(
            rt.label.get(lang) for rt in rts.values() if rt.kind.value == "organisation"
        ),
    }
