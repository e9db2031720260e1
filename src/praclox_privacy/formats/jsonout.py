"""Values as JSON data, through one cattrs converter (:func:`make_json_converter`).

Every JSON shape Praclox writes comes from here: ``--format json`` of the CLI, the sweep
and check reports, erasure results, the agenda, the access report's records, audit
details and the identities the request register keeps. The rules are in one place:

* instants are ISO 8601 strings, with the offset they carry (``utc=True``: converted to
  UTC first, as in the access report); dates are ISO 8601 dates; periods their ISO 8601
  text;
* enums are their values; tuples and lists are lists; sets are sorted lists;
* an attrs class is an object of its attributes, in their order, unless its
  :class:`Shape` says otherwise (other keys and their order, renamed attributes,
  properties, values computed from the object). The shapes of the domain's classes are
  declared here; a class outside the domain (a service's report) declares its own with
  :func:`register_shape`, beside its definition.

What one output adds to a shape (a label in a language, whether a record is active at
an instant) is added to :func:`to_json`'s result by its caller (:func:`insert_after`).
The converter only writes; nothing here reads JSON back.
"""

import enum
import functools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import UTC, date, datetime
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn_from_attrs, override

from ..domain.answers import ErasureResult
from ..domain.findings import CheckReport, CheckResult, CheckStatus
from ..domain.guards import Agreement, StaffMember
from ..domain.periods import Period
from ..domain.records import Consent, Subject, SubjectEvent
from ..domain.requests import DataRequest
from ..domain.restrictions import Restriction

__all__ = [
    "Shape",
    "dumps",
    "insert_after",
    "make_json_converter",
    "register_shape",
    "sorted_mapping",
    "to_json",
]

Hook = Callable[[Any, cattrs.Converter], Any]
"""Writes one value of a shape: ``hook(value, converter)`` returns its JSON data."""


@attrs.frozen
class Shape:
    """How objects of one attrs class are written, where its attributes alone do not say.

    :ivar keys: the object's keys, in order (empty: every attribute, in order). A key is
        an attribute or a property of the class, or a key of ``source``.
    :ivar source: key -> where its value comes from, when not from the attribute or
        property of that name: another attribute (a rename), a dotted path
        (``evidence.method``) or a function of the object.
    :ivar hooks: key -> how its value is written, instead of by its type.
    :ivar when: key -> a test of the object; the key is left out when it fails.
    """

    keys: tuple[str, ...] = ()
    source: Mapping[str, str | Callable[[Any], Any]] = attrs.field(factory=dict)
    hooks: Mapping[str, Hook] = attrs.field(factory=dict)
    when: Mapping[str, Callable[[Any], bool]] = attrs.field(factory=dict)


def sorted_mapping(value: Mapping[str, Any], converter: cattrs.Converter) -> dict[str, Any]:
    """Write a mapping sorted by key (a :class:`Shape`'s hook)."""
    return {k: converter.unstructure(v) for k, v in sorted(value.items())}


def _pairs(*names: str) -> Hook:
    """Tuples of values as objects with ``names`` as keys."""

    def hook(value: Iterable[Sequence[Any]], converter: cattrs.Converter) -> list[dict[str, Any]]:
        return [dict(zip(names, converter.unstructure(tuple(p)), strict=True)) for p in value]

    return hook


def _erased(value: Mapping[str, Iterable[Any]], converter: cattrs.Converter) -> dict[str, Any]:
    """Per store, the erased items' keys without their subject (the result names it)."""
    return {
        store: [_omit(converter.unstructure(key), ("subject_id",)) for key in keys]
        for store, keys in value.items()
    }


# The shapes of the domain's classes whose JSON is not their attributes in order.
_SHAPES: dict[type, Shape] = {
    Subject: Shape(("id", "relation_types", "organisation", "events")),
    SubjectEvent: Shape(("event", "at"), {"event": "name"}),
    Consent: Shape(
        (
            "subject_id",
            "kind",
            "scope",
            "granted_at",
            "withdrawn_at",
            "until",
            "method",
            "text",
            "reference",
        ),
        {"method": "evidence.method", "text": "evidence.text", "reference": "evidence.reference"},
    ),
    DataRequest: Shape(
        (
            "id",
            "type",
            "status",
            "subject_id",
            "identities",
            "received_at",
            "due_at",
            "extended_until",
            "extension_reason",
            "deadline",
            "verified_at",
            "verified_by",
            "closed_at",
            "details",
            "result",
        )
    ),
    Restriction: Shape(
        (
            "id",
            "subject_id",
            "kind",
            "category",
            "purpose",
            "ground",
            "request",
            "started_at",
            "lifted_at",
        ),
        {"ground": "reason", "request": "request_id"},
    ),
    StaffMember: Shape(
        ("id", "name", "employment", "confidentiality_signed_at", "started_at", "ended_at")
    ),
    Agreement: Shape(
        ("id", "client", "kind", "scope", "agreed_at", "ends_at", "delete_by"),
        {"client": "subject_id"},
    ),
    ErasureResult: Shape(
        (
            "request",
            "status",
            "subject_id",
            "at",
            "done",
            "erased",
            "erased_count",
            "kept",
            "recipients_notified",
            "contact_persons_kept",
            "ledger_kept",
            "failures",
            "rows_kept",
            "anonymised_in",
        ),
        {
            "request": "request.id",
            "status": "request.status",
            "erased_count": "total",
            "recipients_notified": "recipients",
            "contact_persons_kept": "members_kept",
            "ledger_kept": lambda _: True,  # the ledger's own records are never erased
        },
        {
            "erased": _erased,
            "failures": _pairs("store", "error"),
            "rows_kept": _pairs("store", "row"),
        },
    ),
    CheckReport: Shape(
        ("source", "now", "ok", "passed", "failed", "skipped", "checks"),
        {
            "passed": lambda r: r.count(CheckStatus.PASSED),
            "failed": lambda r: r.count(CheckStatus.FAILED),
            "skipped": lambda r: r.count(CheckStatus.SKIPPED),
            "checks": "results",
        },
    ),
    CheckResult: Shape(("check", "title", "ref", "status", "summary", "findings")),
}


