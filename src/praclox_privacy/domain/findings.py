"""What ``praclox-privacy check`` finds, and the pure parts of its checks (no I/O).

A *check* verifies one thing (the policy is complete, no store holds an ephemeral
category, nothing is overdue, ...) and yields a :class:`CheckResult`: passed, failed or
skipped, with its :class:`Finding` values. Every finding names the promise (``S1`` ...
``S16``) or the GDPR article it breaks, so a failing CI build says *which* promise broke.

The functions here turn what the service (:mod:`praclox_privacy.services.checks`) read from the
policy, the stores and the ledger into findings; they never touch a store themselves.

"Overdue" is defined through the sweep plan: an item is overdue at ``now`` when the sweep
planned at ``now - grace`` (:func:`overdue_since`) would already select it, that is when
it has been due for at least the grace period. A sweep that runs daily never leaves such
an item behind; one that stopped running does.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from .errors import Problem
from .periods import Period
from .policy import Policy
from .records import Consent, Item, ItemKey
from .sweep_plan import DueSelection

__all__ = [
    "CHECKS",
    "DEFAULT_GRACE",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "Finding",
    "category_findings",
    "consent_findings",
    "document_findings",
    "overdue_findings",
    "overdue_since",
    "policy_findings",
    "request_findings",
]

DEFAULT_GRACE = Period(days=1)
"""How long an item may be past its erasure date before ``check`` calls it overdue."""

SAMPLE = 10
"""At most this many subject ids are named in one finding's details."""

CHECKS: dict[str, tuple[str, str]] = {
    "policy": ("the policy is valid and complete", "S1"),
    "transparency": (
        "the policy holds every element GDPR Art. 13 and 14 require",
        "Art. 13, 14 GDPR",
    ),
    "stores.reachable": ("every store can be reached", "S1"),
    "stores.categories": (
        "every store holds only categories the policy declares for each subject's "
        "relation types, no ephemeral category, and no item that needs the person's "
        "prior consent without it",
        "S1, S11, S13",
    ),
    "retention.overdue": (
        "nothing is kept past its erasure date for longer than the grace period",
        "Art. 5(1)(e) GDPR",
    ),
    "requests.deadlines": (
        "no data-subject request is past its legal deadline",
        "Art. 12(3) GDPR",
    ),
    "documents.statement": (
        "the committed privacy statement is what the policy generates now",
        "S1",
    ),
    "documents.register": (
        "the committed Art. 30 register is what the policy generates now",
        "Art. 30(1) GDPR",
    ),
}
"""Every check ``check`` runs, in order: id -> (what it verifies, promise or article)."""


class CheckStatus(enum.StrEnum):
    """The outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


def _details(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen
class Finding:
    """One thing a check found.

    :ivar check: the check's id (a key of ``CHECKS``).
    :ivar ok: ``False`` for a problem; ``True`` for a note that does not fail the check
        (a policy warning).
    :ivar ref: the promise (``S11``) or GDPR article (``Art. 12(3) GDPR``) it concerns.
    :ivar message: what was found, in one sentence.
    :ivar details: JSON-serialisable data (counts, subject ids, a diff).
    """

    check: str
    ok: bool
    ref: str
    message: str
    details: Mapping[str, Any] = attrs.field(factory=dict, converter=_details)


@attrs.frozen
class CheckResult:
    """The outcome of one check: one test case in the JUnit output.

    :ivar summary: one line: what passed, what failed, or why the check was skipped.
    """

    check: str
    status: CheckStatus
    summary: str
    findings: tuple[Finding, ...] = ()

    @property
    def title(self) -> str:
        """What the check verifies."""
        return CHECKS[self.check][0]

    @property
    def ref(self) -> str:
        """The promise or article the check guards."""
        return CHECKS[self.check][1]

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The findings that fail the check."""
        return tuple(f for f in self.findings if not f.ok)

    @classmethod
    def of(cls, check: str, findings: Iterable[Finding], passed: str) -> "CheckResult":
        """Return the result of ``findings``: failed when one is a problem.

        :param passed: the summary when nothing failed.
        """
        found = tuple(findings)
        problems = [f for f in found if not f.ok]
        if not problems:
            return cls(check, CheckStatus.PASSED, passed, found)
        refs = sorted({f.ref for f in problems}, key=_ref_order)
        n = len(problems)
        summary = f"{n} problem{'s' if n != 1 else ''} ({', '.join(refs)})"
        return cls(check, CheckStatus.FAILED, summary, found)

    @classmethod
    def skipped(cls, check: str, reason: str) -> "CheckResult":
        """Return a skipped result; ``reason`` says why."""
        return cls(check, CheckStatus.SKIPPED, reason)


def _ref_order(ref: str) -> tuple[int, int, str]:
    if ref.startswith("S") and ref[1:].isdigit():
        return (0, int(ref[1:]), ref)
    return (1, 0, ref)


