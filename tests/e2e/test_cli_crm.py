"""`praclox-privacy crm pull` and the requests of people whose data lives only in Tryton:
end to end through the CLI, against a real trytond."""

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx")

import tomli_w

from helpers import ok, run, show
from praclox_privacy.services.workspace import Workspace
from tryton_server import Tryton


def _configure(root: Path, table: dict[str, Any]) -> None:
    config = root / "praclox-privacy.toml"
    text = config.read_text(encoding="utf-8").split("\n[stores.crm]", 1)[0]
    config.write_text(text + "\n" + tomli_w.dumps({"stores": {"crm": table}}), encoding="utf-8")


class Crm:
    """A workspace whose ``crm`` store sees a client and its contact person in Tryton."""

    def __init__(self, root: Path, tryton: Tryton) -> None:
        self.root = root
        self.tryton = tryton
        self.categories = tryton.categories()
        self.table = tryton.table("crm", self.categories)
        ok("init", root)
        _configure(root, self.table)
        self.client = tryton.party(
            "Kantoor De Vries",
            self.categories["client"],
            emails=("info@devries.example",),
            phones=("+31 30 123 4567",),
            address={"street": "Dorpsstraat 1", "postal_code": "1234 AB", "city": "Utrecht"},
        )
        self.person = tryton.party(
            "Jan Jansen", self.categories["contact_person"], emails=("Jan@DeVries.example",)
        )
        self.client_id = f"tryton-party-{self.client}"
        self.person_id = f"tryton-party-{self.person}"

    def request(self, kind: str, *identity: str) -> str:
        """Register a request of ``kind`` and verify it; return its id."""
        request_id = ok("request", "new", "--type", kind, *identity, "-w", self.root)
        request_id = request_id.output.strip()
        verified = ok("request", "verify", request_id, "--by", "front desk", "-w", self.root)
        assert "subject tryton-party-" in verified.output
        return request_id

    def party(self, party_id: int) -> dict[str, Any]:
        (row,) = self.tryton.rpc.read("party.party", [party_id], ["name", "active"])
        return row

    def contacts(self, party_id: int) -> list[tuple[str, str]]:
        rows = self.tryton.rpc.search_read(
            "party.contact_mechanism", [("party", "=", party_id)], ["type", "value"]
        )
        return [(r["type"], r["value"]) for r in rows]

    def audit_actions(self, subject_id: str) -> list[str]:
        with Workspace.open(self.root) as ws:
            return [e.action for e in ws.audit_entries(subject_id)]


@pytest.fixture
def crm(tmp_path: Path, tryton: Tryton) -> Crm:
    return Crm(tmp_path / "ws", tryton)


def test_crm_pull_records_subjects_relations_and_events_without_values(crm: Crm) -> None:
    pulled = ok("crm", "pull", "-w", crm.root)
    assert f"added      {crm.client_id}" in pulled.output
    assert f"added      {crm.person_id}" in pulled.output
    assert "crm: 2 subjects (2 added, 0 updated, 0 unchanged)" in pulled.output
    again = json.loads(
        ok("crm", "pull", "--store", "crm", "-w", crm.root, "--format", "json").output
    )
    assert again == {
        "store": "crm",
        "subjects": {crm.client_id: "unchanged", crm.person_id: "unchanged"},
        "counts": {"added": 0, "updated": 0, "unchanged": 2, "missing": 0},
    }
    shown = show(crm.person_id, root=crm.root).output
    assert "contact_person" in shown
    # The client's relation ends in Tryton: the next pull records when.
    crm.tryton.rpc("model.party.party.write", [crm.client], {"active": False})
    third = json.loads(ok("crm", "pull", "-w", crm.root, "--format", "json").output)
    assert third["subjects"][crm.client_id] == "updated"
    with Workspace.open(crm.root) as ws:
        assert ws.ledger.subject(crm.client_id).event_at("relation_ended") is not None
        assert ws.store().items_of(crm.person_id) == []  # no values copied
        assert "Jansen" not in repr(ws.audit_entries())


def test_access_rectify_and_erase_a_contact_person_held_only_in_tryton(crm: Crm) -> None:
    # Access: the requester gives an e-mail address that only Tryton holds.
    access = crm.request("access", "--email", "jan@devries.EXAMPLE")
    report = json.loads(ok("request", "access", crm.person_id, "-w", crm.root).output)
    held = {(i["store"], i["category"], i["field"]): i["value"] for i in report["items"]}
    assert held == {
        ("crm", "person_name", "name"): "Jan Jansen",
        ("crm", "person_contact", "email"): "Jan@DeVries.example",
    }
    assert "completed" in ok("request", "show", access, "-w", crm.root).output

    # Rectification: the new address is written in Tryton.
    crm.request("rectification", "--subject", crm.person_id)
    rectified = ok(
        "request", "rectify", crm.person_id, "person_contact", "email",
        "jan.jansen@devries.example", "--lang", "en", "-w", crm.root,
    )  # fmt: skip
    assert "person_contact/email in crm" in rectified.output
    assert crm.contacts(crm.person) == [("email", "jan.jansen@devries.example")]

    # Erasure: found by the rectified address; Tryton's party.erase anonymises the party.
    erasure = crm.request("erasure", "--email", "jan.jansen@devries.example")
    erased = json.loads(
        ok("request", "erase", crm.person_id, "-w", crm.root, "--format", "json").output
    )
    assert erased["done"] is True
    assert erased["request"] == erasure
    assert sorted((k["category"], k["field"]) for k in erased["erased"]["crm"]) == [
        ("person_contact", "email"),
        ("person_name", "name"),
    ]
    assert erased["anonymised_in"] == ["crm"]
    assert crm.party(crm.person) == {"id": crm.person, "name": None, "active": False}
    assert crm.contacts(crm.person) == [("other", "****")]
    # The client and its data stay; the person's erasure is audited.
    assert crm.party(crm.client)["name"] == "Kantoor De Vries"
    assert "items.erased" in crm.audit_actions(crm.person_id)


