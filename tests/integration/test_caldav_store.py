"""The ``caldav`` store against a real Radicale server (S8): contract kit, sync, erasure."""

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

pytest.importorskip("caldav")
icalendar = pytest.importorskip("icalendar")

import tomli_w  # noqa: E402

from caldav_server import Radicale  # noqa: E402
from helpers import new_workspace  # noqa: E402
from praclox_privacy.domain.agenda import LeapDay  # noqa: E402
from praclox_privacy.domain.policy import Policy, RetentionAction  # noqa: E402
from praclox_privacy.domain.records import Item, ItemKey  # noqa: E402
from praclox_privacy.domain.requests import Identity  # noqa: E402
from praclox_privacy.formats.ical import uid_of  # noqa: E402
from praclox_privacy.ports import Store, StoreUnavailable  # noqa: E402
from praclox_privacy.services.agenda import export_ics, life_events, sync  # noqa: E402
from praclox_privacy.services.requests import receive_request, verify_request  # noqa: E402
from praclox_privacy.services.rights import erase_subject, object_to_processing  # noqa: E402
from praclox_privacy.services.workspace import Workspace  # noqa: E402
from praclox_privacy.stores.caldav import CalDavSettings  # noqa: E402
from praclox_privacy.stores.caldav.store import CalDavStore  # noqa: E402
from praclox_privacy.testing import StoreContract, make_item, relation_types_of  # noqa: E402

NOW = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
COLLECTED = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


_calendars = itertools.count()


def _settings(radicale: Radicale, calendar: str | None = None, **extra: object) -> CalDavSettings:
    name = calendar or f"test-{next(_calendars)}"
    return CalDavSettings(
        url=radicale.url,
        username=radicale.username,
        password=radicale.password,
        calendar=name,
        **extra,  # type: ignore[arg-type]
    )


def _event_files(radicale: Radicale) -> dict[str, list[Path]]:
    """The .ics files Radicale holds per calendar (display name), read from its folder."""
    home = radicale.root / "collections" / "collection-root" / radicale.username
    found: dict[str, list[Path]] = {}
    for props in home.glob("*/.Radicale.props"):
        import json

        name = json.loads(props.read_text())["D:displayname"]
        found[name] = sorted(props.parent.glob("*.ics"))
    return found


# -- the contract kit -------------------------------------------------------------------


class TestCalDavStoreContract(StoreContract):
    """Every scenario of the kit, against Radicale: each store gets a fresh calendar."""

    stateful_examples = 8

    @pytest.fixture
    def make_store(self, policy: Policy, radicale: Radicale) -> Callable[[], Store]:
        return lambda: CalDavStore(policy, _settings(radicale), "agenda")


# -- store-specific behaviour ---------------------------------------------------------


@pytest.fixture
def store(radicale: Radicale) -> Iterator[CalDavStore]:
    from praclox_privacy import default_policy

    s = CalDavStore(default_policy(), _settings(radicale), "agenda")
    yield s
    s.close()


def test_S8_a_life_event_is_one_yearly_all_day_event(
    store: CalDavStore, radicale: Radicale
) -> None:
    item = make_item("person-1", "life_events", "birthday", "1980-02-29", COLLECTED)
    store.write([item, item], relation_types_of)
    store.write([item], relation_types_of)
    files = _event_files(radicale)[store._settings.calendar]
    assert len(files) == 1
    (event,) = icalendar.Calendar.from_ical(files[0].read_bytes()).walk("VEVENT")
    assert str(event["uid"]) == uid_of(item.key)
    assert event.decoded("dtstart") == date(1980, 2, 29)
    assert event["rrule"]["FREQ"] == ["YEARLY"]
    assert event["rrule"]["BYMONTHDAY"] == [-1]  # 28 February in common years
    assert store.items_of("person-1") == [item]


def test_S8_leap_day_policy_march_first(radicale: Radicale) -> None:
    from praclox_privacy import default_policy

    s = CalDavStore(default_policy(), _settings(radicale, leap_day="mar1"), "agenda")
    s.write([make_item("person-1", "life_events", "birthday", "1980-02-29")], relation_types_of)
    (path,) = _event_files(radicale)[s._settings.calendar]
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert event["rrule"]["BYYEARDAY"] == [60]
    assert s.leap_day is LeapDay.MAR_1


