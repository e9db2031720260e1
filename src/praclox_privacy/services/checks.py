"""``praclox-privacy check``: every check of a workspace in one call, for CI (docs/check.md).

:func:`run_checks` runs, on an open workspace:

* ``policy``: the policy is valid and complete (as ``policy check``; S1);
* ``transparency``: the policy holds every GDPR Art. 13/14 element;
* ``stores.reachable``: every store answers (S1: the policy holds everywhere);
* ``stores.categories``: no store holds a category the policy does not declare for the
  subject's relation types (S1), nor an ephemeral one (S11);
* ``retention.overdue``: no item has been due for longer than the grace period (the
  sweep is running; the rule's own promise, or Art. 5(1)(e));
* ``requests.deadlines``: no data-subject request is past its deadline (Art. 12(3));
* ``documents.statement`` and ``documents.register``: committed documents (paths in the
  workspace's ``[check]`` table) are what the policy generates now, with a diff.

:func:`check_policy_file` runs the first two on a policy file alone (no workspace).
:mod:`praclox_privacy.formats.check_report` writes a :class:`CheckReport` as text or JUnit.

Cost: the category check reads every item key of every store once (one streamed query
per SQL store, no values), and the overdue check plans a sweep and counts its
selections with ``find_due``: both fine for workspaces of up to a few million items.
Anonymised items are no longer personal data and are not checked against categories.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..domain.errors import (
    InvalidValue,
    PolicyError,
    PracloxPrivacyError,
    Problem,
    WorkspaceError,
)
from ..domain.findings import (
    CHECKS,
    DEFAULT_GRACE,
    CheckReport,
    CheckResult,
    CheckStatus,
    Finding,
    category_findings,
    consent_findings,
    document_findings,
    overdue_findings,
    overdue_since,
    policy_findings,
    request_findings,
)
from ..domain.periods import Period
from ..domain.records import Item, ItemKey

if TYPE_CHECKING:
    from ..domain.policy import Policy
    from ..ports import Store
    from .workspace import Workspace

__all__ = [
    "CheckReport",
    "CheckResult",
    "CheckSettings",
    "CheckStatus",
    "Finding",
    "check_policy_file",
    "check_settings",
    "run_checks",
]

LANGS = ("nl", "en")
STATEMENT_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
REGISTER_FORMATS = {".csv": "csv", ".md": "md", ".markdown": "md", ".json": "json"}


def _lang(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if value not in LANGS:
        raise InvalidValue(attribute.name, f"{value!r} is not a language ({', '.join(LANGS)})")


def _path(formats: dict[str, str]) -> Any:
    def check(instance: object, attribute: "attrs.Attribute[str | None]", value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(attribute.name, "expected a file path relative to the workspace")
        if Path(value).suffix.lower() not in formats:
            raise InvalidValue(
                attribute.name,
                f"{value!r}: the extension decides the format; expected one of "
                f"{', '.join(sorted(formats))}",
            )

    return check


def _delimiter(instance: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    if value not in (",", ";"):
        raise InvalidValue(attribute.name, f"{value!r} is not ',' or ';'")


@attrs.frozen
class CheckSettings:
    """The ``[check]`` table of ``praclox-privacy.toml``; every key is optional.

    ::

        [check]
        grace = "P1D"                     # how long an item may stay past its erasure date
        statement = "docs/privacy.nl.md"  # committed statement (.md or .html)
        statement_lang = "nl"
        register = "docs/register.csv"    # committed Art. 30 register (.csv, .md or .json)
        register_lang = "nl"
        register_delimiter = ","          # CSV only

    Paths are relative to the workspace folder.
    """

    grace: Period = DEFAULT_GRACE
    statement: str | None = attrs.field(default=None, validator=_path(STATEMENT_FORMATS))
    statement_lang: str = attrs.field(default="nl", validator=_lang)
    register: str | None = attrs.field(default=None, validator=_path(REGISTER_FORMATS))
    register_lang: str = attrs.field(default="nl", validator=_lang)
    register_delimiter: str = attrs.field(default=",", validator=_delimiter)


def check_settings(ws: "Workspace") -> CheckSettings:
    """Return the workspace's ``[check]`` settings.

    :raises WorkspaceError: naming the key at fault.
    """
    from ..formats.policy import structure_document
    from ..ports import CONFIG_NAME

    return structure_document(
        dict(ws.config.check), CheckSettings, str(ws.root / CONFIG_NAME), WorkspaceError, "check"
    )


# -- policy checks (also without a workspace) -----------------------------------------------


def _policy_result(problems: list[Problem], source: str, loaded: "Policy | None") -> CheckResult:
    findings = policy_findings(problems, source)
    if loaded is None:
        return CheckResult.of("policy", findings, "")
    warnings = len(findings)
    return CheckResult.of(
        "policy",
        findings,
        f"{source}: valid and complete ({len(loaded.relation_types)} relation types, "
        f"{len(loaded.categories)} categories, {len(loaded.purposes)} purposes, "
        f"{len(loaded.retention)} retention rules"
        + (f"; {warnings} warning{'s' if warnings != 1 else ''})" if warnings else ")"),
    )


def _transparency_result(policy: "Policy") -> CheckResult:
    from ..formats.documents.art13 import Status, check_transparency

    report = check_transparency(policy)
    findings = [
        Finding(
            "transparency",
            False,
            f"{f.element.articles} GDPR",
            f"{f.element.title} ({f.element.code}): {f.detail}",
            {"element": f.element.code, "add_or_fix": list(f.locations)},
        )
        for f in report.missing
    ]
    findings += [
        Finding(
            "transparency",
            False,
            "Art. 13, 14 GDPR",
            f"statement.not_applicable: {code!r} is not an Art. 13/14 element",
            {"element": code, "add_or_fix": ["statement.not_applicable"]},
        )
        for code in report.unknown
    ]
    present = sum(f.status is Status.PRESENT for f in report.findings)
    na = sum(f.status is Status.NOT_APPLICABLE for f in report.findings)
    return CheckResult.of(
        "transparency", findings, f"complete ({present} present, {na} not applicable)"
    )


def _policy_checks(
    policy: "Policy | None", source: str, error: PolicyError | None
) -> list[CheckResult]:
    from ..domain.validation import check_policy

    if policy is None:
        assert error is not None
        return [
            _policy_result(list(error.problems), error.source, None),
            CheckResult.skipped("transparency", "the policy does not load"),
        ]
    return [_policy_result(check_policy(policy), source, policy), _transparency_result(policy)]


def _skipped_rest(done: list[CheckResult], reason: str) -> list[CheckResult]:
    have = {r.check for r in done}
    return done + [CheckResult.skipped(c, reason) for c in CHECKS if c not in have]


def check_policy_file(path: str | Path | None = None) -> CheckReport:
    """Run the policy checks on the policy file ``path`` (default: the shipped policy).

    The workspace checks are reported as skipped: there is no workspace.
    """
    from ..formats.policy import DEFAULT_POLICY_NAME, default_policy, load_policy_file

    source = f"<default>/{DEFAULT_POLICY_NAME}" if path is None else str(path)
    try:
        policy = default_policy() if path is None else load_policy_file(path)
    except PolicyError as exc:
        results = _policy_checks(None, source, exc)
    else:
        results = _policy_checks(policy, source, None)
    reason = "no workspace (no praclox-privacy.toml): only the policy is checked"
    return CheckReport(source, None, tuple(_skipped_rest(results, reason)))


def unopened_report(root: Path, error: PracloxPrivacyError) -> CheckReport:
    """Return the report for a workspace whose policy does not load or primary store is down.

    :param error: a :class:`PolicyError`, or the error the primary store raised.
    """
    source = str(root)
    if isinstance(error, PolicyError):
        results = _policy_checks(None, source, error)
        return CheckReport(source, None, tuple(_skipped_rest(results, "the policy does not load")))
    down = CheckResult.of(
        "stores.reachable",
        [
            Finding(
                "stores.reachable",
                False,
                "S1",
                f"the primary store cannot be reached: {error}",
                {"store": "primary", "error": str(error)},
            )
        ],
        "",
    )
    reason = "the primary store (ledger) cannot be reached"
    return CheckReport(source, None, tuple(_skipped_rest([down], reason)))


# -- workspace checks --------------------------------------------------------------------


def run_checks(
    ws: "Workspace",
    now: datetime | None = None,
    grace: Period | None = None,
    settings: CheckSettings | None = None,
) -> CheckReport:
    """Run every check on ``ws`` at ``now`` (default: the workspace clock).

    :param grace: how long an item may be past its erasure date (default: the
        ``[check]`` table's ``grace``, else one day).
    :param settings: default: :func:`check_settings` of ``ws``.
    :raises WorkspaceError: when the ``[check]`` table is not valid.
    :raises ValueError: when ``now`` is naive.
    """
    settings = settings or check_settings(ws)
    now = now or ws.clock()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now ({now.isoformat()}) has no timezone")
    grace = grace or settings.grace
    results = _policy_checks(ws.policy, _policy_source(ws), None)
    stores, reachable = _open_stores(ws)
    results.append(reachable)
    results.append(_categories(ws, stores))
    results.append(_overdue(ws, stores, now, grace))
    results.append(_requests(ws, now))
    results.append(_statement(ws, settings))
    results.append(_register(ws, settings))
    return CheckReport(str(ws.root), now, tuple(results))


def _policy_source(ws: "Workspace") -> str:
    from ..formats.policy import DEFAULT_POLICY_NAME

    policy = ws.config.policy
    return f"<default>/{DEFAULT_POLICY_NAME}" if policy == "default" else str(ws.root / policy)


def _open_stores(ws: "Workspace") -> tuple[dict[str, "Store"], CheckResult]:
    stores: dict[str, Store] = {}
    findings: list[Finding] = []
    for name in ws.store_names:
        try:
            store = ws.store(name)
            health = store.health()
        except PracloxPrivacyError as exc:
            findings.append(_unreachable(name, str(exc)))
            continue
        if health.ok:
            stores[name] = store
        else:
            findings.append(_unreachable(name, health.detail))
    n = len(stores)
    return stores, CheckResult.of(
        "stores.reachable",
        findings,
        f"{n} store{'s' if n != 1 else ''} reachable ({', '.join(stores)})",
    )


def _unreachable(name: str, detail: str) -> Finding:
    return Finding(
        "stores.reachable",
        False,
        "S1",
        f"store {name!r} cannot be reached, so its data can be neither checked nor swept: {detail}",
        {"store": name, "error": detail},
    )


def _keys(store: "Store", categories: set[str]) -> Iterator[ItemKey]:
    """Yield the keys of the store's items of ``categories`` (not anonymised ones)."""
    from ..ports import ANONYMISED, DueQuery

    if not categories:
        return
    if store.capabilities().find_due:
        yield from store.find_due(DueQuery(categories))
        return
    for subject_id in store.subject_ids():
        for item in store.items_of(subject_id):
            if item.category in categories and item.value != ANONYMISED:
                yield item.key


def _items(store: "Store", categories: set[str]) -> Iterator[Item]:
    """Yield the store's items of ``categories`` (read per subject holding one)."""
    if not categories:
        return
    subjects = sorted({k.subject_id for k in _keys(store, categories)})
    for subject_id in subjects:
        yield from (i for i in store.items_of(subject_id) if i.category in categories)


def _categories(ws: "Workspace", stores: dict[str, "Store"]) -> CheckResult:
    if not stores:
        return CheckResult.skipped("stores.categories", "no store can be reached")
    declared = {c.id for c in ws.policy.categories if not c.ephemeral}
    gated = {c.id for c in ws.policy.categories if c.requires_consent and not c.ephemeral}
    relation_types = ws.ledger.all_relation_types()
    consents = ws.ledger.all_consents() if gated else {}
    findings: list[Finding] = []
    counted = 0
    for name, store in stores.items():
        try:
            held = dict(store.categories_held())
            # A store that checked its categories when it opened (a mapped database:
            # each mapped category is declared for its table's relation type) is not read.
            keys = (
                iter(())
                if store.capabilities().categories_checked
                else _keys(store, {c for c, n in held.items() if n and c in declared})
            )
            findings += category_findings(name, ws.policy, held, keys, relation_types)
            # Items that need the person's prior consent (S13): the library's own writes
            # are refused without it, an application's own tables are not.
            findings += consent_findings(
                name, ws.policy, _items(store, {c for c in gated if held.get(c)}), consents
            )
        except PracloxPrivacyError as exc:
            findings.append(_unreachable(name, str(exc)))
            continue
        counted += sum(held.values())
    unchecked = [n for n in ws.store_names if n not in stores]
    summary = f"{counted} item{'s' if counted != 1 else ''} in {len(stores)} store" + (
        "s" if len(stores) != 1 else ""
    )
    summary += " hold only declared categories"
    if unchecked:
        summary += f" (not checked: {', '.join(unchecked)})"
    return CheckResult.of("stores.categories", findings, summary)


def _overdue(
    ws: "Workspace", stores: dict[str, "Store"], now: datetime, grace: Period
) -> CheckResult:
    from ..domain.sweep_plan import DueSelection
    from ..ports import DueQuery, SweepsInPlace
    from .sweep import BATCH_SUBJECTS, due_in_place, plan

    if not stores:
        return CheckResult.skipped("retention.overdue", "no store can be reached")
    since = overdue_since(now, grace)
    the_plan = plan(ws, since)
    findings: list[Finding] = []
    for name, store in stores.items():
        counts: list[tuple[DueSelection, int, Sequence[str]]] = []
        try:
            if isinstance(store, SweepsInPlace):
                counts = [
                    (DueSelection(e.rule, e.action, e.category, since, e.subjects), e.count,
                     e.subjects[:20])
                    for e in due_in_place(ws, name, since)
                ]  # fmt: skip
                findings += overdue_findings(name, ws.policy, counts, since, grace)
                continue
            for selection in the_plan.selections:
                ids = selection.subject_ids
                count, subjects = 0, set[str]()
                for start in range(0, len(ids), BATCH_SUBJECTS):
                    query = DueQuery(
                        {selection.category},
                        ids[start : start + BATCH_SUBJECTS],
                        selection.collected_before,
                    )
                    for key in store.find_due(query):
                        count += 1
                        subjects.add(key.subject_id)
                counts.append((selection, count, sorted(subjects)))
        except PracloxPrivacyError as exc:
            findings.append(_unreachable(name, str(exc)))
            continue
        findings += overdue_findings(name, ws.policy, counts, since, grace)
    return CheckResult.of(
        "retention.overdue",
        findings,
        f"nothing due at {since.isoformat()} or earlier (grace {grace}) is still held",
    )


def _requests(ws: "Workspace", now: datetime) -> CheckResult:
    try:
        from .requests import list_requests
    except ImportError as exc:  # pragma: no cover - the requests module is part of the package
        return CheckResult.skipped(
            "requests.deadlines", f"data-subject requests are not available: {exc}"
        )
    overdue = list_requests(ws, overdue=True, now=now)
    findings = request_findings(
        ((r.id, r.type.value, r.type.article, r.deadline) for r in overdue), now
    )
    open_now = len(list_requests(ws, open_only=True, now=now))
    return CheckResult.of(
        "requests.deadlines",
        findings,
        f"{open_now} open request{'s' if open_now != 1 else ''}, none past its deadline",
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


def _statement(ws: "Workspace", settings: CheckSettings) -> CheckResult:
    from ..formats.documents.statement import TemplateError, render_statement

    if settings.statement is None:
        return CheckResult.skipped(
            "documents.statement", "no committed statement configured ([check] statement)"
        )
    fmt = STATEMENT_FORMATS[Path(settings.statement).suffix.lower()]
    lang = settings.statement_lang
    try:
        generated = render_statement(ws.policy, lang, fmt)
    except TemplateError as exc:
        return CheckResult.of(
            "documents.statement",
            [Finding("documents.statement", False, "S1", f"cannot generate it: {exc}")],
            "",
        )
    path = ws.root / settings.statement
    regenerate = (
        f"praclox-privacy statement -w {ws.root} --lang {lang} --format {fmt} "
        f"--out {settings.statement}"
    )
    findings = document_findings(
        "documents.statement", "S1", settings.statement, _read(path), generated, regenerate
    )
    return CheckResult.of(
        "documents.statement", findings, f"{settings.statement} matches the policy"
    )


def _register(ws: "Workspace", settings: CheckSettings) -> CheckResult:
    from ..formats.documents.register import build_register

    if settings.register is None:
        return CheckResult.skipped(
            "documents.register", "no committed register configured ([check] register)"
        )
    fmt = REGISTER_FORMATS[Path(settings.register).suffix.lower()]
    built = build_register(ws.policy, settings.register_lang)
    if fmt == "csv":
        generated = built.to_csv(delimiter=settings.register_delimiter)
    elif fmt == "md":
        generated = built.to_markdown()
    else:
        generated = built.to_json()
    regenerate = (
        f"praclox-privacy register -w {ws.root} --lang {settings.register_lang} --format {fmt}"
        + (
            f" --delimiter '{settings.register_delimiter}'"
            if fmt == "csv" and settings.register_delimiter != ","
            else ""
        )
        + f" --out {settings.register}"
    )
    path = ws.root / settings.register
    findings = document_findings(
        "documents.register",
        "Art. 30(1) GDPR",
        settings.register,
        _read(path),
        generated,
        regenerate,
    )
    return CheckResult.of("documents.register", findings, f"{settings.register} matches the policy")
