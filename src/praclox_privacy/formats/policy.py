"""Reading and writing policy files (TOML) through one cattrs converter.

Loading is strict and all-or-nothing: every problem in a file (an unknown key, a value of
the wrong type, a malformed period, a reference to an undeclared entry, a missing retention
rule, ...) is collected and raised together in one :class:`PolicyError`, each with its
location; no partly loaded policy is ever returned.
"""

import enum
import tomllib
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
import tomli_w
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ..domain.errors import DocumentError, InvalidValue, PolicyError, Problem
from ..domain.mapping import Mapping
from ..domain.periods import Period, PeriodFormatError
from ..domain.policy import Policy
from ..domain.validation import check_policy, errors_of

__all__ = [
    "DEFAULT_POLICY_NAME",
    "default_policy",
    "default_policy_text",
    "dump_policy",
    "load_policy",
    "load_policy_file",
    "make_converter",
    "parse_policy",
    "structure_document",
]

DEFAULT_POLICY_NAME = "praclox-policy.toml"
"""File name of Praclox's own policy, shipped inside the package."""

_RENAMES: dict[type, dict[str, str]] = {
    Mapping: {"tables": "table"},
    Policy: {
        "relation_types": "relation_type",
        "categories": "category",
        "purposes": "purpose",
        "events": "event",
        "consent_kinds": "consent_kind",
        "recipients": "recipient",
    },
}

_T = TypeVar("_T")


def _strict(kind: type[_T], name: str) -> Callable[[Any, Any], _T]:
    def hook(value: Any, _: Any) -> _T:
        # bool is an int in Python; a TOML boolean is never a number here.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {name}, got {_toml_type(value)} {value!r}")
        return value

    return hook


