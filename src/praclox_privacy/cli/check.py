"""The ``check`` command: every check in one call, the gate for CI (docs/check.md).

Exit codes: 0 when every check passed (skipped ones included), 1 when one failed, 2 on
usage errors and invalid configuration (``praclox-privacy.toml``, its ``[check]`` table).
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import format_option, now_option, out_option, policy_option, workspace_option

if TYPE_CHECKING:
    from ..domain.findings import CheckReport
    from ..domain.periods import Period

__all__ = ["check"]


def _problems(source: str, problems: list[str]) -> None:
    n = len(problems)
    click.echo(f"{source}: {n} problem{'s' if n != 1 else ''}", err=True)
    for problem in problems:
        click.echo(f"  {source}: {problem}", err=True)


def _grace(text: str | None) -> "Period | None":
    from ..domain.periods import Period, PeriodFormatError

    if text is None:
        return None
    try:
        return Period.parse(text)
    except PeriodFormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--grace") from None


def _instant(text: str | None) -> None:
    from datetime import datetime

    if text is None:
        return
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 date or date-time", param_hint="--now"
        ) from None


def _workspace_report(root: Path, now_text: str | None, grace_text: str | None) -> "CheckReport":
    from ..domain.errors import DocumentError, OperationRefused, PolicyError, PracloxPrivacyError
    from ..services.checks import run_checks, unopened_report
    from ..services.workspace import Workspace

    grace = _grace(grace_text)
    try:
        ws = Workspace.open(root)
    except PolicyError as exc:
        return unopened_report(root, exc)
    except DocumentError as exc:
        _problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(2) from None
    except PracloxPrivacyError as exc:
        return unopened_report(root, exc)
    with ws:
        try:
            now = ws.parse_instant(now_text) if now_text else None
        except OperationRefused as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None
        try:
            return run_checks(ws, now, grace)
        except DocumentError as exc:
            _problems(exc.source, [str(p) for p in exc.problems])
            raise SystemExit(2) from None


def _render(report: "CheckReport", fmt: str) -> str:
    from ..formats.check_report import report_junit, report_text
    from ..formats.jsonout import dumps

    if fmt == "json":
        return dumps(report) + "\n"
    if fmt == "junit":
        return report_junit(report)
    return report_text(report)


@click.command(short_help="Run every check, the gate for CI: exit 1 when one fails.")
@workspace_option(
    help="The workspace folder. Without a praclox-privacy.toml there, only the policy "
    "(--policy or the shipped one) is checked."
)
@policy_option(help="Check this policy file alone (no workspace).")
@now_option(help="Check as of this instant (ISO 8601; default: now).")
@click.option(
    "--grace",
    "grace_text",
    metavar="PERIOD",
    default=None,
    help="How long an item may be past its erasure date (ISO 8601 period; default: the "
    "workspace's [check] grace, else P1D).",
)
@format_option(
    "text",
    "json",
    "junit",
    help="Output format; junit writes JUnit XML (one test case per check).",
)
@out_option(help="Write the report to FILE (the text report still goes to standard output).")
def check(
    workspace_dir: Path,
    policy_file: Path | None,
    now_text: str | None,
    grace_text: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Run every check: policy, Art. 13/14, stores, overdue data and requests, documents.

    Exits 0 when all pass, 1 when one fails (each problem names the promise S1..S16 or
    the GDPR article it breaks), 2 on usage or configuration errors.
    """
    from ..ports import CONFIG_NAME
    from ..services.checks import check_policy_file

    has_workspace = (workspace_dir / CONFIG_NAME).is_file()
    if not has_workspace or policy_file is not None:
        _grace(grace_text)  # malformed options are usage errors in every mode
        _instant(now_text)
    if policy_file is not None:
        if has_workspace and workspace_dir != Path():
            raise click.UsageError("give --policy or --workspace, not both")
        if not policy_file.is_file():
            raise click.BadParameter(f"{policy_file} does not exist", param_hint="--policy")
        report = check_policy_file(policy_file)
    elif has_workspace:
        report = _workspace_report(workspace_dir, now_text, grace_text)
    elif workspace_dir != Path():
        raise click.BadParameter(
            f"{workspace_dir} has no {CONFIG_NAME}; create one with `praclox-privacy init`",
            param_hint="--workspace",
        )
    else:
        report = check_policy_file(None)
    text = _render(report, fmt)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"Error: cannot write {out}: {exc.strerror}", err=True)
            raise SystemExit(2) from None
        if fmt != "text":
            from ..formats.check_report import report_text

            click.echo(report_text(report), nl=False)
        click.echo(f"wrote the {fmt} report to {out}", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(0 if report.ok else 1)
