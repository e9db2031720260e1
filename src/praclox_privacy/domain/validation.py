"""Checks that a policy is consistent and complete; pure, returns every problem at once.

Locations use the policy file's keys and positions (``retention[3].categories``), so a
problem found here points at the same place in the TOML file as a parse error would.
"""

from collections import Counter
from collections.abc import Iterable, Iterator

from .errors import Problem
from .policy import COLLECTED, LegalBasis, Policy, RelationKind

__all__ = ["COMPLETENESS_CHECKS", "check_policy", "errors_of"]

COMPLETENESS_CHECKS: dict[str, str] = {
    "category-without-purpose": "a stored category that no purpose processes",
    "no-retention-rule": "a stored category with no retention rule for a relation type",
    "ephemeral-with-retention": "an ephemeral (never stored) category with a retention rule",
    "consent-purpose-without-consent-kind": "a consent-based purpose with no consent kind",
    "legitimate-interest-not-stated": "a legitimate-interest purpose that does not state it",
    "legal-obligation-without-law": "a legal-obligation purpose that does not name the law",
    "unused-category": "a declared category that no relation type stores or processes",
}
"""Codes of the completeness checks; a policy may list some under ``warnings``."""


def errors_of(problems: Iterable[Problem]) -> list[Problem]:
    """Return the problems whose severity is ``error``."""
    return [p for p in problems if p.severity == "error"]


def check_policy(policy: Policy) -> list[Problem]:
    """Return every consistency and completeness problem of ``policy``.

    Consistency problems (duplicate ids, references to undeclared entries) are always
    errors; completeness problems are errors unless their code is in
    ``policy.warnings``.
    """
    problems = list(_consistency(policy))
    for problem in _completeness(policy):
        if problem.code in policy.warnings:
            problem = Problem(problem.location, problem.message, problem.code, "warning")
        problems.append(problem)
    return problems


