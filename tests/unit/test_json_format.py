"""The JSON converter (formats.jsonout): its rules, and the exact shapes it writes.

The pinned shapes are those the hand-written builders wrote before the converter replaced
them (``ErasureResult.as_json``, the CLI's ``_request_json``, ...): key names, key order
and values, compared as the JSON text the CLI prints.
"""

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from praclox_privacy.domain.periods import Period
from praclox_privacy.domain.records import Item, Subject, SubjectEvent
from praclox_privacy.formats.jsonout import (
    Shape,
    dumps,
    insert_after,
    make_json_converter,
    register_shape,
    sorted_mapping,
    to_json,
)

CET = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=CET)
T1 = datetime(2026, 3, 20, 17, 0, 5, 250000, tzinfo=CET)
T2 = datetime(2026, 6, 1, tzinfo=UTC)


def same(actual: Any, expected: Any) -> None:
    """Assert equal JSON data with the same key order (as printed with indentation)."""
    assert actual == expected
    assert json.dumps(actual, indent=2, ensure_ascii=False) == json.dumps(
        expected, indent=2, ensure_ascii=False
    )


# -- the rules ------------------------------------------------------------------------------


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    SMALL = 1


class Plain(enum.Enum):
    ONE = "one"


@attrs.frozen
class Sample:
    at: datetime
    on: date
    every: Period
    colour: Colour
    size: Size
    plain: Plain
    names: frozenset[str]
    ordered: tuple[str, ...]
    mapping: dict[str, datetime]
    maybe: datetime | None = None


SAMPLE = Sample(
    T0,
    date(2026, 2, 28),
    Period(years=1, months=6),
    Colour.RED,
    Size.SMALL,
    Plain.ONE,
    frozenset({"b", "c", "a"}),
    ("z", "a"),
    {"z": T1, "a": T2},
)


def test_values_become_json_data_in_attribute_order() -> None:
    data = to_json(SAMPLE)
    same(
        data,
        {
            "at": "2026-03-01T09:30:00+01:00",
            "on": "2026-02-28",
            "every": "P1Y6M",
            "colour": "red",
            "size": 1,
            "plain": "one",
            "names": ["a", "b", "c"],
            "ordered": ["z", "a"],
            "mapping": {"z": "2026-03-20T17:00:05.250000+01:00", "a": "2026-06-01T00:00:00+00:00"},
            "maybe": None,
        },
    )
    assert type(data["colour"]) is str  # the value, not the enum
    assert json.loads(json.dumps(data)) == data


def test_instants_keep_their_offset_unless_utc_is_asked() -> None:
    assert to_json(T0) == "2026-03-01T09:30:00+01:00"
    assert to_json(T0, utc=True) == "2026-03-01T08:30:00+00:00"
    assert to_json(T1, utc=True) == "2026-03-20T16:00:05.250000+00:00"
    assert to_json(SAMPLE, utc=True)["mapping"]["z"] == "2026-03-20T16:00:05.250000+00:00"
    assert to_json(date(2026, 1, 2), utc=True) == "2026-01-02"


def test_collections_and_scalars_at_the_top() -> None:
    assert to_json(("a", T2)) == ["a", "2026-06-01T00:00:00+00:00"]
    assert to_json(frozenset({2, 1})) == [1, 2]
    assert to_json({"k": (Colour.RED,)}) == {"k": ["red"]}
    assert to_json(None) is None
    assert to_json([SubjectEvent("x", T2)]) == [{"event": "x", "at": "2026-06-01T00:00:00+00:00"}]


def test_each_converter_is_new_and_the_global_one_is_untouched() -> None:
    import cattrs

    first, second = make_json_converter(), make_json_converter()
    assert first is not second
    assert first.unstructure(T0) == "2026-03-01T09:30:00+01:00"
    assert make_json_converter(utc=True).unstructure(T0) == "2026-03-01T08:30:00+00:00"
    assert cattrs.global_converter.unstructure(T0) is T0


def test_omit_and_rename_the_keys_of_an_object() -> None:
    item = Item("p1", "person_contact", "email", "a@example.org", T0)
    data = to_json(item, omit=("subject_id", "purposes"), rename={"field": "name"})
    same(
        data,
        {
            "category": "person_contact",
            "name": "email",
            "value": "a@example.org",
            "collected_at": "2026-03-01T09:30:00+01:00",
        },
    )
    with pytest.raises(KeyError):
        to_json(item, omit=("nope",))
    with pytest.raises(KeyError):
        to_json(item, rename={"nope": "x"})


def test_insert_after_places_and_moves_keys() -> None:
    data = {"a": 1, "b": 2, "c": 3}
    assert list(insert_after(data, "a", x=0)) == ["a", "x", "b", "c"]
    assert list(insert_after(data, "a", c=3)) == ["a", "c", "b"]
    assert list(insert_after(data, "c", a=1, y=2)) == ["b", "c", "a", "y"]
    assert data == {"a": 1, "b": 2, "c": 3}  # a new dict
    with pytest.raises(KeyError):
        insert_after(data, "z", x=0)


@attrs.frozen
class Registered:
    name: str
    when: datetime | None
    table: dict[str, int]
    hidden: int = 0

    @property
    def shout(self) -> str:
        return self.name.upper()


def test_a_registered_shape_orders_renames_computes_and_leaves_out() -> None:
    register_shape(
        Registered,
        Shape(
            ("shout", "label", "table", "at", "length", "hidden"),
            {"label": "name", "at": "when", "length": lambda r: len(r.name)},
            {"table": sorted_mapping},
            {"hidden": lambda r: r.hidden > 0},
        ),
    )
    value = Registered("ann", T0, {"b": 1, "a": 2})
    same(
        to_json(value),
        {
            "shout": "ANN",
            "label": "ann",
            "table": {"a": 2, "b": 1},
            "at": "2026-03-01T09:30:00+01:00",
            "length": 3,
        },
    )
    assert to_json(attrs.evolve(value, hidden=4, when=None))["hidden"] == 4
    assert to_json(value, utc=True)["at"] == "2026-03-01T08:30:00+00:00"


def test_dumps_is_indented_utf8_text() -> None:
    assert dumps({"a": ["ü", T0]}) == '{\n  "a": [\n    "ü",\n    "2026-03-01T09:30:00+01:00"\n  ]\n}'


def test_round_trip_of_a_subject_through_json_text() -> None:
    subject = Subject("p1", {"b", "a"}, (SubjectEvent("joined", T0),), organisation="acme")
    data = json.loads(dumps(subject))
    again = Subject(
        data["id"],
        data["relation_types"],
        tuple(SubjectEvent(e["event"], datetime.fromisoformat(e["at"])) for e in data["events"]),
        data["organisation"],
    )
    assert again == subject
    assert again.events[0].at.utcoffset() == timedelta(hours=1)
