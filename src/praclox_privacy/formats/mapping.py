"""Reading and writing table mappings (TOML), with the policy's converter.

A mapping file lists ``[[table]]`` entries (see :mod:`praclox_privacy.domain.mapping` and
docs/mapped-databases.md). Loading is strict and all-or-nothing like loading a policy:
unknown keys, wrong types and every inconsistency with the policy are collected and
raised together in one :class:`~praclox_privacy.domain.errors.MappingError`, each with its
location (``table[2].columns.email.category``). Checking against the live database schema
is a separate step (:func:`praclox_privacy.stores.mapped.schema.check_schema`).
"""

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from ..domain.errors import MappingError, Problem
from ..domain.mapping import Mapping, check_mapping
from ..domain.policy import Policy
from .policy import make_converter, structure_document

__all__ = ["dump_mapping", "load_mapping", "load_mapping_file", "parse_mapping"]


def parse_mapping(data: dict[str, Any], policy: Policy, source: str = "<mapping>") -> Mapping:
    """Build a mapping from parsed TOML data and check it against ``policy``.

    :raises MappingError: listing every problem with its location.
    """
    mapping = structure_document(data, Mapping, source, MappingError)
    problems = check_mapping(mapping, policy)
    try:
        ZoneInfo(mapping.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem("timezone", f"unknown time zone {mapping.timezone!r}", "unknown-timezone")
        )
    if problems:
        raise MappingError(problems, source)
    return mapping


def load_mapping(text: str, policy: Policy, source: str = "<mapping>") -> Mapping:
    """Load a mapping from TOML text; see :func:`parse_mapping`.

    :raises MappingError: for TOML syntax errors (with line and column) and every problem.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError([Problem("", f"not valid TOML: {exc}", "toml-syntax")], source) from None
    return parse_mapping(data, policy, source)


def load_mapping_file(path: str | Path, policy: Policy) -> Mapping:
    """Load a mapping file; see :func:`parse_mapping`.

    :raises MappingError: when the file cannot be read or is not a valid mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(
            [Problem("", f"cannot read the file: {exc}", "unreadable")], str(path)
        ) from None
    return load_mapping(text, policy, str(path))


def dump_mapping(mapping: Mapping) -> str:
    """Return ``mapping`` as TOML text; loading it gives an equal mapping."""
    data = make_converter().unstructure(mapping, Mapping)
    return tomli_w.dumps(data)