def test_erasing_a_client_anonymises_its_party_in_tryton_and_says_so(crm: Crm) -> None:
    ok("crm", "pull", "-w", crm.root)
    crm.request("erasure", "--subject", crm.client_id)
    text = ok("request", "erase", crm.client_id, "--lang", "en", "-w", crm.root).output
    assert "anonymised rather than deleted" in text
    assert "crm" in text
    assert crm.party(crm.client) == {"id": crm.client, "name": None, "active": False}
    assert {v for _, v in crm.contacts(crm.client)} == {"****"}
    (address,) = crm.tryton.rpc.search_read(
        "party.address", [("party", "=", crm.client)], ["street", "city"]
    )
    assert (address["street"], address["city"]) == (None, None)
    # Its contact person is a separate subject: untouched.
    assert crm.party(crm.person)["name"] == "Jan Jansen"


@pytest.mark.parametrize("fault", ["server down", "wrong password"])
def test_a_failing_tryton_is_a_clear_error_and_nothing_is_marked_erased(
    crm: Crm, fault: str
) -> None:
    ok("crm", "pull", "-w", crm.root)
    request_id = crm.request("erasure", "--subject", crm.person_id)
    if fault == "server down":
        _configure(crm.root, {**crm.table, "url": "http://127.0.0.1:9/", "timeout": 2})
        expected = "cannot be reached"
    else:
        login, _ = crm.tryton.user()
        _configure(crm.root, {**crm.table, "username": login, "password": "wrong-pw-123"})
        expected = "login failed"
    erased = run("request", "erase", crm.person_id, "-w", crm.root)
    assert erased.exit_code == 1
    assert expected in erased.output
    assert "wrong-pw-123" not in erased.output
    pulled = run("crm", "pull", "-w", crm.root)
    assert pulled.exit_code == 1
    assert expected in pulled.output
    shown = json.loads(ok("request", "show", request_id, "-w", crm.root, "--format", "json").output)
    assert shown["status"] != "completed"
    assert not any(a.startswith("items.") for a in crm.audit_actions(crm.person_id))
    assert crm.party(crm.person) == {"id": crm.person, "name": "Jan Jansen", "active": True}
    # With the server back, the same request is carried out.
    _configure(crm.root, crm.table)
    done = json.loads(
        ok("request", "erase", crm.person_id, "-w", crm.root, "--format", "json").output
    )
    assert done["done"] is True
    assert done["request"] == request_id
    assert crm.party(crm.person)["name"] is None


def test_the_tryton_store_is_a_plugin_found_through_its_entry_point(crm: Crm) -> None:
    (entry,) = [
        e for e in importlib.metadata.entry_points(group="praclox_privacy") if e.name == "tryton"
    ]
    assert entry.value == "praclox_privacy.stores.tryton"
    assert entry.dist is not None
    assert entry.dist.name == "praclox-privacy"
    # A workspace naming a store kind no plugin offers is refused, naming the key.
    _configure(crm.root, {**crm.table, "plugin": "trytom"})
    refused = run("crm", "pull", "-w", crm.root)
    assert refused.exit_code == 2
    assert "stores.crm.plugin" in refused.output
    assert "tryton" in refused.output  # listed among the installed kinds


def test_crm_pull_without_a_crm_store_says_what_to_configure(tmp_path: Path) -> None:
    ok("init", tmp_path / "ws")
    refused = run("crm", "pull", "-w", tmp_path / "ws")
    assert refused.exit_code == 1
    assert "holds subjects of its own" in refused.output


def test_the_sweep_and_check_cover_data_held_only_in_tryton(crm: Crm) -> None:
    crm.tryton.rpc("model.party.party.write", [crm.person], {"active": False})
    ok("crm", "pull", "-w", crm.root)
    checked = ok("check", "-w", crm.root).output
    assert "2 stores reachable (main, crm)" in checked
    assert "8 items in 2 stores hold only declared categories" in checked
    # A year after the contact person left, the sweep erases them in Tryton.
    later = ok("sweep", "--now", "2099-01-01T00:00:00+00:00", "-w", crm.root, "--format", "json")
    report = json.loads(later.output)
    assert report["ok"] is True, report
    assert {(e["store"], e["category"]) for e in report["erased"]} == {
        ("crm", "person_name"),
        ("crm", "person_contact"),
    }
    assert crm.party(crm.person) == {"id": crm.person, "name": None, "active": False}
    assert crm.party(crm.client)["name"] == "Kantoor De Vries"  # still a client
