"""The example documents in docs/examples are what the code generates from the shipped
policy, so the documentation never drifts from it. ``nox -s documents`` rewrites them.
"""

from pathlib import Path

import pytest

from praclox_privacy import default_policy
from praclox_privacy.formats.documents import build_register, render_statement

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

GENERATED = {
    "statement-nl.md": lambda: render_statement(default_policy(), "nl"),
    "statement-en.md": lambda: render_statement(default_policy(), "en"),
    "register.md": lambda: build_register(default_policy(), "nl").to_markdown(),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_committed_example_is_what_the_code_generates(name: str) -> None:
    committed = (EXAMPLES / name).read_text(encoding="utf-8")
    assert committed == GENERATED[name](), (
        f"docs/examples/{name} differs from the generated document; run: nox -s documents"
    )
