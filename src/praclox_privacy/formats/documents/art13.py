"""The GDPR Art. 13 and Art. 14 completeness check of a policy.

Art. 13 lists what a controller must tell people when it collects their data from them,
Art. 14 what it must tell when the data comes from elsewhere. The generated statement can
only say what the policy holds, so this check makes sure the policy holds every element:
present, or explicitly not applicable (listed under ``statement.not_applicable``), or not
applicable by the policy's own content (no purpose based on consent: no right to
withdraw it to mention).
"""

import enum
from collections.abc import Iterator

import attrs

from ...domain.policy import DataOrigin, LegalBasis, Policy
from .context import rights_contact
from .words import period_words

__all__ = [
    "ELEMENTS",
    "Element",
    "Finding",
    "Status",
    "TransparencyReport",
    "check_transparency",
]


@attrs.frozen
class Element:
    """An element the privacy statement must contain (GDPR Art. 13 and 14).

    :ivar code: the element's code, as listed under ``statement.not_applicable``.
    :ivar articles: where the GDPR requires it.
    :ivar title: what it is, in words.
    :ivar may_be_not_applicable: whether a policy may declare it not applicable.
    """

    code: str
    articles: str
    title: str
    may_be_not_applicable: bool = True


ELEMENTS: tuple[Element, ...] = (
    Element(
        "controller",
        "Art. 13(1)(a), 14(1)(a)",
        "identity and contact details of the controller",
        False,
    ),
    Element("dpo", "Art. 13(1)(b), 14(1)(b)", "contact details of the data protection officer"),
    Element(
        "purposes", "Art. 13(1)(c), 14(1)(c)", "purposes and legal basis of the processing", False
    ),
    Element("legitimate_interests", "Art. 13(1)(d), 14(2)(b)", "the legitimate interests pursued"),
    Element("data_categories", "Art. 14(1)(d)", "categories of personal data concerned", False),
    Element("recipients", "Art. 13(1)(e), 14(1)(e)", "recipients or categories of recipients"),
    Element(
        "third_country_transfers",
        "Art. 13(1)(f), 14(1)(f)",
        "transfers to third countries or international organisations, and their safeguards",
    ),
    Element(
        "retention",
        "Art. 13(2)(a), 14(2)(a)",
        "how long the data is stored, or the criteria that decide it",
        False,
    ),
    Element(
        "rights",
        "Art. 13(2)(b), 14(2)(c)",
        "the rights of access, rectification, erasure, restriction, objection and "
        "portability, and where to exercise them",
        False,
    ),
    Element("withdraw_consent", "Art. 13(2)(c), 14(2)(d)", "the right to withdraw consent"),
    Element(
        "complaint",
        "Art. 13(2)(d), 14(2)(e)",
        "the right to lodge a complaint with a supervisory authority",
        False,
    ),
    Element(
        "provision_requirement",
        "Art. 13(2)(e)",
        "whether providing the data is a statutory or contractual requirement, whether "
        "the person must provide it and what happens if they do not",
    ),
    Element(
        "data_sources",
        "Art. 14(2)(f)",
        "where the data comes from, and whether from publicly accessible sources",
    ),
    Element(
        "automated_decisions",
        "Art. 13(2)(f), 14(2)(g)",
        "automated decision-making, including profiling, its logic and consequences",
    ),
)
"""Every element the check looks for, in the order of the articles."""

_BY_CODE = {e.code: e for e in ELEMENTS}


class Status(enum.StrEnum):
    """The outcome for one element."""

    PRESENT = "present"
    NOT_APPLICABLE = "not_applicable"
    MISSING = "missing"


@attrs.frozen
class Finding:
    """The check's outcome for one element.

    :ivar detail: what was found, or what is missing and where to add it.
    :ivar locations: the policy keys to fill in, for a missing element.
    """

    element: Element
    status: Status
    detail: str
    locations: tuple[str, ...] = ()


