"""Unit tests of subjects, items and consents (:mod:`praclox_privacy.domain.records`)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from praclox_privacy.domain.errors import InvalidValue
from praclox_privacy.domain.records import (
    Consent,
    Evidence,
    Item,
    ItemKey,
    Subject,
    SubjectEvent,
    check_subject_id,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NAIVE = T0.replace(tzinfo=None)
EVIDENCE = Evidence(method="web_form", text="Ik geef toestemming.", reference="form-1")

BAD_SUBJECT_IDS = [
    "../../etc/passwd",
    "..",
    ".",
    "",
    " ",
    ".hidden",
    "-rf",
    "_x",
    "@x",
    "a/b",
    "a\\b",
    "a..b",
    "a..",
    "a b",
    "a\nb",
    "a\n",
    "a;DROP TABLE subjects",
    "a'b",
    'a"b',
    "a\x00b",
    "é",
    "a:b",
    "a*",
    "a" * 129,
    "a" * 200,
]
GOOD_SUBJECT_IDS = [
    "a",
    "7",
    "client-042",
    "jan.jansen@example.nl",
    "a+b",
    "A_B",
    "a.b.c",
    "a" * 128,
]


def item(**overrides: object) -> Item:
    fields: dict[str, object] = {
        "subject_id": "p1",
        "category": "person_name",
        "field": "name",
        "value": "Jan Jansen",
        "collected_at": T0,
    }
    fields.update(overrides)
    return Item(**fields)  # type: ignore[arg-type]


def consent(**overrides: object) -> Consent:
    fields: dict[str, object] = {
        "subject_id": "p1",
        "kind": "keep_application",
        "granted_at": T0,
        "evidence": EVIDENCE,
    }
    fields.update(overrides)
    return Consent(**fields)  # type: ignore[arg-type]


# -- subject ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_SUBJECT_IDS)
def test_check_subject_id_rejects_unsafe_ids(value: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        check_subject_id(value)
    assert excinfo.value.field == "subject_id"
    assert repr(value) in excinfo.value.message


@pytest.mark.parametrize("value", GOOD_SUBJECT_IDS)
def test_check_subject_id_accepts_safe_ids(value: str) -> None:
    assert check_subject_id(value) == value


@pytest.mark.parametrize("value", [None, 42, b"abc"])
def test_check_subject_id_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidValue):
        check_subject_id(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", BAD_SUBJECT_IDS)
def test_subject_rejects_unsafe_ids(value: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        Subject(value, {"client"})
    assert excinfo.value.field == "id"


@pytest.mark.parametrize("value", BAD_SUBJECT_IDS)
def test_item_rejects_unsafe_subject_ids(value: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        item(subject_id=value)
    assert excinfo.value.field == "subject_id"


@pytest.mark.parametrize("value", BAD_SUBJECT_IDS)
def test_consent_rejects_unsafe_subject_ids(value: str) -> None:
    with pytest.raises(InvalidValue):
        consent(subject_id=value)


@pytest.mark.parametrize("value", ["../client", "", "a/b"])
def test_subject_rejects_unsafe_organisation_ids(value: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        Subject("p1", {"contact_person"}, organisation=value)
    assert excinfo.value.field == "organisation"


@given(st.text(max_size=140))
def test_every_accepted_subject_id_is_a_safe_file_name(value: str) -> None:
    try:
        check_subject_id(value)
    except InvalidValue:
        return
    assert 1 <= len(value) <= 128
    assert value.isascii()
    assert value[0].isalnum()
    assert ".." not in value
    assert not set(value) & set("/\\\x00 \t\n\r:*?'\";")


# -- subjects ------------------------------------------------------------------------------


def test_subject_holds_several_relation_types() -> None:
    s = Subject("p1", ["website_user", "contact_person"], organisation="c1")
    assert s.relation_types == frozenset({"website_user", "contact_person"})
    assert s.organisation == "c1"


def test_subject_relation_types_must_not_be_a_single_string() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        Subject("p1", "client")  # type: ignore[arg-type]
    assert excinfo.value.field == "relation_types"


@pytest.mark.parametrize("relation_type", ["Client", "", "1client", "client-x", "client type"])
def test_subject_rejects_invalid_relation_types(relation_type: str) -> None:
    with pytest.raises(InvalidValue, match="relation type"):
        Subject("p1", {"client", relation_type})


def test_subject_event_rejects_naive_datetimes() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        SubjectEvent("rejected", NAIVE)
    assert excinfo.value.field == "at"


def test_subject_event_rejects_non_datetimes() -> None:
    with pytest.raises(InvalidValue):
        SubjectEvent("rejected", "2025-03-01T09:00:00+00:00")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Rejected", "", "relation-ended", "1st"])
def test_subject_event_rejects_invalid_names(name: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        SubjectEvent(name, T0)
    assert excinfo.value.field == "name"


def test_with_event_rejects_naive_datetimes() -> None:
    s = Subject("p1", {"applicant"})
    with pytest.raises(InvalidValue):
        s.with_event("rejected", NAIVE)


def test_event_at_is_none_when_the_event_never_happened() -> None:
    s = Subject("p1", {"applicant"}).with_event("collected_cv", T0)
    assert s.event_at("rejected") is None


def test_event_at_returns_the_latest_instant_in_any_order() -> None:
    early, mid, late = T0, T0 + timedelta(days=10), T0 + timedelta(days=400)
    s = Subject(
        "c1",
        {"client"},
        events=[
            SubjectEvent("relation_ended", mid),
            SubjectEvent("relation_ended", late),
            SubjectEvent("used", late + timedelta(days=1)),
            SubjectEvent("relation_ended", early),
        ],
    )
    assert s.event_at("relation_ended") == late
    assert s.event_at("used") == late + timedelta(days=1)


def test_event_at_compares_instants_across_timezones() -> None:
    # 10:30 in Amsterdam (CET) is 09:30 UTC: later than 09:00 UTC, earlier than 10:00 UTC.
    amsterdam = datetime(2025, 3, 1, 10, 30, tzinfo=AMSTERDAM)
    s = Subject("c1", {"client"}).with_event("used", T0).with_event("used", amsterdam)
    assert s.event_at("used") == amsterdam
    s = s.with_event("used", datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    assert s.event_at("used") == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
            max_value=datetime(2100, 1, 1),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_event_at_is_the_maximum(instants: list[datetime]) -> None:
    s = Subject("p1", {"applicant"})
    for at in instants:
        s = s.with_event("rejected", at)
    assert s.event_at("rejected") == max(instants)
    assert len(s.events) == len(instants)


def test_with_event_returns_a_copy() -> None:
    s = Subject("p1", {"applicant"})
    s2 = s.with_event("rejected", T0)
    assert s.events == ()
    assert s2.events == (SubjectEvent("rejected", T0),)


def test_S15_with_relation_types_keeps_events_and_identity() -> None:
    prospect = Subject(
        "c1",
        {"prospect"},
        events=[SubjectEvent("collected_lead", T0)],
    )
    client = prospect.with_relation_types("client")
    assert client.relation_types == frozenset({"client"})
    assert client.events == prospect.events
    assert client.id == prospect.id
    assert prospect.relation_types == frozenset({"prospect"})


def test_with_relation_types_replaces_exactly() -> None:
    s = Subject("p1", {"contact_person", "website_user"}, organisation="c1")
    s2 = s.with_relation_types("contact_person")
    assert s2.relation_types == frozenset({"contact_person"})
    assert s2.organisation == "c1"


def test_with_relation_types_validates() -> None:
    with pytest.raises(InvalidValue):
        Subject("c1", {"prospect"}).with_relation_types("Client")


def test_subjects_are_frozen() -> None:
    s = Subject("p1", {"applicant"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.id = "../x"  # type: ignore[misc]


# -- items ---------------------------------------------------------------------------------


def test_item_key_identifies_subject_category_and_field() -> None:
    i = item()
    assert i.key == ItemKey("p1", "person_name", "name")
    assert str(i.key) == "p1/person_name/name"
    assert item(value="J. Jansen").key == i.key
    assert item(field="initials").key != i.key


def test_item_rejects_naive_collected_at() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        item(collected_at=NAIVE)
    assert excinfo.value.field == "collected_at"


@pytest.mark.parametrize("category", ["Person_name", "", "person-name", "_x", "a/b"])
def test_item_rejects_invalid_categories(category: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        item(category=category)
    assert excinfo.value.field == "category"


@pytest.mark.parametrize("field", ["", "   ", "x" * 201])
def test_item_rejects_blank_or_long_field_names(field: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        item(field=field)
    assert excinfo.value.field == "field"


def test_item_accepts_a_200_character_field_name() -> None:
    assert item(field="x" * 200).field == "x" * 200


def test_item_value_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        item(value=42)


def test_item_purposes_are_a_tuple_and_not_a_single_string() -> None:
    assert item(purposes=["congratulations"]).purposes == ("congratulations",)
    with pytest.raises(InvalidValue) as excinfo:
        item(purposes="congratulations")
    assert excinfo.value.field == "purposes"


# -- consents ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["granted_at", "withdrawn_at", "until"])
def test_consent_rejects_naive_datetimes(field: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        consent(**{field: NAIVE})
    assert excinfo.value.field == field


@pytest.mark.parametrize("kind", ["Keep", "", "keep-application"])
def test_consent_rejects_invalid_kinds(kind: str) -> None:
    with pytest.raises(InvalidValue):
        consent(kind=kind)


def test_consent_is_active_from_grant_with_no_end() -> None:
    c = consent()
    assert c.ends_at() is None
    assert not c.active_at(T0 - timedelta(microseconds=1))
    assert c.active_at(T0)
    assert c.active_at(T0 + timedelta(days=10_000))


def test_withdrawn_consent_stops_counting_at_withdrawal() -> None:
    at = T0 + timedelta(days=30)
    c = consent().withdraw(at)
    assert c.withdrawn_at == at
    assert c.ends_at() == at
    assert c.active_at(at - timedelta(microseconds=1))
    assert not c.active_at(at)
    assert not c.active_at(at + timedelta(days=1))


def test_withdraw_returns_a_copy_and_keeps_the_evidence() -> None:
    c = consent()
    w = c.withdraw(T0 + timedelta(days=1))
    assert c.withdrawn_at is None
    assert w.evidence == EVIDENCE
    assert w.granted_at == c.granted_at


def test_withdraw_at_the_grant_instant_is_allowed() -> None:
    c = consent().withdraw(T0)
    assert not c.active_at(T0)


def test_withdraw_twice_is_refused() -> None:
    c = consent().withdraw(T0 + timedelta(days=1))
    with pytest.raises(ValueError, match="already withdrawn"):
        c.withdraw(T0 + timedelta(days=2))


def test_withdraw_before_grant_is_refused() -> None:
    with pytest.raises(ValueError, match="before it was granted"):
        consent().withdraw(T0 - timedelta(seconds=1))


def test_lapsing_consent_stops_counting_at_until() -> None:
    until = T0 + timedelta(days=365)
    c = consent(until=until)
    assert c.ends_at() == until
    assert c.active_at(until - timedelta(seconds=1))
    assert not c.active_at(until)


@pytest.mark.parametrize(("withdrawn_days", "until_days"), [(10, 20), (20, 10), (15, 15)])
def test_ends_at_is_the_earliest_of_withdrawal_and_lapse(
    withdrawn_days: int, until_days: int
) -> None:
    c = consent(until=T0 + timedelta(days=until_days)).withdraw(T0 + timedelta(days=withdrawn_days))
    end = T0 + timedelta(days=min(withdrawn_days, until_days))
    assert c.ends_at() == end
    assert c.active_at(end - timedelta(seconds=1))
    assert not c.active_at(end)


def test_active_at_compares_instants_across_timezones() -> None:
    c = consent(granted_at=datetime(2025, 3, 1, 10, 0, tzinfo=AMSTERDAM))  # 09:00 UTC
    assert c.active_at(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    assert not c.active_at(datetime(2025, 3, 1, 8, 59, tzinfo=UTC))


def test_consent_scope_defaults_to_empty() -> None:
    assert consent().scope == ""
    assert consent(kind="recording", scope="call-2025-03-01").scope == "call-2025-03-01"