def test_foreign_events_are_left_alone(store: CalDavStore, radicale: Radicale) -> None:
    store.write([make_item("person-1", "person_name", "name", "Jan")], relation_types_of)
    url = store._calendar() + "someone-elses.ics"
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//\r\nBEGIN:VEVENT\r\nUID:foreign-1\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260101\r\nSUMMARY:Lunch\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    status, _ = store._request(url, "PUT", body, {"Content-Type": "text/calendar"})
    assert status == 201
    assert list(store.subject_ids()) == ["person-1"]
    store.erase([i.key for i in store.items_of("person-1")], RetentionAction.ERASE)
    assert [p.name for p in _event_files(radicale)[store._settings.calendar]] == [
        "someone-elses.ics"
    ]


def test_password_from_the_environment(radicale: Radicale, monkeypatch: pytest.MonkeyPatch) -> None:
    from praclox_privacy import default_policy

    settings = CalDavSettings(
        url=radicale.url, username=radicale.username, password_env="TEST_CALDAV_PW"
    )
    s = CalDavStore(default_policy(), settings, "agenda")
    with pytest.raises(StoreUnavailable, match="TEST_CALDAV_PW"):
        s.all_items()
    monkeypatch.setenv("TEST_CALDAV_PW", radicale.password)
    assert s.health().ok


def test_wrong_password_is_unavailable_without_the_password(radicale: Radicale) -> None:
    from praclox_privacy import default_policy

    s = CalDavStore(
        default_policy(),
        CalDavSettings(url=radicale.url, username=radicale.username, password="wrong-pw-123"),
        "agenda",
    )
    with pytest.raises(StoreUnavailable, match="refused the credentials") as info:
        s.write([make_item("person-1", "person_name", "name", "x")], relation_types_of)
    assert "wrong-pw-123" not in str(info.value)
    assert not s.health().ok


def test_server_down_is_a_clear_error_naming_the_url_not_the_password() -> None:
    from praclox_privacy import default_policy

    s = CalDavStore(
        default_policy(),
        CalDavSettings(url="http://praclox:s3cret@127.0.0.1:9/dav/", timeout=2),
        "agenda",
    )
    health = s.health()
    assert not health.ok
    assert "http://127.0.0.1:9/dav/" in health.detail
    with pytest.raises(StoreUnavailable) as info:
        s.write([make_item("person-1", "person_name", "name", "x")], relation_types_of)
    message = str(info.value)
    assert "http://127.0.0.1:9/dav/" in message
    assert "cannot be reached" in message
    assert "s3cret" not in message


# -- a workspace with an agenda -------------------------------------------------------


def _workspace(root: Path, radicale: Radicale, calendar: str) -> Workspace:
    new_workspace(root, "\n" + tomli_w.dumps({"stores": {"agenda": radicale.settings(calendar)}}))
    return Workspace.open(root, clock=lambda: NOW)


def _populate(ws: Workspace) -> None:
    ws.add_subject(["client"], subject_id="client-1", name="Kantoor De Vries")
    for person, name in (("person-1", "Jan Jansen"), ("person-2", "Els de Boer")):
        ws.add_subject(["contact_person"], subject_id=person, organisation="client-1", name=name)
    ws.write(
        [
            Item("person-1", "life_events", "birthday", "1980-02-29", COLLECTED),
            Item("person-1", "life_events", "child_birthday:Noor", "2015-12-28", COLLECTED),
            Item("person-1", "life_events", "wedding_date", "2006-01-02", COLLECTED),
            Item("person-2", "life_events", "birthday", "1975-12-24", COLLECTED),
        ]
    )


def test_S8_sync_twice_creates_no_duplicates(tmp_path: Path, radicale: Radicale) -> None:
    with _workspace(tmp_path, radicale, "sync-twice") as ws:
        _populate(ws)
        _, (first,) = sync(ws)
        assert (first.written, first.removed, first.unchanged, first.error) == (4, 0, 0, None)
        _, (second,) = sync(ws)
        assert (second.written, second.removed, second.unchanged) == (0, 0, 4)
        assert len(_event_files(radicale)["sync-twice"]) == 4
        # A changed date replaces the event; still one event per life event.
        ws.rectify(ItemKey("person-2", "life_events", "birthday"), "1975-12-25")
        _, (third,) = sync(ws)
        assert (third.written, third.unchanged) == (1, 3)
        assert len(_event_files(radicale)["sync-twice"]) == 4
        agenda_items = ws.store("agenda").items_of("person-2")
        assert [i.value for i in agenda_items] == ["1975-12-25"]


