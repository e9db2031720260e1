"""The GDPR Art. 30(1) record of processing activities, one row per purpose.

Every column comes from the policy: the controller and its DPO (Art. 30(1)(a)), the
purpose (b), the categories of data subjects and of personal data (c), the recipients (d),
the transfers to third countries (e), the time limits for erasure (f) and the security
measures (g). The legal basis is added because the Dutch regulator asks for it.
"""

import csv
import io
from collections.abc import Iterable

import attrs

from ...domain.policy import LegalBasis, Policy, Purpose
from ..jsonout import dumps
from .words import basis_phrase, join_and, retention_phrase

__all__ = ["COLUMNS", "FORMATS", "Register", "RegisterRow", "build_register"]

FORMATS = ("csv", "md", "json")
"""The register's output formats."""

COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("purpose_id", "Doel (id)", "Purpose (id)"),
    ("purpose", "Doel van de verwerking", "Purpose of the processing"),
    ("legal_basis", "Grondslag", "Legal basis"),
    ("data_subjects", "Categorieën betrokkenen", "Categories of data subjects"),
    ("data_categories", "Categorieën persoonsgegevens", "Categories of personal data"),
    ("recipients", "Categorieën ontvangers", "Categories of recipients"),
    ("third_country_transfers", "Doorgifte naar derde landen", "Transfers to third countries"),
    ("erasure_time_limits", "Bewaartermijnen", "Time limits for erasure"),
    ("security_measures", "Beveiligingsmaatregelen", "Security measures"),
    ("controller", "Verwerkingsverantwoordelijke", "Controller"),
    ("dpo", "Functionaris gegevensbescherming", "Data protection officer"),
)
"""The columns: key (JSON), Dutch header, English header."""

_WORDS = {
    "nl": {
        "none": "geen",
        "not_stored": "niet opgeslagen",
        "disclosure": "alleen per verzoek en met toestemming van de betrokkene",
        "title": "Register van verwerkingsactiviteiten",
        "intro": "Artikel 30 lid 1 AVG, gemaakt uit het privacybeleid.",
        "purpose": "Doel",
    },
    "en": {
        "none": "none",
        "not_stored": "not stored",
        "disclosure": "only on request and with the data subject's consent",
        "title": "Record of processing activities",
        "intro": "GDPR Article 30(1), generated from the privacy policy.",
        "purpose": "Purpose",
    },
}


@attrs.frozen
class RegisterRow:
    """One processing activity (one purpose) of the register.

    Single values are texts; the columns that list several entries are tuples of texts
    (an empty tuple in ``recipients`` or ``third_country_transfers`` reads "none").
    """

    purpose_id: str
    purpose: str
    legal_basis: str
    data_subjects: tuple[str, ...]
    data_categories: tuple[str, ...]
    recipients: tuple[str, ...]
    third_country_transfers: tuple[str, ...]
    erasure_time_limits: tuple[str, ...]
    security_measures: tuple[str, ...]
    controller: str
    dpo: str

    def values(self, separator: str = "\n") -> list[str]:
        """Return the values in column order, lists joined with ``separator``."""
        out = []
        for key, _, _ in COLUMNS:
            value = getattr(self, key)
            out.append(value if isinstance(value, str) else separator.join(value))
        return out


@attrs.frozen
class Register:
    """The record of processing activities in one language.

    :ivar lang: ``"nl"`` or ``"en"``.
    """

    lang: str
    rows: tuple[RegisterRow, ...]

    @property
    def headers(self) -> list[str]:
        """The column headers in the register's language."""
        index = 1 if self.lang == "nl" else 2
        return [column[index] for column in COLUMNS]

    def to_csv(self, bom: bool = False, delimiter: str = ",") -> str:
        """Return the register as CSV: one header row, then one row per purpose.

        Cells that list several entries hold one entry per line (quoted, as spreadsheet
        programs expect).

        :param bom: start with a UTF-8 byte order mark (U+FEFF), so that spreadsheet
            programs read the file as UTF-8.
        :param delimiter: ``","`` or ``";"`` (what spreadsheets in Dutch locales expect).
        """
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(row.values())
        return ("\ufeff" if bom else "") + out.getvalue()

    def to_json(self) -> str:
        """Return the register as a JSON array of objects keyed by column key."""
        return dumps(self.rows) + "\n"

    def to_markdown(self) -> str:
        """Return the register as Markdown: a section per purpose with a two-column table."""
        words = _WORDS[self.lang]
        lines = [f"# {words['title']}", "", words["intro"], ""]
        for row in self.rows:
            lines += [f"## {words['purpose']}: {_md(row.purpose)}", "", "| | |", "|---|---|"]
            for (key, _, _), header in zip(COLUMNS, self.headers, strict=True):
                value = getattr(row, key)
                items = [value] if isinstance(value, str) else list(value)
                lines.append(f"| {header} | {'<br>'.join(_md(v) for v in items)} |")
            lines.append("")
        return "\n".join(lines)


