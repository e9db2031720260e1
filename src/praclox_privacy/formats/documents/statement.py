"""The public privacy statement, generated from the policy (S1).

The wording is in Jinja2 templates, one per language, shipped as data files
(``praclox_privacy/documents/templates/statement.nl.md`` and ``statement.en.md``); a
user's own template replaces them. Templates write Markdown; ``--format html`` converts
that with markdown-it-py (raw HTML in the policy's texts is escaped, never passed on), or
renders an HTML template (a file ending in ``.html``) directly with HTML autoescaping.
"""

import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...domain.errors import PracloxPrivacyError
from ...domain.policy import Policy
from .context import statement_context
from .words import LANGUAGES, indefinite, join_and, join_or, period_words, ucfirst

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "FORMATS",
    "TemplateError",
    "default_template",
    "markdown_to_html",
    "md_escape",
    "render_statement",
]

FORMATS = ("md", "html")
"""The statement's output formats."""

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


class TemplateError(PracloxPrivacyError):
    """A statement template cannot be read, parsed or rendered."""


def default_template(lang: str, kind: str = "statement") -> str:
    """Return the text of a shipped template (``statement`` or ``page``) for ``lang``.

    :raises ValueError: for another language.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (expected 'nl' or 'en')")
    name = "page.html" if kind == "page" else f"{kind}.{lang}.md"
    return resources.files(__package__).joinpath("templates", name).read_text("utf-8")


def md_escape(text: str) -> str:
    """Escape Markdown's special characters (``*``, ``_``, ``<``, ``|``, ...) in ``text``."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _lookup(codes: Any, table: dict[str, Any]) -> list[Any]:
    """Look codes up in a table: ``origins|lookup({"data_subject": "from you"})``."""
    return [table.get(code, code) for code in codes]


def _environment(lang: str, html: bool) -> "jinja2.Environment":
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lookup"] = _lookup
    env.filters["join_and"] = lambda items: join_and(items, lang)
    env.filters["join_or"] = lambda items: join_or(items, lang)
    env.filters["period"] = lambda period: period_words(period, lang)
    env.filters["ucfirst"] = ucfirst
    env.filters["a"] = indefinite
    return env


def _render(text: str, name: str, lang: str, html: bool, context: dict[str, Any]) -> str:
    import jinja2

    try:
        template = _environment(lang, html).from_string(text)
        template.filename = name
        rendered = template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{name}: {exc}") from None
    return _tidy(rendered)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines and end with one newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def markdown_to_html(markdown: str, lang: str, page: bool = True) -> str:
    """Convert the statement's Markdown to HTML; raw HTML in it is escaped.

    :param page: wrap it in a complete HTML page (the shipped ``page.html`` template).
    """
    from markdown_it import MarkdownIt

    body: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    if not page:
        return body
    import markupsafe

    match = re.search(r"^# (.+)$", markdown, re.MULTILINE)
    title = re.sub(r"\\(.)", r"\1", match.group(1)) if match else ""
    context = {"lang": lang, "title": title, "body": markupsafe.Markup(body)}
    return _render(default_template(lang, "page"), "page.html", lang, True, context)


def render_statement(
    policy: Policy,
    lang: str = "nl",
    fmt: str = "md",
    template: str | Path | None = None,
) -> str:
    """Return the privacy statement for ``policy``.

    :param lang: ``"nl"`` or ``"en"``.
    :param fmt: ``"md"`` or ``"html"``.
    :param template: a template file of one's own instead of the shipped one; a file
        ending in ``.html`` is an HTML template (only for ``fmt="html"``), any other a
        Markdown template.
    :raises TemplateError: when the template cannot be read or rendered.
    :raises ValueError: for an unsupported language or format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unsupported format {fmt!r} (expected 'md' or 'html')")
    if template is None:
        text, name, html_template = default_template(lang), f"statement.{lang}.md", False
    else:
        path = Path(template)
        html_template = path.suffix.lower() in (".html", ".htm")
        if html_template and fmt != "html":
            raise TemplateError(f"{path}: an HTML template can only render --format html")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{path}: cannot read the template: {exc}") from None
        name = str(path)
    context = statement_context(policy, lang, None if html_template else md_escape)
    rendered = _render(text, name, lang, html_template, context)
    if fmt == "html" and not html_template:
        return markdown_to_html(rendered, lang)
    return rendered