@attrs.frozen
class CheckReport:
    """Every check's result; :attr:`ok` decides the exit code of ``check``.

    :ivar now: the instant the checks ran at (``None`` for policy-only checks).
    :ivar source: the workspace folder or policy file checked.
    """

    source: str
    now: datetime | None
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        """Whether no check failed (skipped checks do not fail)."""
        return all(r.status is not CheckStatus.FAILED for r in self.results)

    def count(self, status: CheckStatus) -> int:
        """Return how many checks ended with ``status``."""
        return sum(r.status is status for r in self.results)

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Every finding that fails a check."""
        return tuple(f for r in self.results for f in r.problems)

    def result(self, check: str) -> CheckResult:
        """Return the result of ``check``.

        :raises KeyError: when the report has no such check.
        """
        for r in self.results:
            if r.check == check:
                return r
        raise KeyError(check)


# -- the policy --------------------------------------------------------------------------


def policy_findings(problems: Iterable[Problem], source: str) -> list[Finding]:
    """Return a finding per policy problem; warnings do not fail the check (S1)."""
    return [
        Finding(
            "policy",
            p.severity == "warning",
            "S1",
            f"{source}: {p}",
            {"location": p.location, "code": p.code, "severity": p.severity},
        )
        for p in problems
    ]


# -- stores ------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def consent_findings(
    store: str,
    policy: Policy,
    items: Iterable[Item],
    consents: Mapping[str, Sequence[Consent]],
) -> list[Finding]:
    """Return the items held without the prior consent their category requires (S13).

    A category with ``requires_consent`` (a recording) may only be kept when that very
    person consented beforehand: a consent of the kind, given at or before the item was
    collected. The library's writes are refused without it; data an application writes
    into its own tables (a mapped database) is checked here.

    :param items: the store's items of categories that require a consent.
    :param consents: every consent on record, by subject id.
    :returns: an S13 finding per category, naming the subjects (a sample) at fault.
    """
    kinds = {c.id: c.requires_consent for c in policy.categories if c.requires_consent}
    missing: dict[str, set[str]] = {}
    for item in items:
        kind = kinds.get(item.category)
        if kind is None:
            continue
        given = [
            c
            for c in consents.get(item.subject_id, ())
            if c.kind == kind and c.granted_at <= item.collected_at
        ]
        if not given:
            missing.setdefault(item.category, set()).add(item.subject_id)
    return [
        Finding(
            "stores.categories",
            False,
            "S13",
            f"store {store!r} holds items of category {category!r} of "
            f"{_plural(len(subjects), 'subject')} without that person's prior "
            f"{kinds[category]!r} consent",
            {
                "store": store,
                "category": category,
                "consent_kind": kinds[category],
                "subjects": sorted(subjects)[:SAMPLE],
                "count": len(subjects),
            },
        )
        for category, subjects in sorted(missing.items())
    ]


def category_findings(
    store: str,
    policy: Policy,
    held: Mapping[str, int],
    keys: Iterable[ItemKey],
    relation_types: Mapping[str, frozenset[str]],
) -> list[Finding]:
    """Return what ``store`` holds that the policy does not allow.

    :param held: items per category (:meth:`~praclox_privacy.ports.Store.categories_held`).
    :param keys: the keys of the items to check against their subject's relation types
        (those of the categories some relation type does not declare).
    :param relation_types: every registered subject's relation types.
    :returns: an S1 finding per category the policy does not declare, an S11 finding per
        ephemeral category held, and an S1 finding per category held for subjects whose
        relation types do not declare it (or who are not registered at all).
    """
    declared = {c.id: c for c in policy.categories}
    found: list[Finding] = []
    for category, count in sorted(held.items()):
        if count <= 0:
            continue
        if category not in declared:
            found.append(
                Finding(
                    "stores.categories",
                    False,
                    "S1",
                    f"store {store!r} holds {_plural(count, 'item')} of category {category!r}, "
                    "which the policy does not declare",
                    {"store": store, "category": category, "count": count},
                )
            )
        elif declared[category].ephemeral:
            found.append(
                Finding(
                    "stores.categories",
                    False,
                    "S11",
                    f"store {store!r} holds {_plural(count, 'item')} of ephemeral category "
                    f"{category!r}, which is never to be stored",
                    {"store": store, "category": category, "count": count},
                )
            )
    wrong: dict[tuple[str, frozenset[str]], list[str]] = {}
    for key in keys:
        entry = declared.get(key.category)
        if entry is None or entry.ephemeral:
            continue  # reported per category above
        types = relation_types.get(key.subject_id, frozenset())
        if not any(policy.declares(rt, key.category) for rt in types):
            wrong.setdefault((key.category, types), []).append(key.subject_id)
    for (category_id, types), subjects in sorted(
        wrong.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))
    ):
        distinct = sorted(set(subjects))
        if types:
            whose = f"subjects of relation type {', '.join(sorted(types))}, which do not declare it"
        else:
            whose = "subjects that are not registered (no relation type)"
        found.append(
            Finding(
                "stores.categories",
                False,
                "S1",
                f"store {store!r} holds {_plural(len(subjects), 'item')} of category "
                f"{category_id!r} for {_plural(len(distinct), 'subject')}: {whose}",
                {
                    "store": store,
                    "category": category_id,
                    "relation_types": sorted(types),
                    "count": len(subjects),
                    "subjects": distinct[:SAMPLE],
                },
            )
        )
    return found


# -- retention ---------------------------------------------------------------------------


def overdue_since(now: datetime, grace: Period) -> datetime:
    """Return the instant to plan the sweep at: ``now`` minus ``grace``, in calendar units.

    What that plan selects has been due for at least ``grace`` at ``now``.

    :raises ValueError: when ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    result: datetime = now - grace.as_relativedelta()
    return result