def _md(text: str) -> str:
    from .statement import md_escape

    return md_escape(text)


def _labels(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _row(policy: Policy, purpose: Purpose, lang: str) -> RegisterRow:
    words = _WORDS[lang]
    c = policy.controller
    rts = {rt.id: rt for rt in policy.relation_types}
    cats = {cat.id: cat for cat in policy.categories}
    interest = (
        None if purpose.legitimate_interest is None else purpose.legitimate_interest.get(lang)
    )
    basis = basis_phrase(purpose.legal_basis, lang, law=purpose.law, interest=interest)
    if purpose.legal_basis is LegalBasis.CONSENT and purpose.consent_kind:
        basis += f" [{purpose.consent_kind}]"

    recipients = [r for r in policy.recipients if purpose.id in r.purposes]
    if recipients:
        recipient_text = _labels(r.label.get(lang) for r in recipients)
    elif policy.disclosure is not None:
        recipient_text = (f"{words['none']} ({words['disclosure']})",)
    else:
        recipient_text = (words["none"],)
    transfers = [f"{r.label.get(lang)}: {r.third_country}" for r in recipients if r.third_country]
    transfers += list(policy.third_country_transfers)

    limits: list[str] = []
    seen: set[str] = set()
    for cat_id in purpose.categories:
        cat = cats.get(cat_id)
        if cat is None:
            continue
        holders = [
            rt for rt in purpose.relation_types if rt in rts and cat_id in rts[rt].categories
        ]
        if cat.ephemeral:
            limits.append(f"{cat.label.get(lang)}: {words['not_stored']}")
            continue
        for rule in policy.retention:
            covered = [rt for rt in holders if rt in rule.relation_types]
            if cat_id not in rule.categories or not covered or rule.id in seen:
                continue
            seen.add(rule.id)
            names = join_and(
                (
                    cats[x].label.get(lang)
                    for x in rule.categories
                    if x in purpose.categories and x in cats
                ),
                lang,
            )
            whom = join_and((rts[rt].label.get(lang) for rt in covered), lang)
            limits.append(f"{names} ({whom}): {retention_phrase(policy, rule, lang)}")

    return RegisterRow(
        purpose_id=purpose.id,
        purpose=purpose.label.get(lang),
        legal_basis=basis,
        data_subjects=_labels(
            rts[r].label.get(lang) if r in rts else r for r in purpose.relation_types
        ),
        data_categories=_labels(
            cats[x].label.get(lang) if x in cats else x for x in purpose.categories
        ),
        recipients=recipient_text,
        third_country_transfers=_labels(transfers) or (words["none"],),
        erasure_time_limits=_labels(limits),
        security_measures=_labels(m.get(lang) for m in policy.security_measures),
        controller=", ".join(x for x in (c.name, c.email, c.address, c.country) if x),
        dpo=words["none"] if c.dpo is None else f"{c.dpo.name}, {c.dpo.email}",
    )


def build_register(policy: Policy, lang: str = "nl") -> Register:
    """Return the GDPR Art. 30(1) record of processing activities of ``policy``.

    :param lang: ``"nl"`` or ``"en"``.
    :returns: one row per purpose, in the policy's order.
    :raises ValueError: for an unsupported language.
    """
    if lang not in _WORDS:
        raise ValueError(f"unsupported language {lang!r} (expected 'nl' or 'en')")
    return Register(lang, tuple(_row(policy, p, lang) for p in policy.purposes))
