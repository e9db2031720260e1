"""The ``tryton`` store against a real trytond (party module, SQLite): the contract kit
where it applies, the mapping, rectification, erasure through party.erase, and errors."""

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx")

import tomli_w

from helpers import new_workspace
from praclox_privacy import default_policy
from praclox_privacy.domain.errors import WorkspaceError
from praclox_privacy.domain.policy import Policy, RetentionAction
from praclox_privacy.domain.records import ItemKey, SubjectEvent
from praclox_privacy.plugins import (
    builtin_plugins,
    installed_plugins,
    make_plugin_manager,
    store_kinds,
)
from praclox_privacy.ports import (
    DueQuery,
    ErasedItems,
    Store,
    StoreError,
    StoreUnavailable,
    SubjectSource,
)
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.tryton import TrytonSettings
from praclox_privacy.stores.tryton.client import TrytonLoginFailed
from praclox_privacy.stores.tryton.store import TrytonStore
from praclox_privacy.testing import StoreContract, make_item, relation_types_of
from tryton_server import ADMIN, Tryton


def _settings(tryton: Tryton, relation_types: dict[str, str], **extra: Any) -> TrytonSettings:
    values: dict[str, Any] = {
        "url": tryton.url,
        "database": tryton.database,
        "username": ADMIN,
        "password": tryton.password,
        "relation_types": relation_types,
        **extra,
    }
    return TrytonSettings(**values)


# -- the contract kit -------------------------------------------------------------------


class TestTrytonStoreContract(StoreContract):
    """The kit's scenarios that apply: each store sees only party categories of its own,
    so it starts empty. Scenarios that write the kit's sample first, anonymising single
    items and the stateful comparison are skipped by the kit from the store's
    capabilities; the same behaviour is tested below on parties created in Tryton."""

    @pytest.fixture
    def make_store(self, policy: Policy, tryton: Tryton) -> Callable[[], Store]:
        return lambda: TrytonStore(policy, _settings(tryton, tryton.categories()), "crm")


def test_the_contract_skips_only_what_needs_writing(tryton: Tryton) -> None:
    caps = TrytonStore(default_policy(), _settings(tryton, tryton.categories())).capabilities()
    assert (caps.write, caps.anonymise, caps.transactional) == (False, False, False)
    assert (caps.erase, caps.rectify, caps.find_due) == (True, True, True)
    assert any("party.erase" in note and "anonymises" in note for note in caps.notes)


# -- the mapping ------------------------------------------------------------------------


@pytest.fixture
def crm(tryton: Tryton) -> Iterator[tuple[TrytonStore, dict[str, str]]]:
    categories = tryton.categories()
    store = TrytonStore(default_policy(), _settings(tryton, categories), "crm")
    yield store, categories
    store.close()


def _client(tryton: Tryton, categories: dict[str, str], name: str = "Kantoor De Vries") -> int:
    return tryton.party(
        name,
        categories["client"],
        emails=("info@devries.example",),
        phones=("+31 30 123 4567",),
        website="https://devries.example",
        address={"street": "Dorpsstraat 1", "postal_code": "1234 AB", "city": "Utrecht"},
    )


def _person(tryton: Tryton, categories: dict[str, str], name: str = "Jan Jansen") -> int:
    return tryton.party(
        name, categories["contact_person"], emails=("Jan@DeVries.example", "jan@home.example")
    )


def _created(tryton: Tryton, model: str, record: int) -> datetime:
    (row,) = tryton.rpc.read(model, [record], ["create_date"])
    c = row["create_date"]
    return datetime(
        c["year"], c["month"], c["day"], c["hour"], c["minute"], c["second"], c["microsecond"],
        tzinfo=UTC,
    )  # fmt: skip