def test_S8_erasing_a_subject_removes_its_events_from_radicale(
    tmp_path: Path, radicale: Radicale
) -> None:
    with _workspace(tmp_path, radicale, "erase-subject") as ws:
        _populate(ws)
        sync(ws)
        assert len(_event_files(radicale)["erase-subject"]) == 4
        request = receive_request(ws, "erasure", [Identity("subject_id", "person-1")], now=NOW)
        verify_request(ws, request.id, "checked id", now=NOW)
        result = erase_subject(ws, "person-1", now=NOW)
        assert not result.failures, result.failures
        assert len(result.erased["agenda"]) == 3
        files = _event_files(radicale)["erase-subject"]
        assert len(files) == 1
        assert ws.store("agenda").items_of("person-1") == []
        assert [i.subject_id for i in ws.store("agenda").items_of("person-2")] == ["person-2"]
        # A later sync does not bring them back.
        _, (again,) = sync(ws)
        assert (again.written, again.removed) == (0, 0)
        assert len(_event_files(radicale)["erase-subject"]) == 1


def test_S8_erasing_a_life_event_item_removes_its_event(tmp_path: Path, radicale: Radicale) -> None:
    with _workspace(tmp_path, radicale, "erase-item") as ws:
        _populate(ws)
        sync(ws)
        key = ItemKey("person-1", "life_events", "wedding_date")
        ws.erase([key])  # the source in the primary store
        _, (result,) = sync(ws)
        assert result.removed == 1
        assert key not in {i.key for i in ws.store("agenda").items_of("person-1")}
        assert len(_event_files(radicale)["erase-item"]) == 3


def test_S8_an_objection_removes_the_subject_from_the_agenda(
    tmp_path: Path, radicale: Radicale
) -> None:
    with _workspace(tmp_path, radicale, "objection") as ws:
        _populate(ws)
        sync(ws)
        object_to_processing(ws, "person-2", ["congratulations"], now=NOW)
        events, (result,) = sync(ws)
        assert "person-2" in events.excluded
        assert result.removed == 1
        assert ws.store("agenda").items_of("person-2") == []


def test_S8_sync_with_the_server_down_loses_nothing(tmp_path: Path, radicale: Radicale) -> None:
    with _workspace(tmp_path, radicale, "down") as ws:
        _populate(ws)
    config = tmp_path / "praclox-privacy.toml"
    text = config.read_text(encoding="utf-8").replace(radicale.url, "http://127.0.0.1:9/")
    config.write_text(text, encoding="utf-8")
    with Workspace.open(tmp_path, clock=lambda: NOW) as ws:
        _, (result,) = sync(ws)
        assert result.error is not None
        assert "http://127.0.0.1:9/" in result.error
        assert radicale.password not in result.error
        assert len(ws.store().items_of("person-1")) == 4  # name + 3 life events: kept
        # An erasure request with the agenda down stays open and keeps the failure.
        request = receive_request(ws, "erasure", [Identity("subject_id", "person-1")], now=NOW)
        verify_request(ws, request.id, "checked id", now=NOW)
        erased = erase_subject(ws, "person-1", now=NOW)
        assert [name for name, _ in erased.failures] == ["agenda"]


def test_S8_exported_ics_parses_with_icalendar_and_radicale(
    tmp_path: Path, radicale: Radicale
) -> None:
    with _workspace(tmp_path, radicale, "export-source") as ws:
        _populate(ws)
        data = export_ics(life_events(ws), LeapDay.FEB_28)
    calendar = icalendar.Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    summaries = sorted(str(e["summary"]) for e in events)
    assert "Birthday of Noor, child of Jan Jansen" in summaries
    assert all(e["rrule"]["FREQ"] == ["YEARLY"] for e in events)
    assert all("X-PRACLOX-ITEM" not in e for e in events)
    # Radicale accepts the whole file as a new calendar collection.
    store = CalDavStore(ws.policy, _settings(radicale), "probe")
    store._calendar()
    url = f"{radicale.url}{radicale.username}/imported-agenda/"
    status, _ = store._request(url, "PUT", data.decode("utf-8"), {"Content-Type": "text/calendar"})
    assert status in (201, 204)
    imported = radicale.root / "collections" / "collection-root" / radicale.username
    assert len(list((imported / "imported-agenda").glob("*.ics"))) == 4
    store.close()


def test_S8_the_sweep_erases_due_life_events_in_the_agenda(
    tmp_path: Path, radicale: Radicale
) -> None:
    from datetime import timedelta

    from praclox_privacy.services.sweep import run_sweep

    with _workspace(tmp_path, radicale, "sweep") as ws:
        _populate(ws)
        sync(ws)
        ws.record_event("person-1", "relation_ended", NOW)
        report = run_sweep(ws, NOW + timedelta(days=40))
        assert report.ok
        assert ws.store("agenda").items_of("person-1") == []
        assert [i.subject_id for i in ws.store("agenda").items_of("person-2")] == ["person-2"]
        assert len(_event_files(radicale)["sweep"]) == 1