def _toml_type(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _structure_period(value: Any, _: Any) -> Period:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 period string, got {_toml_type(value)} {value!r}")
    return Period.parse(value)


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def make_converter() -> cattrs.Converter:
    """Return a new converter for policy documents (never the global one).

    Strict on input: unknown keys are errors, strings/integers/booleans are never coerced,
    lists are never made from strings, periods are ISO 8601 texts, enums by value.
    """
    from cattrs.preconf.tomllib import make_converter as make_toml_converter

    converter = make_toml_converter(forbid_extra_keys=True, omit_if_default=True)
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(bool, _strict(bool, "a boolean"))
    converter.register_structure_hook(Period, _structure_period)
    converter.register_unstructure_hook(Period, str)

    def enum_hook(value: Any, tp: type[enum.Enum]) -> enum.Enum:
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ValueError(f"{value!r} is not one of {allowed}") from None

    strict_str = _strict(str, "a string")

    def str_hook(value: Any, tp: Any) -> Any:
        # StrEnum subclasses str, so the str hook also sees enums; they are built by value.
        if tp is not str and isinstance(tp, type) and issubclass(tp, enum.Enum):
            return enum_hook(value, tp)
        return strict_str(value, tp)

    converter.register_structure_hook(str, str_hook)
    converter.register_structure_hook(enum.Enum, enum_hook)

    def tuple_hook_factory(tp: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        inner = get_args(tp)[0]
        handler = converter.get_structure_hook(inner)

        def hook(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected an array, got {_toml_type(value)} {value!r}")
            errors: list[Exception] = []
            out = []
            for index, element in enumerate(value):
                try:
                    out.append(handler(element, inner))
                except Exception as exc:
                    exc.__notes__ = [
                        *getattr(exc, "__notes__", []),
                        IterableValidationNote(f"Structuring {tp} @ index {index}", index, inner),
                    ]
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
            return tuple(out)

        return hook

    converter.register_structure_hook_factory(_is_homogeneous_tuple, tuple_hook_factory)

    def table_hook_factory(cls: type) -> Callable[[Any, Any], Any]:
        overrides = {a: override(rename=k) for a, k in _RENAMES.get(cls, {}).items()}
        base: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            converter,
            _cattrs_forbid_extra_keys=True,
            **overrides,  # type: ignore[arg-type]
        )

        def hook(value: Any, tp: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"expected a table, got {_toml_type(value)} {value!r}")
            return base(value, tp)

        return hook

    converter.register_structure_hook_factory(attrs.has, table_hook_factory)
    for cls, renames in _RENAMES.items():
        overrides = {attr: override(rename=key) for attr, key in renames.items()}
        converter.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(
                cls,
                converter,
                _cattrs_omit_if_default=True,
                **overrides,  # type: ignore[arg-type]
            ),
        )
    return converter


def _key(cls: type | None, attribute: str) -> str:
    if cls is not None:
        for owner, renames in _RENAMES.items():
            if cls is owner and attribute in renames:
                return renames[attribute]
    return attribute


def _problems(exc: BaseException, path: str, cls: type | None = None) -> Iterator[Problem]:
    """Flatten a cattrs error tree into problems with file locations."""
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            assert isinstance(note, AttributeValidationNote)
            yield from _problems(sub, _join(path, _key(exc.cl, note.name)), _attrs_type(note.type))
        for sub in without:
            yield from _problems(sub, path, exc.cl)
    elif isinstance(exc, IterableValidationError):
        with_index, without = exc.group_exceptions()
        for sub, inote in with_index:
            assert isinstance(inote, IterableValidationNote)
            where = (
                f"{path}[{inote.index}]"
                if isinstance(inote.index, int)
                else _join(path, str(inote.index))  # a table's key (mappings' columns)
            )
            yield from _problems(sub, where, _attrs_type(inote.type))
        for sub in without:
            yield from _problems(sub, path, cls)
    elif isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield Problem(_join(path, key), "unknown key", "unknown-key")
    elif isinstance(exc, InvalidValue):
        yield Problem(_join(path, _key(cls, exc.field)), exc.message, "invalid-value")
    elif isinstance(exc, KeyError):
        yield Problem(path, "required key is missing", "missing-key")
    elif isinstance(exc, PeriodFormatError):
        yield Problem(path, str(exc), "invalid-period")
    elif isinstance(exc, TypeError | ValueError):
        message = str(exc)
        if "missing" in message and "required" in message:
            message = "required key is missing"
        yield Problem(path, message, "invalid-value")
    else:  # pragma: no cover - a converter bug, not a policy problem
        yield Problem(path, f"{type(exc).__name__}: {exc}", "invalid-value")


def _attrs_type(tp: Any) -> type | None:
    return tp if isinstance(tp, type) and attrs.has(tp) else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def structure_document(
    data: Any,
    cls: type[_T],
    source: str,
    error: type[DocumentError] = PolicyError,
    path: str = "",
) -> _T:
    """Structure ``data`` into ``cls`` strictly, reporting every problem at once.

    :param source: names the document in error messages.
    :param error: the error class to raise.
    :param path: the location of ``data`` inside the document (e.g. ``stores.main``).
    :raises DocumentError: (of class ``error``) listing every problem with its location.
    """
    try:
        return make_converter().structure(data, cls)
    except Exception as exc:  # cattrs wraps every problem; flatten them all
        raise error(list(_problems(exc, path, cls)), source) from None


def parse_policy(data: dict[str, Any], source: str = "<policy>") -> Policy:
    """Build a policy from already-parsed TOML data; strict, see :func:`load_policy`.

    :param source: names the document in error messages (a file path, usually).
    :raises PolicyError: listing every problem with its location.
    """
    policy = structure_document(data, Policy, source)
    errors = errors_of(check_policy(policy))
    if errors:
        raise PolicyError(errors, source)
    return policy


def load_policy(text: str, source: str = "<policy>") -> Policy:
    """Load a policy from TOML text.

    :param text: the document.
    :param source: names the document in error messages (a file path, usually).
    :returns: a valid, complete policy (completeness problems listed under the policy's
        ``warnings`` do not fail loading;
        :func:`~praclox_privacy.domain.check_policy` reports them).
    :raises PolicyError: listing every problem with its location; TOML syntax errors
        (including duplicate keys) give the line and column.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([Problem("", f"not valid TOML: {exc}", "toml-syntax")], source) from None
    return parse_policy(data, source)


def load_policy_file(path: str | Path) -> Policy:
    """Load a policy file; see :func:`load_policy`.

    :raises PolicyError: when the file cannot be read or is not a valid policy.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            [Problem("", f"cannot read the file: {exc}", "unreadable")], str(path)
        ) from None
    return load_policy(text, str(path))


def dump_policy(policy: Policy) -> str:
    """Return ``policy`` as TOML text; ``load_policy(dump_policy(p)) == p``."""
    data = make_converter().unstructure(policy, Policy)
    return tomli_w.dumps(data)


def default_policy_text() -> str:
    """Return the text of Praclox's own policy, shipped with the package (S1-S16)."""
    return resources.files("praclox_privacy").joinpath(DEFAULT_POLICY_NAME).read_text("utf-8")


def default_policy() -> Policy:
    """Return Praclox's own policy, shipped with the package."""
    return load_policy(default_policy_text(), f"<default>/{DEFAULT_POLICY_NAME}")
