"""The Tryton store: parties of a Tryton CRM as subjects, their details as items.

Mapping (settings in :class:`~praclox_privacy.stores.tryton.TrytonSettings`):

* A party is a subject when it is in one of the mapped party categories; its relation
  types are those categories (``client``, ``prospect``, ``contact_person`` by default).
  Its subject id is the prefix followed by its Tryton id (``tryton-party-42``).
* Its items are the values the ``fields`` mapping names, for the categories its relation
  types declare in the policy: the party's name, fields of its addresses, its contact
  mechanisms of a type, its identifiers of a type. Inactive addresses and contact
  mechanisms still hold data, so they are items too. When a party has several values for
  one field (two e-mail addresses), the first (by Tryton's sequence) is ``email`` and the
  others ``email:<record id>``. An item's ``collected_at`` is when Tryton created the
  record that holds it.
* An inactive party has had the ``deactivated_event`` (``relation_ended``), dated by
  Tryton's last change of the party: Tryton keeps no deactivation date.

Erasure: when the keys given cover every item a party holds, the party goes through
Tryton's own ``party.erase`` wizard (it is made inactive first, as the wizard requires).
The wizard **anonymises**: the party record stays, inactive, without its name; its
addresses are emptied, its contact mechanisms and identifiers replaced by ``****``, and
its notes and attachments deleted. Erasing only some items blanks those values the same
way (one Tryton transaction per kind of record; Tryton refuses to change the name of an
inactive party while other data of it stays). Tryton is the system of record for parties:
this store never creates them (``write`` is not supported).
"""

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs

from ...domain.policy import Policy, RetentionAction
from ...domain.records import Item, ItemKey, Subject, SubjectEvent
from ...ports import (
    Capabilities,
    Health,
    RelationTypesOf,
    ScanningStore,
    StoreError,
)
from . import TrytonSettings, parse_source
from .client import TrytonClient, TrytonError, password_from

__all__ = ["ERASURE_NOTE", "TrytonStore"]

ERASURE_NOTE = (
    "Tryton's party.erase anonymises rather than deletes: the party record stays, "
    "inactive, without its name; its addresses are emptied and its contact mechanisms "
    "and identifiers replaced by ****."
)
"""What erasing a party in Tryton does; shown with erasure results and by ``check``."""

_PARTY = "party.party"
_MODELS = {
    "address": ("party.address", "addresses"),
    "contact": ("party.contact_mechanism", "contact_mechanisms"),
    "identifier": ("party.identifier", "identifiers"),
}
_ALL = {"active_test": False}


@attrs.frozen
class _Value:
    """One item and the Tryton record and field that hold its value."""

    item: Item
    kind: str  # party, address, contact or identifier
    record: int
    field: str  # the Tryton field of the record: name, city, country, value, code


@attrs.frozen
class _Party:
    """A party as this store sees it."""

    id: int
    subject: Subject
    active: bool
    values: tuple[_Value, ...] = ()


def _order(record: Mapping[str, Any]) -> tuple[int, int]:
    sequence = record.get("sequence")
    return (sequence if isinstance(sequence, int) else 0, int(record["id"]))