def _duplicates(key: str, ids: list[str]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, id in enumerate(ids):
        if id in first:
            yield Problem(
                f"{key}[{index}].id",
                f"duplicate id {id!r} (first declared at {key}[{first[id]}])",
                "duplicate-id",
            )
        else:
            first[id] = index


def _refs(location: str, names: Iterable[str], known: set[str], what: str) -> Iterator[Problem]:
    for name, count in Counter(names).items():
        if name not in known:
            yield Problem(location, f"{what} {name!r} is not declared", "undeclared-reference")
        elif count > 1:
            yield Problem(location, f"{what} {name!r} is listed {count} times", "duplicate-entry")


def _consistency(policy: Policy) -> Iterator[Problem]:
    rts = {rt.id: rt for rt in policy.relation_types}
    categories = {cat.id: cat for cat in policy.categories}
    purposes = {p.id for p in policy.purposes}
    kinds = {k.id for k in policy.consent_kinds}
    events = {e.id for e in policy.events} | {COLLECTED}

    for key, ids in (
        ("relation_type", [rt.id for rt in policy.relation_types]),
        ("category", [c.id for c in policy.categories]),
        ("purpose", [p.id for p in policy.purposes]),
        ("event", [e.id for e in policy.events]),
        ("retention", [r.id for r in policy.retention]),
        ("consent_kind", [k.id for k in policy.consent_kinds]),
        ("recipient", [r.id for r in policy.recipients]),
    ):
        yield from _duplicates(key, ids)

    for i, rt in enumerate(policy.relation_types):
        at = f"relation_type[{i}]"
        yield from _refs(f"{at}.categories", rt.categories, set(categories), "category")
        yield from _refs(f"{at}.belongs_to", rt.belongs_to, set(rts), "relation type")
        if rt.belongs_to and rt.kind is not RelationKind.PERSON:
            yield Problem(
                f"{at}.belongs_to",
                "only a person relation type can belong to an organisation",
                "invalid-reference",
            )
        for org in rt.belongs_to:
            if org in rts and rts[org].kind is not RelationKind.ORGANISATION:
                yield Problem(
                    f"{at}.belongs_to",
                    f"relation type {org!r} is not an organisation",
                    "invalid-reference",
                )

    for i, cat in enumerate(policy.categories):
        if cat.requires_consent is not None and cat.requires_consent not in kinds:
            yield Problem(
                f"category[{i}].requires_consent",
                f"consent kind {cat.requires_consent!r} is not declared",
                "undeclared-reference",
            )

    for i, p in enumerate(policy.purposes):
        at = f"purpose[{i}]"
        yield from _refs(f"{at}.relation_types", p.relation_types, set(rts), "relation type")
        yield from _refs(f"{at}.categories", p.categories, set(categories), "category")
        if not p.relation_types:
            yield Problem(f"{at}.relation_types", "a purpose needs at least one relation type")
        if not p.categories:
            yield Problem(f"{at}.categories", "a purpose needs at least one category")
        for c in p.categories:
            declared = [rt for rt in p.relation_types if rt in rts and c in rts[rt].categories]
            known = p.relation_types and all(rt in rts for rt in p.relation_types)
            if c in categories and not declared and known:
                yield Problem(
                    f"{at}.categories",
                    f"category {c!r} is not declared for any of "
                    f"relation types {', '.join(p.relation_types)}",
                    "undeclared-reference",
                )
        if p.consent_kind is not None and p.consent_kind not in kinds:
            yield Problem(
                f"{at}.consent_kind",
                f"consent kind {p.consent_kind!r} is not declared",
                "undeclared-reference",
            )

    for i, r in enumerate(policy.retention):
        at = f"retention[{i}]"
        yield from _refs(f"{at}.relation_types", r.relation_types, set(rts), "relation type")
        yield from _refs(f"{at}.categories", r.categories, set(categories), "category")
        yield from _refs(f"{at}.after", r.after, events, "lifecycle event")
        for field in ("relation_types", "categories", "after"):
            if not getattr(r, field):
                yield Problem(
                    f"{at}.{field}", f"a retention rule needs at least one entry in {field}"
                )
        for c in r.categories:
            if (
                c in categories
                and all(rt in rts for rt in r.relation_types)
                and not any(c in rts[rt].categories for rt in r.relation_types)
            ):
                yield Problem(
                    f"{at}.categories",
                    f"category {c!r} is not declared for any of "
                    f"relation types {', '.join(r.relation_types)}",
                    "undeclared-reference",
                )
        ext = r.consent_extension
        if ext is not None and COLLECTED in r.after:
            yield Problem(
                f"{at}.consent_extension",
                "a consent extension needs a rule measured "
                "from a subject's event, not from 'collected'",
                "invalid-extension",
            )
        if ext is not None:
            if ext.consent_kind not in kinds:
                yield Problem(
                    f"{at}.consent_extension.consent_kind",
                    f"consent kind {ext.consent_kind!r} is not declared",
                    "undeclared-reference",
                )
            if not ext.up_to.at_least(r.period):
                yield Problem(
                    f"{at}.consent_extension.up_to",
                    f"{ext.up_to} is shorter than the rule's period {r.period}",
                    "invalid-period",
                )

    for i, rec in enumerate(policy.recipients):
        at = f"recipient[{i}]"
        yield from _refs(f"{at}.purposes", rec.purposes, purposes, "purpose")
        yield from _refs(f"{at}.categories", rec.categories, set(categories), "category")

    if policy.disclosure is not None and policy.disclosure.consent_kind not in kinds:
        yield Problem(
            "disclosure.consent_kind",
            f"consent kind {policy.disclosure.consent_kind!r} is not declared",
            "undeclared-reference",
        )

    if policy.staff_access is not None:
        yield from _refs(
            "staff_access.client_relation_types",
            policy.staff_access.client_relation_types,
            set(rts),
            "relation type",
        )

    if policy.schema_version != 1:
        yield Problem(
            "schema_version",
            f"unsupported policy schema version "
            f"{policy.schema_version} (this library reads version 1)",
            "unsupported-version",
        )

    for code in policy.warnings:
        if code not in COMPLETENESS_CHECKS:
            yield Problem(
                "warnings",
                f"{code!r} is not a completeness check (known: {', '.join(COMPLETENESS_CHECKS)})",
                "unknown-check",
            )


def _completeness(policy: Policy) -> Iterator[Problem]:
    categories = {c.id: c for c in policy.categories}
    used: set[str] = set()
    for i, rt in enumerate(policy.relation_types):
        for c in rt.categories:
            used.add(c)
            if c not in categories:
                continue
            if not policy.purposes_for(rt.id, c):
                yield Problem(
                    f"relation_type[{i}].categories",
                    f"category {c!r} of relation "
                    f"type {rt.id!r} is stored but no purpose processes it",
                    "category-without-purpose",
                )
            if not categories[c].ephemeral and not policy.rules_for(rt.id, c):
                yield Problem(
                    f"relation_type[{i}].categories",
                    f"category {c!r} of relation type {rt.id!r} has no retention rule",
                    "no-retention-rule",
                )
    for i, cat in enumerate(policy.categories):
        if cat.id not in used:
            yield Problem(
                f"category[{i}]",
                f"category {cat.id!r} is not stored for any relation type",
                "unused-category",
            )
    for i, r in enumerate(policy.retention):
        for c in r.categories:
            if c in categories and categories[c].ephemeral:
                yield Problem(
                    f"retention[{i}].categories",
                    f"category {c!r} is ephemeral (never stored) but has a retention rule",
                    "ephemeral-with-retention",
                )
    for i, p in enumerate(policy.purposes):
        at = f"purpose[{i}]"
        if p.legal_basis is LegalBasis.CONSENT and p.consent_kind is None:
            yield Problem(
                f"{at}.consent_kind",
                f"purpose {p.id!r} is based on consent but names no consent kind",
                "consent-purpose-without-consent-kind",
            )
        if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST and p.legitimate_interest is None:
            yield Problem(
                f"{at}.legitimate_interest",
                f"purpose {p.id!r} is based on legitimate interest but does not state the interest",
                "legitimate-interest-not-stated",
            )
        if p.legal_basis is LegalBasis.LEGAL_OBLIGATION and not p.law:
            yield Problem(
                f"{at}.law",
                f"purpose {p.id!r} is based on a legal obligation but does not name the law",
                "legal-obligation-without-law",
            )