def overdue_findings(
    store: str,
    policy: Policy,
    due: Iterable[tuple[DueSelection, int, Sequence[str]]],
    since: datetime,
    grace: Period,
) -> list[Finding]:
    """Return a finding per rule and category with items overdue in ``store``.

    :param due: per selection of the plan at ``since``, how many items of ``store`` it
        matches and (some of) their subjects.
    :param since: the instant the plan was made at (:func:`overdue_since`).
    :returns: findings naming the rule's promises (its ``source``), or Art. 5(1)(e) GDPR
        (storage limitation) when the rule names none.
    """
    grouped: dict[tuple[str, str], tuple[int, set[str], DueSelection]] = {}
    for selection, count, subjects in due:
        if count <= 0:
            continue
        key = (selection.rule, selection.category)
        total, who, _ = grouped.get(key, (0, set(), selection))
        grouped[key] = (total + count, who | set(subjects), selection)
    rules = {r.id: r for r in policy.retention}
    found: list[Finding] = []
    for (rule_id, category), (count, who, selection) in sorted(grouped.items()):
        rule = rules.get(rule_id)
        sources = ", ".join(rule.source) if rule is not None and rule.source else ""
        ref = sources or "Art. 5(1)(e) GDPR"
        verb = "anonymised" if selection.action.value == "anonymise" else "erased"
        found.append(
            Finding(
                "retention.overdue",
                False,
                ref,
                f"store {store!r} still holds {_plural(count, 'item')} of category "
                f"{category!r} that rule {rule_id!r} made due more than {grace} ago "
                f"(already due at {since.isoformat()}; should have been {verb}): is the "
                "sweep running?",
                {
                    "store": store,
                    "rule": rule_id,
                    "category": category,
                    "action": selection.action.value,
                    "count": count,
                    "subjects": sorted(who)[:SAMPLE],
                    "due_at_or_before": since.isoformat(),
                    "grace": str(grace),
                },
            )
        )
    return found


# -- requests ----------------------------------------------------------------------------


def request_findings(
    overdue: Iterable[tuple[str, str, str, datetime]], now: datetime
) -> list[Finding]:
    """Return a finding per open request past its deadline (GDPR Art. 12(3)).

    :param overdue: per request: its id, its type, the article of the right it exercises
        and its deadline (extended, if so).
    """
    found: list[Finding] = []
    for request_id, kind, article, deadline in overdue:
        late = now - deadline
        days = late.days
        found.append(
            Finding(
                "requests.deadlines",
                False,
                "Art. 12(3) GDPR",
                f"{kind} request {request_id} ({article}) was due {deadline.isoformat()}"
                f" and is still open ({_plural(days, 'day') if days else 'less than a day'}"
                " late)",
                {
                    "request": request_id,
                    "type": kind,
                    "article": article,
                    "deadline": deadline.isoformat(),
                    "days_late": days,
                },
            )
        )
    return found


# -- committed documents -----------------------------------------------------------------

DIFF_LINES = 400
"""At most this many lines of a document's diff are kept in a finding."""


def _normalised(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def document_findings(
    check: str,
    ref: str,
    path: str,
    committed: str | None,
    generated: str,
    regenerate: str,
) -> list[Finding]:
    """Compare a committed document with what the policy generates now.

    Line endings and a leading byte order mark are not compared.

    :param committed: the file's text, or ``None`` when it does not exist.
    :param regenerate: the command that writes the file anew, for the message.
    :returns: nothing when they match; else one finding with a unified diff
        (``details["diff"]``, committed file first).
    """
    import difflib

    if committed is None:
        return [
            Finding(
                check,
                False,
                ref,
                f"{path} does not exist; write it with: {regenerate}",
                {"path": path, "regenerate": regenerate},
            )
        ]
    old, new = _normalised(committed), _normalised(generated)
    if old == new:
        return []
    diff = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=path,
            tofile=f"{path} (generated from the policy now)",
        )
    )
    changed = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
    shown = [line if line.endswith("\n") else line + "\n" for line in diff[:DIFF_LINES]]
    if len(diff) > DIFF_LINES:
        shown.append(f"... {len(diff) - DIFF_LINES} more diff lines\n")
    return [
        Finding(
            check,
            False,
            ref,
            f"{path} differs from what the policy generates now ({_plural(changed, 'line')} "
            f"changed); write it anew with: {regenerate}",
            {"path": path, "regenerate": regenerate, "diff": "".join(shown)},
        )
    ]