class TrytonStore(ScanningStore):
    """Parties of a Tryton database as subjects and items, over JSON-RPC.

    Implements :class:`~praclox_privacy.ports.Store` (without ``write``) and
    :class:`~praclox_privacy.ports.SubjectSource`. The server is contacted on first use,
    not when the store is built, and never for a subject id that is not one of its own.

    Listings and due queries are :class:`~praclox_privacy.ports.ScanningStore`'s scans of
    :meth:`all_items`: an item is built from a party and the records mapped to it, which
    Tryton cannot select on as items, so every mapped party is read.
    """

    def __init__(self, policy: Policy, settings: TrytonSettings, name: str = "tryton") -> None:
        """Prepare the store; nothing is sent to the server yet."""
        self.name = name
        self._policy = policy
        self._settings = settings
        label = f"store {name!r}"
        self._client = TrytonClient(
            settings.url,
            settings.database,
            settings.username,
            password_from(settings.password, settings.password_env, label),
            timeout=settings.timeout,
            label=label,
        )
        self._categories = dict(settings.relation_types)
        self._sources = {key: parse_source(source) for key, source in settings.fields.items()}
        self._declared = {
            rt: frozenset(policy.relation_type(rt).categories) for rt in settings.relation_types
        }

    # -- reading -------------------------------------------------------------------------

    def party_id(self, subject_id: str) -> int | None:
        """Return the Tryton id of the party ``subject_id`` names, or ``None``."""
        prefix = self._settings.subject_prefix
        if not subject_id.startswith(prefix):
            return None
        rest = subject_id[len(prefix) :]
        if not rest.isascii() or not rest.isdigit() or str(int(rest)) != rest:
            return None
        return int(rest)

    def subject_id(self, party_id: int) -> str:
        """Return the subject id of the party with Tryton id ``party_id``."""
        return f"{self._settings.subject_prefix}{party_id}"

    def _search_read(
        self, model: str, domain: list[Any], fields: list[str], order: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        result = self._client.call(
            f"model.{model}.search_read", domain, 0, None, order, fields, context=_ALL
        )
        if not isinstance(result, list):
            raise TrytonError(f"store {self.name!r}: {model}.search_read gave no list")
        return [r for r in result if isinstance(r, dict)]

    def _parties(self, ids: Iterable[int] | None, with_values: bool) -> list[_Party]:
        """Read the mapped parties (all, or those of ``ids``), with their values or not."""
        domain: list[Any] = [("categories.name", "in", sorted(set(self._categories.values())))]
        if ids is not None:
            wanted = sorted(set(ids))
            if not wanted:
                return []
            domain.append(("id", "in", wanted))
        rows = self._search_read(
            _PARTY,
            domain,
            ["name", "code", "active", "create_date", "write_date", "categories.name"],
            [["id", "ASC"]],
        )
        records: dict[str, dict[int, list[dict[str, Any]]]] = {k: {} for k in _MODELS}
        if with_values and rows:
            party_ids = [int(r["id"]) for r in rows]
            for kind, fields in self._wanted().items():
                model, _ = _MODELS[kind]
                found = self._search_read(model, [("party", "in", party_ids)], fields)
                for record in sorted(found, key=_order):
                    records[kind].setdefault(int(record["party"]), []).append(record)
        return [self._party(row, records, with_values) for row in rows]

    def _wanted(self) -> dict[str, list[str]]:
        """Return the Tryton fields to read per kind of record, for the mapping's sources."""
        wanted: dict[str, set[str]] = {}
        for kind, name in self._sources.values():
            if kind == "address":
                wanted.setdefault(kind, set()).add("country.code" if name == "country" else name)
            elif kind in ("contact", "identifier"):
                wanted.setdefault(kind, set()).add("value" if kind == "contact" else "code")
        base = ["party", "type", "create_date"]
        fields = {
            "address": ["party", "create_date", "sequence"],
            "contact": [*base, "sequence"],
            "identifier": [*base, "sequence"],
        }
        return {kind: [*fields[kind], *sorted(names)] for kind, names in wanted.items()}

    def _party(
        self,
        row: Mapping[str, Any],
        records: Mapping[str, Mapping[int, list[dict[str, Any]]]],
        with_values: bool,
    ) -> _Party:
        party_id = int(row["id"])
        subject_id = self.subject_id(party_id)
        names = {c.get("name") for c in row.get("categories.") or () if isinstance(c, dict)}
        types = frozenset(rt for rt, category in self._categories.items() if category in names)
        active = bool(row.get("active"))
        events: tuple[SubjectEvent, ...] = ()
        event = self._settings.deactivated_event
        if not active and event:
            at = row.get("write_date") or row.get("create_date")
            if isinstance(at, datetime):
                events = (SubjectEvent(event, at),)
        subject = Subject(subject_id, types, events)
        if not with_values:
            return _Party(party_id, subject, active)
        allowed = frozenset().union(*(self._declared[rt] for rt in types))
        values: list[_Value] = []
        for key in sorted(self._sources):
            category, _, field = key.partition(".")
            if category not in allowed:
                continue
            kind, name = self._sources[key]
            held = self._held(row, records, kind, name, party_id)
            for index, (record, tryton_field, value, at) in enumerate(held):
                item = Item(
                    subject_id,
                    category,
                    field if index == 0 else f"{field}:{record}",
                    value,
                    at,
                )
                values.append(_Value(item, kind, record, tryton_field))
        values.sort(key=lambda v: (v.item.category, v.item.field))
        return _Party(party_id, subject, active, tuple(values))

    @staticmethod
    def _held(
        row: Mapping[str, Any],
        records: Mapping[str, Mapping[int, list[dict[str, Any]]]],
        kind: str,
        name: str,
        party_id: int,
    ) -> list[tuple[int, str, str, datetime]]:
        """Return ``(record id, Tryton field, value, created)`` of each value held."""
        if kind == "party":
            value, at = row.get("name"), row.get("create_date")
            if isinstance(value, str) and value.strip() and isinstance(at, datetime):
                return [(party_id, "name", value, at)]
            return []
        held: list[tuple[int, str, str, datetime]] = []
        for record in records[kind].get(party_id, ()):
            at = record.get("create_date")
            if kind == "address":
                if name == "country":
                    country = record.get("country.")
                    value = country.get("code") if isinstance(country, dict) else None
                else:
                    value = record.get(name)
                field = name
            elif record.get("type") != name:
                continue
            else:
                field = "value" if kind == "contact" else "code"
                value = record.get(field)
            if isinstance(value, str) and value.strip() and isinstance(at, datetime):
                held.append((int(record["id"]), field, value, at))
        return held

    def _one(self, subject_id: str) -> _Party | None:
        party_id = self.party_id(subject_id)
        if party_id is None:
            return None
        found = self._parties([party_id], with_values=True)
        return found[0] if found else None

    # -- the Store protocol --------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Return what this store supports: no writing, erasure anonymises."""
        return Capabilities(
            write=False,
            anonymise=False,
            transactional=False,
            erasure_anonymises=True,
            notes=(
                "Tryton is the system of record for parties: create and change them in "
                "Tryton; writing items from praclox-privacy is not supported (Tryton keeps "
                "its own creation instants, which are the items' collection instants).",
                "Erasing every item of a party runs Tryton's party.erase wizard, after "
                "making the party inactive. " + ERASURE_NOTE,
                "Erasing some items of a party blanks those values the way party.erase "
                "does (one Tryton transaction per kind of record); Tryton does not change "
                "the name of an inactive party, so that is refused while other data of the "
                "party stays. Anonymising single items with a placeholder is not supported.",
                "Not transactional across parties: each party's erasure is its own Tryton "
                "transaction. A failure stops the erasure and is reported; parties erased "
                "before it stay erased, and running the erasure again finishes it.",
                "Retention queries and listings read every mapped party (three or four "
                "JSON-RPC calls).",
                "An inactive party's deactivation date is Tryton's last change of it.",
            ),
        )

    def health(self) -> Health:
        """Return whether Tryton answers and the login works now; never raises."""
        try:
            domain = [("categories.name", "in", sorted(set(self._categories.values())))]
            count = self._client.call("model.party.party.search_count", domain, context=_ALL)
        except StoreError as error:
            return Health(False, str(error))
        except Exception as error:  # health never raises
            return Health(False, f"store {self.name!r}: {type(error).__name__}: {error}")
        return Health(True, f"{self._client.where}: {count} parties in the mapped categories")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Refuse: Tryton is where parties are created and changed.

        :raises StoreError: always (``items`` is not read); nothing is written.
        """
        raise StoreError(
            f"store {self.name!r} does not write items: create and change parties in Tryton "
            "(praclox-privacy reads, rectifies and erases them); nothing was written"
        )

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field.

        An id that is not of this store's form is answered without asking Tryton.
        """
        party = self._one(subject_id)
        return [] if party is None else [v.item for v in party.values]

    def all_items(self) -> list[Item]:
        """Return every item the mapped parties hold (three or four JSON-RPC calls).

        A party holding no value has no item, so it is not among
        :meth:`subject_ids` (:meth:`subjects` lists it).
        """
        return [v.item for p in self._parties(None, with_values=True) for v in p.values]

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase the items of ``keys`` in Tryton; missing keys are skipped.

        A party whose every item is named goes through ``party.erase`` (made inactive
        first), which anonymises it; other items are blanked (see :meth:`_blank`).

        :returns: how many of the keys named an item.
        :raises StoreError: for ``anonymise`` (not supported), or when Tryton refuses;
            what was erased before the failure stays erased (run it again to finish).
        """
        if action is not RetentionAction.ERASE:
            raise StoreError(
                f"store {self.name!r} cannot anonymise single items (Tryton's erasure "
                "anonymises whole parties): use erase; nothing was changed"
            )
        wanted = set(keys)
        ids = {self.party_id(k.subject_id) for k in wanted}
        parties = self._parties({i for i in ids if i is not None}, with_values=True)
        whole: list[_Party] = []
        blanks: list[tuple[_Party, list[_Value]]] = []
        count = 0
        for party in parties:
            named = [v for v in party.values if v.item.key in wanted]
            if not named:
                continue
            count += len(named)
            if len(named) == len(party.values):
                whole.append(party)
            else:
                blanks.append((party, named))
        if blanks:
            self._blank(blanks)
        if whole:
            self._erase_parties(whole)
        return count

    def _blank(self, blanks: list[tuple[_Party, list[_Value]]]) -> None:
        """Blank the values named, the way party.erase does.

        Each kind of record is changed in one Tryton transaction, on the records
        themselves, so an inactive party's last change (its deactivation date) stays.
        Tryton does not change an inactive party's own fields: blanking the name of an
        inactive party whose other values stay is refused before anything changes.
        """
        frozen = [
            p for p, values in blanks if not p.active and any(v.kind == "party" for v in values)
        ]
        if frozen:
            ids = ", ".join(p.subject.id for p in frozen)
            raise StoreError(
                f"store {self.name!r}: Tryton does not change the name of an inactive party "
                f"({ids}) while other data of it stays: erase all of its items (Tryton's "
                "party.erase) or make it active in Tryton first; nothing was changed"
            )
        blank: dict[str, dict[str, Any]] = {
            "contact": {
                "type": "other",
                "value": "****",
                "name": None,
                "comment": None,
                "active": False,
            },
            "identifier": {"type": None, "code": "****", "active": False},
        }
        changes: dict[str, dict[int, dict[str, Any]]] = {}
        for party, values in blanks:
            for value in values:
                if value.kind == "party":
                    changes.setdefault(_PARTY, {}).setdefault(party.id, {})["name"] = None
                elif value.kind == "address":
                    record = changes.setdefault(_MODELS["address"][0], {})
                    record.setdefault(value.record, {})[value.field] = None
                else:
                    record = changes.setdefault(_MODELS[value.kind][0], {})
                    record[value.record] = dict(blank[value.kind])
        for model in sorted(changes, key=lambda m: m == _PARTY):  # the parties' names last
            arguments: list[Any] = []
            for record_id, values_of in changes[model].items():
                arguments += [[record_id], values_of]
            self._client.call(f"model.{model}.write", *arguments, context=_ALL)

    def _erase_parties(self, parties: list[_Party]) -> None:
        """Make ``parties`` inactive, then run party.erase on each."""
        deactivated = [p.id for p in parties if p.active]
        if deactivated:
            self._client.call(
                "model.party.party.write", deactivated, {"active": False}, context=_ALL
            )
        for done, party in enumerate(parties):
            try:
                self._wizard_erase(party.id)
            except StoreError as error:
                left = [p.id for p in parties[done:] if p.id in deactivated]
                restored = self._reactivate(left)
                raise StoreError(
                    f"store {self.name!r}: Tryton's party.erase failed for party {party.id} "
                    f"({party.subject.id}): {error}"
                    + (f"; {done} parties before it were erased" if done else "")
                    + ("; it was made active again" if restored and left else "")
                    + "; run the erasure again to finish"
                ) from None

    def _wizard_erase(self, party_id: int) -> None:
        context = {"active_model": _PARTY, "active_id": party_id, "active_ids": [party_id]}
        created = self._client.call("wizard.party.erase.create", context=context)
        if not (isinstance(created, list) and created):
            raise TrytonError("party.erase could not be started")
        session = created[0]
        try:
            self._client.call(
                "wizard.party.erase.execute",
                session,
                {"ask": {"party": party_id}},
                "erase",
                context=context,
            )
        finally:
            with contextlib.suppress(StoreError):  # the wizard's session expires anyway
                self._client.call("wizard.party.erase.delete", session, context=context)

    def _reactivate(self, ids: list[int]) -> bool:
        if not ids:
            return True
        try:
            self._client.call("model.party.party.write", ids, {"active": True}, context=_ALL)
        except StoreError:
            return False
        return True

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key`` in Tryton; ``collected_at`` stays.

        Tryton checks the value as it checks its users' input (an e-mail address must be
        valid, a country must exist by its code).

        :returns: the item as Tryton holds it afterwards.
        :raises KeyError: when no such item exists.
        :raises StoreError: when Tryton refuses the value; nothing was changed.
        """
        party = self._one(key.subject_id)
        found = [v for v in party.values if v.item.key == key] if party is not None else []
        if party is None or not found:
            raise KeyError(f"no item {key} in store {self.name!r}")
        (held,) = found
        new: Any = value
        if held.kind == "address" and held.field == "country":
            new = self._country(value)
        model = _PARTY if held.kind == "party" else _MODELS[held.kind][0]
        self._client.call(f"model.{model}.write", [held.record], {held.field: new}, context=_ALL)
        after = self._one(key.subject_id)
        for current in after.values if after is not None else ():
            if current.item.key == key:
                return current.item
        return attrs.evolve(held.item, value=value)

    def _country(self, code: str) -> int:
        found = self._search_read("country.country", [("code", "=", code.strip().upper())], [])
        if not found:
            raise StoreError(
                f"store {self.name!r}: Tryton has no country with code {code!r}; nothing "
                "was changed"
            )
        return int(found[0]["id"])

    def close(self) -> None:
        """Log out and drop the connection."""
        self._client.close()

    # -- the SubjectSource protocol ------------------------------------------------------

    def find_subjects(self, kind: str, value: str) -> list[str]:
        """Return the ids of the mapped parties an identity points to, sorted.

        :param kind: ``email`` (a contact mechanism, compared ignoring case),
            ``party_code`` (the party's code) or ``subject_id``; other kinds find nothing.
        """
        value = value.strip()
        if not value:
            return []
        if kind == "subject_id":
            return [value] if self.subject(value) is not None else []
        if kind == "email":
            found = self._search_read(
                "party.contact_mechanism",
                [("type", "=", "email"), ("value", "ilike", value)],
                ["party", "value"],
            )
            wanted = value.casefold()
            ids = {
                int(r["party"])
                for r in found
                if isinstance(r.get("value"), str) and r["value"].strip().casefold() == wanted
            }
        elif kind == "party_code":
            found = self._search_read(_PARTY, [("code", "=", value)], [])
            ids = {int(r["id"]) for r in found}
        else:
            return []
        return sorted(p.subject.id for p in self._parties(ids, with_values=False))

    def subject(self, subject_id: str) -> Subject | None:
        """Return the party ``subject_id`` as a subject, or ``None``.

        An id that is not of this store's form is answered without asking Tryton.
        """
        party_id = self.party_id(subject_id)
        if party_id is None:
            return None
        found = self._parties([party_id], with_values=False)
        return found[0].subject if found else None

    def subjects(self) -> Iterator[Subject]:
        """Yield every mapped party as a subject, by Tryton id."""
        return iter([p.subject for p in self._parties(None, with_values=False)])
