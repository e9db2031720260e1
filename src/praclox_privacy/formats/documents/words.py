"""Small language helpers for the generated documents, in Dutch and English.

Periods in words (``P3M`` is "3 maanden" or "3 months"), lists joined with "en"/"and" or
"of"/"or", and the plain-words phrases for retention rules and legal bases that the
register and the exports use. The statement's own wording lives in its templates.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ...domain.periods import Period
from ...domain.policy import COLLECTED, LegalBasis, Policy, RetentionAction, RetentionRule

__all__ = [
    "LANGUAGES",
    "after_phrase",
    "article",
    "basis_phrase",
    "category_label",
    "consent_label",
    "data_label",
    "event_label",
    "indefinite",
    "join_and",
    "join_or",
    "period_words",
    "purpose_label",
    "relation_label",
    "retention_phrase",
    "ucfirst",
]

LANGUAGES = ("nl", "en")
"""The languages the documents are generated in."""

_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "nl": {
        "years": ("jaar", "jaar"),
        "months": ("maand", "maanden"),
        "weeks": ("week", "weken"),
        "days": ("dag", "dagen"),
        "hours": ("uur", "uur"),
        "minutes": ("minuut", "minuten"),
        "seconds": ("seconde", "seconden"),
    },
    "en": {
        "years": ("year", "years"),
        "months": ("month", "months"),
        "weeks": ("week", "weeks"),
        "days": ("day", "days"),
        "hours": ("hour", "hours"),
        "minutes": ("minute", "minutes"),
        "seconds": ("second", "seconds"),
    },
}
_AND = {"nl": "en", "en": "and"}
_OR = {"nl": "of", "en": "or"}
_COLLECTED = {"nl": "het vastleggen", "en": "the data is recorded"}


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (expected 'nl' or 'en')")
    return lang


def period_words(period: Period, lang: str) -> str:
    """Return ``period`` in words: ``P3M`` is "3 maanden" or "3 months".

    :param lang: ``"nl"`` or ``"en"``.
    """
    units = _UNITS[_check_lang(lang)]
    parts = []
    for name, (one, many) in units.items():
        value: int = getattr(period, name)
        if value:
            parts.append(f"{value} {one if value == 1 else many}")
    if not parts:
        return f"0 {units['days'][1]}"
    return join_and(parts, lang)


def _join(items: Sequence[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def join_and(items: Iterable[str], lang: str) -> str:
    """Join ``items`` as "a, b en c" (Dutch) or "a, b and c" (English)."""
    return _join(list(items), _AND[_check_lang(lang)])


def join_or(items: Iterable[str], lang: str) -> str:
    """Join ``items`` as "a, b of c" (Dutch) or "a, b or c" (English)."""
    return _join(list(items), _OR[_check_lang(lang)])


def ucfirst(text: str) -> str:
    """Return ``text`` with its first letter in upper case and the rest unchanged."""
    return text[:1].upper() + text[1:]


def indefinite(noun: str) -> str:
    """Return an English noun with "a" or "an" before it ("an applicant", "a client")."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def event_label(policy: Policy, event: str, lang: str) -> str:
    """Return the words for lifecycle ``event`` ("de afwijzing", "the account is closed")."""
    for declared in policy.events:
        if declared.id == event:
            return declared.label.get(lang)
    if event == COLLECTED:
        return _COLLECTED[_check_lang(lang)]
    return event


def _label(entry: Callable[[str], Any], id: str, lang: str) -> str:
    """Return the label in ``lang`` of the policy entry ``entry(id)``; its id when undeclared."""
    try:
        label: str = entry(id).label.get(lang)
    except KeyError:
        return id
    return label


def category_label(policy: Policy, category: str, lang: str) -> str:
    """Return the label of ``category`` in ``lang`` (its id when the policy lacks it)."""
    return _label(policy.category, category, lang)


def data_label(policy: Policy, category: str, field: str, lang: str) -> str:
    """Return "Naam en contactgegevens: email": a category's label and a field."""
    return f"{category_label(policy, category, lang)}: {field}"


def relation_label(policy: Policy, relation_type: str, lang: str) -> str:
    """Return the label of ``relation_type`` in ``lang`` (its id when undeclared)."""
    return _label(policy.relation_type, relation_type, lang)