@attrs.frozen
class TransparencyReport:
    """The outcome of :func:`check_transparency`: one finding per element.

    :ivar unknown: codes under ``statement.not_applicable`` that name no element.
    """

    findings: tuple[Finding, ...]
    unknown: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every element is present or not applicable, and no code is unknown."""
        return not self.missing and not self.unknown

    @property
    def missing(self) -> tuple[Finding, ...]:
        """The findings of the missing elements."""
        return tuple(f for f in self.findings if f.status is Status.MISSING)


def _finding(code: str, status: Status, detail: str, *locations: str) -> Finding:
    return Finding(_BY_CODE[code], status, detail, tuple(locations))


def _declared_or_missing(
    policy: Policy, code: str, present: str | None, how: str, *locations: str
) -> Finding:
    """Present when ``present`` says so; else not applicable when declared; else missing."""
    na = code in policy.statement.not_applicable
    if present is not None:
        if na:
            return _finding(
                code,
                Status.MISSING,
                f"{present}, but statement.not_applicable also lists {code!r}: remove one",
                "statement.not_applicable",
            )
        return _finding(code, Status.PRESENT, present)
    if na:
        return _finding(code, Status.NOT_APPLICABLE, "declared not applicable")
    return _finding(
        code,
        Status.MISSING,
        f"{how}, or list {code!r} under statement.not_applicable if it does not apply",
        *locations,
    )


def _checks(policy: Policy) -> Iterator[Finding]:
    c = policy.controller
    yield _finding("controller", Status.PRESENT, f"{c.name} <{c.email}>")

    dpo = None if c.dpo is None else f"{c.dpo.name} <{c.dpo.email}>"
    yield _declared_or_missing(
        policy, "dpo", dpo, "no data protection officer: add [controller.dpo]", "controller.dpo"
    )

    if policy.purposes:
        yield _finding(
            "purposes", Status.PRESENT, f"{len(policy.purposes)} purposes, each with its basis"
        )
    else:
        yield _finding("purposes", Status.MISSING, "the policy declares no purpose", "purpose")

    li = [
        (i, p)
        for i, p in enumerate(policy.purposes)
        if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST
    ]
    unstated = [f"purpose[{i}].legitimate_interest" for i, p in li if p.legitimate_interest is None]
    if not li:
        yield _finding(
            "legitimate_interests",
            Status.NOT_APPLICABLE,
            "no purpose is based on legitimate interest",
        )
    elif unstated:
        yield _finding(
            "legitimate_interests",
            Status.MISSING,
            "a purpose based on legitimate interest does not state the interest",
            *unstated,
        )
    else:
        yield _finding(
            "legitimate_interests",
            Status.PRESENT,
            f"stated for {', '.join(p.id for _, p in li)}",
        )

    empty = [
        f"relation_type[{i}].categories"
        for i, rt in enumerate(policy.relation_types)
        if not rt.categories
    ]
    if policy.relation_types and not empty:
        yield _finding("data_categories", Status.PRESENT, f"{len(policy.categories)} categories")
    else:
        yield _finding(
            "data_categories",
            Status.MISSING,
            "a relation type lists no categories",
            *(empty or ["relation_type"]),
        )

    recipients = (
        f"{len(policy.recipients)} recipients ({', '.join(r.id for r in policy.recipients)})"
        if policy.recipients
        else None
    )
    yield _declared_or_missing(
        policy,
        "recipients",
        recipients,
        "no recipients are declared: add [[recipient]] entries",
        "recipient",
    )

    countries = [*policy.third_country_transfers]
    countries += [
        f"{r.id}: {r.third_country}" for r in policy.recipients if r.third_country is not None
    ]
    yield _declared_or_missing(
        policy,
        "third_country_transfers",
        "; ".join(countries) if countries else None,
        "third-country transfers are not stated: list them in third_country_transfers",
        "third_country_transfers",
    )

    uncovered = [
        f"{rt.id}/{cat}"
        for rt in policy.relation_types
        for cat in rt.categories
        if not any(c.id == cat and c.ephemeral for c in policy.categories)
        and not policy.rules_for(rt.id, cat)
    ]
    if uncovered:
        yield _finding(
            "retention",
            Status.MISSING,
            f"no retention rule for {', '.join(uncovered)}",
            "retention",
        )
    else:
        yield _finding(
            "retention",
            Status.PRESENT,
            f"{len(policy.retention)} retention rules cover every stored category",
        )

    yield _finding(
        "rights",
        Status.PRESENT,
        f"requests to {rights_contact(policy)}, answered within "
        f"{period_words(policy.statement.response_time, 'en')}",
    )

    consent = [p for p in policy.purposes if p.legal_basis is LegalBasis.CONSENT]
    if not consent:
        yield _finding("withdraw_consent", Status.NOT_APPLICABLE, "no purpose is based on consent")
    else:
        kinds = {k.id for k in policy.consent_kinds}
        bad = [
            f"purpose[{policy.purposes.index(p)}].consent_kind"
            for p in consent
            if p.consent_kind not in kinds
        ]
        if bad:
            yield _finding(
                "withdraw_consent",
                Status.MISSING,
                "a consent-based purpose names no declared consent kind",
                *bad,
            )
        else:
            yield _finding(
                "withdraw_consent",
                Status.PRESENT,
                f"consent can be withdrawn for {', '.join(p.id for p in consent)}",
            )

    authority = c.supervisory_authority
    if authority is None:
        yield _finding(
            "complaint",
            Status.MISSING,
            "no supervisory authority: add [controller.supervisory_authority] (this "
            "element always applies)",
            "controller.supervisory_authority",
        )
    else:
        yield _finding("complaint", Status.PRESENT, f"{authority.name} ({authority.url})")

    from_subject = [
        (i, rt)
        for i, rt in enumerate(policy.relation_types)
        if not rt.origins or DataOrigin.DATA_SUBJECT in rt.origins
    ]
    no_provision = [
        f"relation_type[{i}].provision" for i, rt in from_subject if rt.provision is None
    ]
    if "provision_requirement" in policy.statement.not_applicable:
        yield _finding("provision_requirement", Status.NOT_APPLICABLE, "declared not applicable")
    elif not from_subject:
        yield _finding(
            "provision_requirement",
            Status.NOT_APPLICABLE,
            "no data is collected from the people themselves",
        )
    elif no_provision:
        yield _finding(
            "provision_requirement",
            Status.MISSING,
            "a relation type whose data comes from the person does not say whether they "
            "must provide it (provision)",
            *no_provision,
        )
    else:
        yield _finding(
            "provision_requirement",
            Status.PRESENT,
            f"stated for {', '.join(rt.id for _, rt in from_subject)}",
        )

    no_origin = [
        f"relation_type[{i}].origins"
        for i, rt in enumerate(policy.relation_types)
        if not rt.origins
    ]
    if "data_sources" in policy.statement.not_applicable:
        yield _finding("data_sources", Status.NOT_APPLICABLE, "declared not applicable")
    elif no_origin:
        yield _finding(
            "data_sources",
            Status.MISSING,
            "a relation type does not say where its data comes from (origins)",
            *no_origin,
        )
    else:
        elsewhere = [
            rt.id
            for rt in policy.relation_types
            if any(o is not DataOrigin.DATA_SUBJECT for o in rt.origins)
        ]
        yield _finding(
            "data_sources",
            Status.PRESENT,
            "stated for every relation type"
            + (f"; from elsewhere for {', '.join(elsewhere)}" if elsewhere else ""),
        )

    decisions = policy.statement.automated_decisions
    yield _declared_or_missing(
        policy,
        "automated_decisions",
        None if decisions is None else "described",
        "automated decision-making is not described: set statement.automated_decisions",
        "statement.automated_decisions",
    )


def check_transparency(policy: Policy) -> TransparencyReport:
    """Check that ``policy`` holds every element GDPR Art. 13 and 14 require.

    An element passes when it is present, explicitly not applicable (its code under
    ``statement.not_applicable``) or not applicable by the policy's content. Elements
    that always apply (the controller, the purposes, the retention, the rights and the
    right to complain) cannot be declared not applicable.

    :returns: one finding per element of :data:`~praclox_privacy.formats.documents.art13.ELEMENTS`,
        in that order.
    """
    findings = list(_checks(policy))
    for index, finding in enumerate(findings):
        element = finding.element
        if not element.may_be_not_applicable and element.code in policy.statement.not_applicable:
            findings[index] = Finding(
                element,
                Status.MISSING,
                f"{element.code!r} always applies and cannot be listed under "
                "statement.not_applicable",
                ("statement.not_applicable",),
            )
    unknown = tuple(code for code in policy.statement.not_applicable if code not in _BY_CODE)
    return TransparencyReport(tuple(findings), unknown)