def test_parties_map_to_subjects_and_items(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    tryton.party("Supplier BV", tryton.categories()["client"])  # another store's category
    client_id, person_id = f"tryton-party-{client}", f"tryton-party-{person}"
    items = {(i.category, i.field): i.value for i in store.items_of(client_id)}
    assert items == {
        ("office_identity", "name"): "Kantoor De Vries",
        ("office_address", "street"): "Dorpsstraat 1",
        ("office_address", "postal_code"): "1234 AB",
        ("office_address", "city"): "Utrecht",
        ("office_contact", "email"): "info@devries.example",
        ("office_contact", "phone"): "+31 30 123 4567",
        ("office_contact", "website"): "https://devries.example",
    }
    (second,) = tryton.rpc.search_read(
        "party.contact_mechanism", [("value", "=", "jan@home.example")], ["id"]
    )
    person_items = store.items_of(person_id)
    assert [(i.category, i.field, i.value) for i in person_items] == [
        ("person_contact", "email", "Jan@DeVries.example"),
        ("person_contact", f"email:{second['id']}", "jan@home.example"),
        ("person_name", "name", "Jan Jansen"),
    ]
    assert person_items[-1].collected_at == _created(tryton, "party.party", person)
    assert person_items[1].collected_at == _created(tryton, "party.contact_mechanism", second["id"])
    assert sorted(store.subject_ids()) == sorted([client_id, person_id])
    assert dict(store.categories_held()) == {
        "office_identity": 1,
        "office_address": 3,
        "office_contact": 3,
        "person_name": 1,
        "person_contact": 2,
    }
    # Ids that are not this store's are answered without a party behind them.
    assert store.items_of("client-1") == []
    assert store.items_of("tryton-party-007") == []
    assert store.subject("tryton-party-999999") is None


def test_foreign_ids_never_reach_the_server() -> None:
    settings = TrytonSettings(url="http://127.0.0.1:9/", database="x", username="u", timeout=2)
    store = TrytonStore(default_policy(), settings, "crm")
    assert store.items_of("client-1") == []
    assert store.subject("jan") is None
    assert store.find_subjects("subject_id", "jan") == []
    with pytest.raises(KeyError):
        store.rectify(ItemKey("jan", "person_name", "name"), "x")
    assert store.erase([ItemKey("jan", "person_name", "name")], RetentionAction.ERASE) == 0


def test_a_subject_source_with_relation_types_and_deactivation(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    assert isinstance(store, SubjectSource)
    client, person = _client(tryton, categories), _person(tryton, categories)
    prospect = tryton.party("Praktijk 't Hoekje", categories["prospect"], active=False)
    subjects = {s.id: s for s in store.subjects()}
    assert {k: sorted(s.relation_types) for k, s in subjects.items()} == {
        f"tryton-party-{client}": ["client"],
        f"tryton-party-{person}": ["contact_person"],
        f"tryton-party-{prospect}": ["prospect"],
    }
    (row,) = tryton.rpc.read("party.party", [prospect], ["write_date", "create_date"])
    stamp = row["write_date"] or row["create_date"]
    ended = datetime(
        stamp["year"], stamp["month"], stamp["day"], stamp["hour"], stamp["minute"],
        stamp["second"], stamp["microsecond"], tzinfo=UTC,
    )  # fmt: skip
    assert subjects[f"tryton-party-{prospect}"].events == (SubjectEvent("relation_ended", ended),)
    assert subjects[f"tryton-party-{client}"].events == ()
    assert store.subject(f"tryton-party-{person}") == subjects[f"tryton-party-{person}"]


def test_finds_subjects_by_email_ignoring_case_and_by_party_code(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    tryton.party("Jan_X", categories["contact_person"], emails=("janXdevries@example.org",))
    assert store.find_subjects("email", "jan@devries.EXAMPLE") == [f"tryton-party-{person}"]
    assert store.find_subjects("email", " jan@home.example ") == [f"tryton-party-{person}"]
    assert store.find_subjects("email", "jan_devries@example.org") == []  # '_' is no wildcard
    assert store.find_subjects("email", "nobody@example.org") == []
    (code,) = tryton.rpc.read("party.party", [client], ["code"])
    assert store.find_subjects("party_code", code["code"]) == [f"tryton-party-{client}"]
    assert store.find_subjects("customer_number", "1") == []
    assert store.find_subjects("subject_id", f"tryton-party-{client}") == [f"tryton-party-{client}"]


# -- rectification ----------------------------------------------------------------------


def test_rectify_changes_the_value_in_tryton_only(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    before = {i.key: i for i in store.items_of(f"tryton-party-{client}")}
    key = ItemKey(f"tryton-party-{person}", "person_name", "name")
    old = next(i for i in store.items_of(key.subject_id) if i.key == key)
    rectified = store.rectify(key, "Jan Janssen")
    assert rectified.value == "Jan Janssen"
    assert rectified.collected_at == old.collected_at
    assert tryton.rpc.read("party.party", [person], ["name"])[0]["name"] == "Jan Janssen"
    city = ItemKey(f"tryton-party-{client}", "office_address", "city")
    assert store.rectify(city, "Amersfoort").value == "Amersfoort"
    email = ItemKey(f"tryton-party-{person}", "person_contact", "email")
    assert store.rectify(email, "jan.jansen@devries.example").value == "jan.jansen@devries.example"
    rows = tryton.rpc.search_read(
        "party.contact_mechanism", [("party", "=", person), ("type", "=", "email")], ["value"]
    )
    assert sorted(r["value"] for r in rows) == ["jan.jansen@devries.example", "jan@home.example"]
    after = {i.key: i for i in store.items_of(f"tryton-party-{client}")}
    assert after[city].value == "Amersfoort"
    assert {k: v for k, v in after.items() if k != city} == {
        k: v for k, v in before.items() if k != city
    }
    with pytest.raises(KeyError):
        store.rectify(ItemKey(f"tryton-party-{person}", "person_contact", "phone"), "x")


def test_rectify_a_country_by_its_code(tryton: Tryton) -> None:
    categories = tryton.categories()
    tryton.rpc(
        "model.country.country.create",
        [{"name": "Nederland", "code": "NL"}, {"name": "België", "code": "BE"}],
    )
    party = tryton.party(
        "Kantoor Oost", categories["client"], address={"city": "Enschede", "country": None}
    )
    store = TrytonStore(default_policy(), _settings(tryton, categories), "crm")
    key = ItemKey(f"tryton-party-{party}", "office_address", "country")
    with pytest.raises(KeyError):  # no country yet: no item
        store.rectify(key, "NL")
    (address,) = tryton.rpc.search_read("party.address", [("party", "=", party)], ["id"])
    (nl,) = tryton.rpc("model.country.country.search", [("code", "=", "NL")])
    tryton.rpc("model.party.address.write", [address["id"]], {"country": nl})
    assert [i.value for i in store.items_of(key.subject_id) if i.key == key] == ["NL"]
    with pytest.raises(StoreError, match="no country with code 'zz'"):
        store.rectify(key, "zz")
    assert [i.value for i in store.items_of(key.subject_id) if i.key == key] == ["NL"]
    assert store.rectify(key, "be").value == "BE"
    (row,) = tryton.rpc.read("party.address", [address["id"]], ["country.code"])
    assert row["country."]["code"] == "BE"
    store.close()


# -- erasure ----------------------------------------------------------------------------


def test_erasing_some_items_blanks_only_those(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    other = _person(tryton, categories, "Els de Boer")
    untouched = {s: store.items_of(s) for s in (f"tryton-party-{client}", f"tryton-party-{other}")}
    subject = f"tryton-party-{person}"
    email = ItemKey(subject, "person_contact", "email")
    missing = ItemKey(subject, "person_contact", "phone")
    assert store.erase([email, email, missing], RetentionAction.ERASE) == 1
    assert [(i.category, i.field, i.value) for i in store.items_of(subject)] == [
        ("person_contact", "email", "jan@home.example"),  # the other address moves up
        ("person_name", "name", "Jan Jansen"),
    ]
    rows = tryton.rpc.search_read(
        "party.contact_mechanism", [("party", "=", person)], ["type", "value", "active"]
    )
    assert [(r["type"], r["value"], bool(r["active"])) for r in rows] == [
        ("other", "****", False),
        ("email", "jan@home.example", True),
    ]
    assert tryton.rpc.read("party.party", [person], ["active"])[0]["active"]
    assert {s: store.items_of(s) for s in untouched} == untouched


def test_erasing_some_items_of_an_inactive_party_keeps_its_deactivation_date(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client = _client(tryton, categories)
    tryton.rpc("model.party.party.write", [client], {"active": False})
    subject = f"tryton-party-{client}"
    before = store.subject(subject)
    assert before is not None
    ended = before.event_at("relation_ended")
    assert ended is not None
    contact = [i.key for i in store.items_of(subject) if i.category == "office_contact"]
    assert store.erase(contact, RetentionAction.ERASE) == 3
    after = store.subject(subject)
    assert after is not None
    assert after.event_at("relation_ended") == ended
    assert {i.category for i in store.items_of(subject)} == {"office_identity", "office_address"}
    # Its name cannot be blanked while its address stays: refused, nothing changed.
    held = store.items_of(subject)
    name = ItemKey(subject, "office_identity", "name")
    city = ItemKey(subject, "office_address", "city")
    with pytest.raises(StoreError, match="does not change the name of an inactive party"):
        store.erase([name, city], RetentionAction.ERASE)
    assert store.items_of(subject) == held
    # All that is left: party.erase.
    assert store.erase([i.key for i in held], RetentionAction.ERASE) == 4
    assert tryton.rpc.read("party.party", [client], ["name"])[0]["name"] is None


def test_erasing_every_item_runs_party_erase_which_anonymises(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    subject = f"tryton-party-{client}"
    keys = [i.key for i in store.items_of(subject)]
    assert store.erase(keys, RetentionAction.ERASE) == 7
    assert store.items_of(subject) == []
    (party,) = tryton.rpc.read("party.party", [client], ["name", "active", "code"])
    assert (party["name"], party["active"]) == (None, False)  # the record stays: anonymised
    contacts = tryton.rpc.search_read(
        "party.contact_mechanism", [("party", "=", client)], ["type", "value"]
    )
    assert {(c["type"], c["value"]) for c in contacts} == {("other", "****")}
    (address,) = tryton.rpc.search_read(
        "party.address", [("party", "=", client)], ["street", "postal_code", "city"]
    )
    assert set(address.values()) - {address["id"]} == {None}
    # Still a subject, now with its relation ended; the contact person is untouched.
    found = store.subject(subject)
    assert found is not None
    assert found.event_at("relation_ended") is not None
    assert len(store.items_of(f"tryton-party-{person}")) == 3
    assert subject not in list(store.subject_ids())
    assert store.erase(keys, RetentionAction.ERASE) == 0  # again: nothing left


def test_erase_due_is_exactly_find_due(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    client, person = _client(tryton, categories), _person(tryton, categories)
    other = _person(tryton, categories, "Els de Boer")
    subjects = {f"tryton-party-{i}" for i in (client, person)}
    query = DueQuery({"person_name", "office_contact"}, subjects)
    due = set(store.find_due(query))
    assert {(k.subject_id, k.category) for k in due} == {
        (f"tryton-party-{client}", "office_contact"),
        (f"tryton-party-{person}", "person_name"),
    }
    assert len(due) == 4
    assert list(store.find_due(DueQuery({"person_name"}, set()))) == []
    later = datetime.now(UTC) + timedelta(days=1)
    assert (
        list(store.find_due(DueQuery({"person_name"}, collected_before=later - timedelta(days=2))))
        == []
    )
    assert len(list(store.find_due(DueQuery({"person_name"}, collected_before=later)))) == 2
    assert store.erase_due(query, RetentionAction.ERASE) == ErasedItems(4, subjects)
    assert list(store.find_due(query)) == []
    assert len(store.items_of(f"tryton-party-{other}")) == 3


def test_anonymise_and_write_are_refused_and_change_nothing(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    store, categories = crm
    person = _person(tryton, categories)
    subject = f"tryton-party-{person}"
    before = store.items_of(subject)
    with pytest.raises(StoreError, match="cannot anonymise"):
        store.erase([i.key for i in before], RetentionAction.ANONYMISE)
    with pytest.raises(StoreError, match="does not write"):
        store.write([make_item(subject, "person_name", "name", "x")], relation_types_of)
    assert store.items_of(subject) == before


# -- errors -----------------------------------------------------------------------------


def test_wrong_password_is_a_login_failure_and_changes_nothing(
    crm: tuple[TrytonStore, dict[str, str]], tryton: Tryton
) -> None:
    _, categories = crm
    person = _person(tryton, categories)
    login, password = tryton.user()
    good = TrytonStore(
        default_policy(), _settings(tryton, categories, username=login, password=password)
    )
    assert good.health().ok  # the user exists and its own password works
    good.close()
    settings = _settings(tryton, categories, username=login, password="wrong-pw-123")
    store = TrytonStore(default_policy(), settings, "crm")
    key = ItemKey(f"tryton-party-{person}", "person_name", "name")
    with pytest.raises(TrytonLoginFailed, match="login failed") as info:
        store.erase([key], RetentionAction.ERASE)
    assert "wrong-pw-123" not in str(info.value)
    assert tryton.url in str(info.value)
    health = store.health()
    assert not health.ok
    assert "login failed" in health.detail
    assert tryton.rpc.read("party.party", [person], ["name"])[0]["name"] == "Jan Jansen"


def test_server_down_is_unavailable_naming_the_url_not_the_password() -> None:
    settings = TrytonSettings(
        url="http://praclox:s3cret@127.0.0.1:9/",
        database="praclox",
        username="admin",
        password="pw-s3cret-2",
        timeout=2,
    )
    store = TrytonStore(default_policy(), settings, "crm")
    health = store.health()
    assert not health.ok
    assert "http://127.0.0.1:9/" in health.detail
    with pytest.raises(StoreUnavailable) as info:
        store.items_of("tryton-party-1")
    message = str(info.value)
    assert "http://127.0.0.1:9/" in message
    assert "cannot be reached" in message
    assert "s3cret" not in message


def test_password_from_the_environment(tryton: Tryton, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tryton, tryton.categories(), password="", password_env="TEST_TRYTON_PW")
    store = TrytonStore(default_policy(), settings, "crm")
    with pytest.raises(StoreUnavailable, match="TEST_TRYTON_PW"):
        list(store.subjects())
    monkeypatch.setenv("TEST_TRYTON_PW", tryton.password)
    assert store.health().ok
    store.close()


# -- configuration and loading ----------------------------------------------------------


def _open(root: Path, table: dict[str, Any]) -> Workspace:
    new_workspace(root, "\n" + tomli_w.dumps({"stores": {"crm": table}}))
    return Workspace.open(root)


_counter = itertools.count()


@pytest.mark.parametrize(
    ("extra", "location", "message"),
    [
        ({"url": "ftp://x"}, "stores.crm.url", "not an http"),
        ({"database": " "}, "stores.crm.database", "blank"),
        ({"subject_prefix": "-x"}, "stores.crm.subject_prefix", "not a valid subject id"),
        ({"fields": {"person_name.name": "contact.other"}}, "person_name.name", "not a Tryton"),
        ({"fields": {"person_name": "party.name"}}, "fields.person_name", "category.field"),
        ({"relation_types": {"Client": "x"}}, "relation_types.Client", "identifier"),
    ],
)
def test_settings_are_checked_strictly_naming_the_key(
    tmp_path: Path, tryton: Tryton, extra: dict[str, Any], location: str, message: str
) -> None:
    table = {**tryton.table("crm", tryton.categories()), **extra}
    with pytest.raises(WorkspaceError) as info:
        _open(tmp_path / f"ws-{next(_counter)}", table)
    assert location in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("extra", "location", "message"),
    [
        (
            {"relation_types": {"supplier": "s"}},
            "stores.crm.relation_types.supplier",
            "not declared",
        ),
        (
            {"fields": {"shoe.size": "party.name"}},
            "stores.crm.fields.shoe.size",
            "not in the policy",
        ),
        (
            {"fields": {"person_name.shoe": "party.name"}},
            "stores.crm.fields.person_name.shoe",
            "has no field 'shoe'",
        ),
        (
            {"fields": {"application.cv": "party.name"}},
            "stores.crm.fields.application.cv",
            "no mapped relation type",
        ),
        ({"deactivated_event": "gone"}, "stores.crm.deactivated_event", "not declared"),
    ],
)
def test_settings_are_checked_against_the_policy(
    tmp_path: Path, tryton: Tryton, extra: dict[str, Any], location: str, message: str
) -> None:
    table = {**tryton.table("crm", tryton.categories()), **extra}
    with (
        _open(tmp_path / f"ws-{next(_counter)}", table) as ws,
        pytest.raises(WorkspaceError) as info,
    ):
        ws.store("crm")
    assert location in str(info.value)
    assert message in str(info.value)


def test_loaded_through_its_entry_point_like_a_third_party_plugin() -> None:
    import importlib.metadata

    # Its entry point is the one list of built-ins: a built-in like the others, loaded
    # like a third party's, its name reserved.
    assert "tryton" in {p.name for p in builtin_plugins()}
    (entry,) = [
        e for e in importlib.metadata.entry_points(group="praclox_privacy") if e.name == "tryton"
    ]
    assert entry.value == "praclox_privacy.stores.tryton"
    pm = make_plugin_manager()
    plugin = pm.get_plugin("tryton")
    assert plugin is not None
    assert plugin.__name__ == "praclox_privacy.stores.tryton"
    assert {p.distribution for p in installed_plugins() if p.name == "tryton"} == {
        "praclox-privacy"
    }
    assert store_kinds(pm)["tryton"].settings_type is TrytonSettings
    assert "tryton" in store_kinds(make_plugin_manager(load_entrypoints=False))


def test_sync_registers_tryton_subjects_without_values(tmp_path: Path, tryton: Tryton) -> None:
    categories = tryton.categories()
    client, person = _client(tryton, categories), _person(tryton, categories)
    with _open(tmp_path, tryton.table("crm", categories)) as ws:
        assert ws.subject_sources() == ["crm"]
        outcome = ws.sync_subjects("crm", actor="test")
        assert outcome == {f"tryton-party-{client}": "added", f"tryton-party-{person}": "added"}
        assert ws.sync_subjects("crm") == dict.fromkeys(outcome, "unchanged")
        assert ws.ledger.relation_types_of(f"tryton-party-{person}") == {"contact_person"}
        assert ws.store().items_of(f"tryton-party-{person}") == []  # no values copied
        audit = repr(ws.audit_entries())
        assert "Jan" not in audit
        assert "devries" not in audit.lower()
        tryton.rpc("model.party.party.write", [client], {"active": False})
        assert ws.sync_subjects("crm")[f"tryton-party-{client}"] == "updated"
        assert ws.ledger.subject(f"tryton-party-{client}").event_at("relation_ended") is not None
