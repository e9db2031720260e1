"""The sentences of the answers to data subjects, in Dutch and English.

They live in ``request-texts.toml`` (beside the access report's template), one table per
language, so a translation or a change of wording touches no code. Dates in sentences are
written in words in the workspace's time zone (``1 maart 2026``, ``1 March 2026``).
"""

import tomllib
from datetime import UTC, datetime, tzinfo
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "long_date", "texts"]

LANGUAGES = ("nl", "en")
"""The languages of the answers."""

_MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


@cache
def _all_texts() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("templates", "request-texts.toml")
    return tomllib.loads(text.read_text("utf-8"))


def texts(lang: str) -> dict[str, Any]:
    """Return the sentences in ``lang`` (``nl`` or ``en``) from ``request-texts.toml``.

    :raises ValueError: for another language.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (expected 'nl' or 'en')")
    found: dict[str, Any] = _all_texts()[lang]
    return found


def long_date(instant: datetime, lang: str, tz: tzinfo = UTC) -> str:
    """Return the date of ``instant`` in ``tz`` in words: ``1 maart 2026``, ``1 March 2026``."""
    local = instant.astimezone(tz)
    return f"{local.day} {_MONTHS[lang][local.month - 1]} {local.year}"