def purpose_label(policy: Policy, purpose: str | None, lang: str) -> str:
    """Return the label of ``purpose`` in ``lang`` (its id when undeclared; "" for none)."""
    return "" if purpose is None else _label(policy.purpose, purpose, lang)


def consent_label(policy: Policy, kind: str, lang: str) -> str:
    """Return the label of consent ``kind`` in ``lang`` (its id when undeclared)."""
    return _label(policy.consent_kind, kind, lang)


def after_phrase(policy: Policy, rule: RetentionRule, lang: str) -> str:
    """Return "7 jaar na het einde van de relatie" / "7 years after the relationship ends"."""
    events = join_or([event_label(policy, e, lang) for e in rule.after], lang)
    word = "na" if lang == "nl" else "after"
    return f"{period_words(rule.period, lang)} {word} {events}"


def retention_phrase(policy: Policy, rule: RetentionRule, lang: str) -> str:
    """Describe a retention rule in plain words.

    For example "up to 3 months after the application is rejected, or up to 1 year with
    consent" and "tot 3 maanden na de afwijzing van de sollicitatie, of tot 1 jaar met
    toestemming".
    """
    _check_lang(lang)
    events = join_or((event_label(policy, e, lang) for e in rule.after), lang)
    period = period_words(rule.period, lang)
    if lang == "nl":
        text = f"{period} na {events}" if rule.legal_hold else f"tot {period} na {events}"
        if len(rule.after) > 1:
            text += ", wat het eerst komt"
        if rule.consent_extension is not None:
            text += f", of tot {period_words(rule.consent_extension.up_to, lang)} met toestemming"
        if rule.legal_hold is not None:
            text += f" (wettelijke bewaarplicht: {rule.legal_hold.law})"
        if rule.action is RetentionAction.ANONYMISE:
            text += "; daarna geanonimiseerd"
        return text
    text = f"{period} after {events}" if rule.legal_hold else f"up to {period} after {events}"
    if len(rule.after) > 1:
        text += ", whichever comes first"
    if rule.consent_extension is not None:
        text += f", or up to {period_words(rule.consent_extension.up_to, lang)} with consent"
    if rule.legal_hold is not None:
        text += f" (legal obligation to keep: {rule.legal_hold.law})"
    if rule.action is RetentionAction.ANONYMISE:
        text += "; then anonymised"
    return text


_BASIS = {
    "nl": {
        LegalBasis.CONSENT: "toestemming",
        LegalBasis.CONTRACT: "uitvoering van een overeenkomst",
        LegalBasis.LEGAL_OBLIGATION: "wettelijke verplichting",
        LegalBasis.VITAL_INTERESTS: "vitaal belang",
        LegalBasis.PUBLIC_TASK: "taak van algemeen belang",
        LegalBasis.LEGITIMATE_INTEREST: "gerechtvaardigd belang",
    },
    "en": {
        LegalBasis.CONSENT: "consent",
        LegalBasis.CONTRACT: "performance of a contract",
        LegalBasis.LEGAL_OBLIGATION: "legal obligation",
        LegalBasis.VITAL_INTERESTS: "vital interests",
        LegalBasis.PUBLIC_TASK: "public task",
        LegalBasis.LEGITIMATE_INTEREST: "legitimate interest",
    },
}


def article(basis: LegalBasis, lang: str) -> str:
    """Return the article of a legal basis: "art. 6 lid 1 onder b AVG", "Art. 6(1)(b) GDPR"."""
    if _check_lang(lang) == "en":
        return basis.article
    letter = "abcdef"[list(LegalBasis).index(basis)]
    return f"art. 6 lid 1 onder {letter} AVG"


def basis_phrase(
    basis: LegalBasis, lang: str, *, law: str | None = None, interest: str | None = None
) -> str:
    """Return a legal basis in words, with its article, law or interest.

    For example "legal obligation: Algemene wet inzake rijksbelastingen, art. 52
    (Art. 6(1)(c) GDPR)".
    """
    text = _BASIS[_check_lang(lang)][basis]
    detail = law if basis is LegalBasis.LEGAL_OBLIGATION else None
    if basis is LegalBasis.LEGITIMATE_INTEREST:
        detail = interest
    if detail:
        text += f": {detail}"
    return f"{text} ({article(basis, lang)})"