def register_shape(cls: type, shape: Shape) -> None:
    """Declare the shape of ``cls``, a class outside the domain (a service's report).

    Call it where ``cls`` is defined, at import time: a converter makes the hook of a
    class when it first writes one of its objects, and then keeps it.
    """
    _SHAPES[cls] = shape
    _converter.cache_clear()


def _hook_factory(converter: cattrs.Converter) -> Callable[[type], Callable[[Any], Any]]:
    def factory(cls: type) -> Callable[[Any], Any]:
        shape = _SHAPES.get(cls, Shape())
        try:
            attrs.resolve_types(cls)
            by_type = True
        except NameError:  # an annotation names what only type checkers import
            by_type = False  # so each value is written by its own type
        fields = attrs.fields_dict(cls)
        keys = shape.keys or tuple(fields)
        plain: list[attrs.Attribute[Any]] = []
        overrides = {}
        computed: dict[str, Callable[[Any], Any]] = {}
        for key in keys:
            source = shape.source.get(key, key)
            hook = shape.hooks.get(key)
            if isinstance(source, str) and source in fields:
                plain.append(fields[source])
                if hook is not None:
                    write: Callable[[Any], Any] | None = _bound(hook, converter)
                else:
                    write = None if by_type else converter.unstructure
                overrides[source] = override(
                    rename=None if key == source else key, unstruct_hook=write
                )
            else:
                get = source if callable(source) else operator.attrgetter(source)
                computed[key] = _computed(get, hook, converter)
        base: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn_from_attrs(
            plain,
            cls,
            converter,
            _cattrs_include_init_false=True,
            **overrides,  # type: ignore[arg-type]
        )
        if not computed and not shape.when:
            return base

        def unstructure(obj: Any) -> dict[str, Any]:
            data = base(obj)
            return {
                key: computed[key](obj) if key in computed else data[key]
                for key in keys
                if key not in shape.when or shape.when[key](obj)
            }

        return unstructure

    return factory


def _bound(hook: Hook, converter: cattrs.Converter) -> Callable[[Any], Any]:
    return lambda value: hook(value, converter)


def _computed(
    get: Callable[[Any], Any], hook: Hook | None, converter: cattrs.Converter
) -> Callable[[Any], Any]:
    if hook is None:
        return lambda obj: converter.unstructure(get(obj))
    return lambda obj: hook(get(obj), converter)


def make_json_converter(*, utc: bool = False) -> cattrs.Converter:
    """Return a new converter from values to JSON data (never the global one).

    :param utc: write instants in UTC (the access report's RFC 3339 instants); by
        default each instant keeps the offset it carries.
    """
    converter = cattrs.Converter(unstruct_collection_overrides={Sequence: list, Set: sorted})
    if utc:
        converter.register_unstructure_hook(datetime, lambda t: t.astimezone(UTC).isoformat())
    else:
        converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_unstructure_hook(Period, str)
    # By class: a StrEnum is also a str, whose hook (keep as is) would otherwise win.
    for kind in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_unstructure_hook(kind, operator.attrgetter("value"))
    converter.register_unstructure_hook_factory(attrs.has, _hook_factory(converter))
    return converter


@functools.cache
def _converter(utc: bool) -> cattrs.Converter:
    return make_json_converter(utc=utc)


def _omit(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    for key in keys:
        del data[key]
    return data


def to_json(
    value: Any,
    *,
    utc: bool = False,
    omit: Iterable[str] = (),
    rename: Mapping[str, str] | None = None,
) -> Any:
    """Return ``value`` as JSON data (dicts, lists, strings, numbers, booleans, ``None``).

    :param utc: write instants in UTC (see :func:`make_json_converter`).
    :param omit: keys of the object ``value`` gives to leave out (an audit entry's details
        leave out what the entry already names).
    :param rename: keys of that object to write under another name.
    :raises KeyError: when a key to omit or rename is not in the object.
    """
    data = _converter(utc).unstructure(value)
    if omit:
        data = _omit(data if data is not value else dict(data), omit)
    if rename:
        missing = set(rename).difference(data)
        if missing:
            raise KeyError(", ".join(sorted(missing)))
        data = {rename.get(k, k): v for k, v in data.items()}
    return data


def insert_after(data: Mapping[str, Any], key: str, /, **extra: Any) -> dict[str, Any]:
    """Return ``data`` with ``extra``'s keys right after ``key`` (moved there if present).

    Keeps the order of keys of an output printed with indentation.

    :raises KeyError: when ``key`` is not in ``data``.
    """
    if key not in data:
        raise KeyError(key)
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in extra:
            continue
        out[k] = v
        if k == key:
            out.update(extra)
    return out


def dumps(value: Any) -> str:
    """Return ``value`` as indented JSON text (UTF-8, not ASCII-escaped), no final newline."""
    return json.dumps(to_json(value), indent=2, ensure_ascii=False)
