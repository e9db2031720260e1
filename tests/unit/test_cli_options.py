"""Every option of the command line is declared once (the shared ones in ``cli/options.py``).

An option that several commands take is made by one factory in ``cli/options.py``, whose
arguments are the variants; an option only one command takes is declared with it. So no
option name appears in two declarations. The commands the built-in plugins add
(``stores/*/commands.py``) are scanned too: they take the shared options from the
``CommandKit`` they are given.
"""

import ast
from collections import defaultdict
from pathlib import Path

import click

from praclox_privacy.cli import options
from praclox_privacy.cli.options import LANGUAGES, format_option, lang_option, store_option

CLI = Path(options.__file__).parent
PLUGIN_COMMANDS = sorted((CLI.parent / "stores").glob("*/commands.py"))


def declarations() -> dict[str, set[str]]:
    """Map each option name to the places (module:top-level name) that declare it."""
    found: dict[str, set[str]] = defaultdict(set)
    for module in [*sorted(CLI.glob("*.py")), *PLUGIN_COMMANDS]:
        for statement in ast.parse(module.read_text(encoding="utf-8")).body:
            where = (
                f"{module.relative_to(CLI.parent)}:{getattr(statement, 'name', statement.lineno)}"
            )
            for node in ast.walk(statement):
                if not isinstance(node, ast.Call):
                    continue
                for arg in node.args:
                    if (
                        isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and arg.value.startswith("--")
                    ):
                        found[arg.value].add(where)
    return found


def test_the_scan_finds_the_options() -> None:
    assert [p.parent.name for p in PLUGIN_COMMANDS] == ["mapped", "tryton"]
    found = declarations()
    assert found["--workspace"] == {"cli/options.py:workspace_option"}
    assert "--grace" in found
    assert "--leap-day" in found


def test_no_option_is_declared_twice() -> None:
    twice = {name: sorted(places) for name, places in declarations().items() if len(places) > 1}
    assert twice == {}, f"declare these once, in cli/options.py: {twice}"


def command(*decorators: object) -> click.Command:
    def run(**_: object) -> None:
        """Do nothing."""

    for decorate in reversed(decorators):
        run = decorate(run)  # type: ignore[operator]
    return click.command()(run)


def test_format_option_variants() -> None:
    (fmt,) = command(format_option("csv", "md", default="csv")).params
    assert isinstance(fmt, click.Option)
    assert (fmt.name, fmt.default, fmt.show_default) == ("fmt", "csv", True)
    assert isinstance(fmt.type, click.Choice)
    assert list(fmt.type.choices) == ["csv", "md"]
    (optional,) = command(format_option("jsonl", "csv", default=None)).params
    assert isinstance(optional, click.Option)
    assert (optional.default, optional.show_default) == (None, None)


def test_lang_option_offers_every_language() -> None:
    (lang,) = command(lang_option(default="en")).params
    assert isinstance(lang.type, click.Choice)
    assert tuple(lang.type.choices) == LANGUAGES
    assert lang.default == "en"


def test_repeatable_variant_fills_a_plural_parameter() -> None:
    (one,) = command(store_option(help="One store.")).params
    (many,) = command(store_option(help="Stores.", multiple=True)).params
    assert (one.name, one.multiple, one.default) == ("store_name", False, None)
    assert (many.name, many.multiple) == ("store_names", True)
