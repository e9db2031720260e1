"""The ``statement``, ``register`` and ``export`` commands: documents from the policy.

Every command reads Praclox's shipped policy unless given ``--policy FILE`` or
``--workspace DIR`` (the workspace's policy). Exit codes as everywhere: 0 success, 1 a
check failed or the policy, a template or a mapping has problems, 2 usage errors.
Everything heavy (the template engine, the workspace's stores) is imported inside the
commands.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import format_option, lang_option, out_option, policy_option, workspace_option
from .options import print_problems as _problems

if TYPE_CHECKING:
    from ..domain.policy import Policy

__all__ = ["export", "register", "statement"]

_POLICY = policy_option(help="A policy file (default: Praclox's shipped policy).")
_WORKSPACE = workspace_option(default=None, help="Use this workspace's policy.")
_OUT = out_option()
_LANG = lang_option(help="Language of the document.")


def _policy(policy_file: Path | None, workspace_dir: Path | None) -> tuple["Policy", str]:
    """Load the policy the options name; return it with a name for messages."""
    from ..domain.errors import DocumentError, PolicyError, PracloxPrivacyError
    from ..formats.policy import DEFAULT_POLICY_NAME, default_policy, load_policy_file

    if policy_file is not None and workspace_dir is not None:
        raise click.UsageError("give --policy or --workspace, not both")
    if workspace_dir is not None:
        from ..services.workspace import Workspace

        try:
            ws = Workspace.open(workspace_dir)
        except DocumentError as exc:
            _problems(exc.source, [str(p) for p in exc.problems])
            raise SystemExit(2) from None
        except PracloxPrivacyError as exc:
            click.echo(f"Error: {exc}", err=True)
            raise SystemExit(2) from None
        try:
            return ws.policy, f"{workspace_dir}"
        finally:
            ws.close()
    try:
        if policy_file is None:
            return default_policy(), f"<default>/{DEFAULT_POLICY_NAME}"
        return load_policy_file(policy_file), str(policy_file)
    except PolicyError as exc:
        _problems(exc.source, [str(p) for p in exc.problems])
        raise SystemExit(1) from None


def _write(data: bytes, out: Path | None, what: str) -> None:
    """Write ``data`` to ``out`` (reporting where) or to standard output."""
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {what} to {out}", err=True)


@click.command()
@_LANG
@format_option("md", "html", default="md")
@_OUT
@click.option(
    "--template",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    metavar="FILE",
    default=None,
    help="Your own template instead of the shipped one (Markdown; .html for HTML).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check the policy against GDPR Art. 13 and 14 instead; exit 1 naming what is missing.",
)
@click.option(
    "--dump-template",
    is_flag=True,
    help="Print the shipped template for --lang, to start your own from.",
)
@_POLICY
@_WORKSPACE
def statement(
    lang: str,
    fmt: str,
    out: Path | None,
    template: Path | None,
    check: bool,
    dump_template: bool,
    policy_file: Path | None,
    workspace_dir: Path | None,
) -> None:
    """Write the public privacy statement, generated from the policy."""
    if check and dump_template:
        raise click.UsageError("give --check or --dump-template, not both")
    if dump_template:
        from ..formats.documents.statement import default_template

        _write(default_template(lang).encode("utf-8"), out, "the template")
        return
    loaded, source = _policy(policy_file, workspace_dir)
    if check:
        _check(loaded, source)
        return
    from ..formats.documents.statement import TemplateError, render_statement

    try:
        text = render_statement(loaded, lang, fmt, template)
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None
    _write(text.encode("utf-8"), out, "the statement")


def _check(loaded: "Policy", source: str) -> None:
    from ..formats.documents.art13 import Status, check_transparency

    report = check_transparency(loaded)
    marks = {Status.PRESENT: "ok", Status.NOT_APPLICABLE: "n/a", Status.MISSING: "MISSING"}
    for f in report.findings:
        click.echo(f"{marks[f.status]:<8} {f.element.code}: {f.element.title}")
        click.echo(f"         {f.element.articles}; {f.detail}")
        for location in f.locations:
            click.echo(f"         add or fix: {location}")
    for code in report.unknown:
        click.echo(f"MISSING  statement.not_applicable: {code!r} is not an Art. 13/14 element")
    present = sum(f.status is Status.PRESENT for f in report.findings)
    na = sum(f.status is Status.NOT_APPLICABLE for f in report.findings)
    if report.ok:
        click.echo(
            f"{source}: complete for GDPR Art. 13 and 14 ({present} present, {na} not applicable)"
        )
        return
    names = [f.element.code for f in report.missing] + [
        f"not_applicable:{c}" for c in report.unknown
    ]
    click.echo(
        f"{source}: incomplete for GDPR Art. 13 and 14; missing: {', '.join(names)}", err=True
    )
    sys.exit(1)


@click.command(short_help="Write the record of processing activities (GDPR article 30).")
@format_option("csv", "md", "json", default="csv")
@_LANG
@click.option("--bom", is_flag=True, help="CSV only: start with a UTF-8 byte order mark.")
@click.option(
    "--delimiter",
    type=click.Choice([",", ";"]),
    default=",",
    show_default=True,
    help="CSV only: the field separator (';' for spreadsheets in Dutch locales).",
)
@_OUT
@_POLICY
@_WORKSPACE
def register(
    fmt: str,
    lang: str,
    bom: bool,
    delimiter: str,
    out: Path | None,
    policy_file: Path | None,
    workspace_dir: Path | None,
) -> None:
    """Write the GDPR Art. 30(1) record of processing activities, one row per purpose."""
    if fmt != "csv" and (bom or delimiter != ","):
        raise click.UsageError("--bom and --delimiter apply to --format csv only")
    loaded, _ = _policy(policy_file, workspace_dir)
    from ..formats.documents.register import build_register

    built = build_register(loaded, lang)
    if fmt == "csv":
        text = built.to_csv(bom=bom, delimiter=delimiter)
    elif fmt == "md":
        text = built.to_markdown()
    else:
        text = built.to_json()
    _write(text.encode("utf-8"), out, "the register")


@click.group()
def export() -> None:
    """Export the policy for other privacy tools (Fides, DPV)."""


_MAPPING = click.option(
    "--mapping",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    metavar="FILE",
    default=None,
    help="A TOML file whose entries replace the shipped id-to-vocabulary mapping.",
)


@export.command("fides")
@format_option("json", "yaml", default="json", help="Manifest format (YAML needs the fides extra).")
@click.option("--system-key", metavar="KEY", default=None, help="The system's fides key.")
@_MAPPING
@_OUT
@_POLICY
@_WORKSPACE
def export_fides(
    fmt: str,
    system_key: str | None,
    mapping: Path | None,
    out: Path | None,
    policy_file: Path | None,
    workspace_dir: Path | None,
) -> None:
    """Write the policy as an Ethyca Fides (fideslang) manifest."""
    from ..formats.documents.fides import MappingError, fides_manifest, load_mapping, manifest_text

    loaded, _ = _policy(policy_file, workspace_dir)
    try:
        manifest = fides_manifest(loaded, load_mapping(mapping), system_key)
        text = manifest_text(manifest, fmt)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    _write(text.encode("utf-8"), out, "the Fides manifest")


@export.command("dpv")
@click.option(
    "--base",
    metavar="IRI",
    default=None,
    help="IRI prefix of the policy's own concepts (default: urn:praclox-privacy:<controller>:).",
)
@_MAPPING
@_OUT
@_POLICY
@_WORKSPACE
def export_dpv(
    base: str | None,
    mapping: Path | None,
    out: Path | None,
    policy_file: Path | None,
    workspace_dir: Path | None,
) -> None:
    """Write the policy as W3C Data Privacy Vocabulary (DPV) JSON-LD."""
    from ..formats.documents.dpv import dpv_document, dpv_text
    from ..formats.documents.fides import MappingError, load_mapping

    loaded, _ = _policy(policy_file, workspace_dir)
    try:
        text = dpv_text(dpv_document(loaded, load_mapping(mapping), base))
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None
    _write(text.encode("utf-8"), out, "the DPV document")
