"""Write a store plugin: a store kind of one's own, registered with ``@hookimpl``.

A real plugin lives in its own package and is found through an entry point in the
``praclox_privacy`` group (see examples/praclox-privacy-shelf and docs/plugins.md). Here
the plugin is an object handed to ``make_plugin_manager(plugins=[...])``, and the store
is a small dict-backed one that keeps the store contract: it refuses what the policy does
not allow (``check_storable``). It derives from ``ScanningStore``: it writes
``all_items`` and the rest of the contract, and inherits ``subject_ids``,
``categories_held``, ``find_due`` and ``erase_due``, which scan ``all_items`` (due items
are those ``DueQuery.matches``). A store whose backend can select (SQL, a search API)
writes those four itself instead.
"""

import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from praclox_privacy import Item, ItemKey, Policy, RetentionAction, hookimpl
from praclox_privacy.plugins import make_plugin_manager
from praclox_privacy.ports import (
    ANONYMISED,
    CONFIG_NAME,
    Capabilities,
    Health,
    RelationTypesOf,
    ScanningStore,
    StoreContext,
    StoreKind,
    WriteRefused,
    check_storable,
)
from praclox_privacy.services.sweep import run_sweep
from praclox_privacy.services.workspace import Workspace


@attrs.frozen
class NotebookSettings:
    """The keys of a ``[stores.<name>]`` table with ``plugin = "notebook"``."""

    owner: str = "office"


class NotebookStore(ScanningStore):
    """Items in a dict: what a CRM or agenda integration would keep elsewhere."""

    def __init__(self, policy: Policy, name: str, owner: str) -> None:
        self.name = name
        self.owner = owner
        self._policy = policy
        self._items: dict[ItemKey, Item] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(transactional=False, notes=("An example: items live in memory.",))

    def health(self) -> Health:
        return Health(True, f"{self.owner}'s notebook: {len(self._items)} items")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        staged = {}
        for index, item in enumerate(items):  # all or nothing
            reason = check_storable(item, relation_types(item.subject_id), self._policy)
            if reason is not None:
                raise WriteRefused(index, item.key, reason)
            staged[item.key] = item
        self._items.update(staged)
        return len(staged)

    def items_of(self, subject_id: str) -> list[Item]:
        found = [i for i in self._items.values() if i.subject_id == subject_id]
        return sorted(found, key=lambda i: (i.category, i.field))

    def all_items(self) -> list[Item]:  # what ScanningStore scans
        return list(self._items.values())

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        count = 0
        for key in set(keys) & self._items.keys():
            if action is RetentionAction.ERASE:
                del self._items[key]
            else:
                self._items[key] = attrs.evolve(self._items[key], value=ANONYMISED)
            count += 1
        return count

    def rectify(self, key: ItemKey, value: str) -> Item:
        self._items[key] = attrs.evolve(self._items[key], value=value)
        return self._items[key]

    def close(self) -> None:
        pass


class NotebookPlugin:
    """The plugin: offers the ``notebook`` store kind."""

    @hookimpl
    def register_stores(self, register: Callable[[StoreKind], None]) -> None:
        def factory(settings: NotebookSettings, context: StoreContext) -> NotebookStore:
            return NotebookStore(context.policy, context.name, settings.owner)

        register(StoreKind("notebook", factory, NotebookSettings, "An example store."))


COLLECTED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

with tempfile.TemporaryDirectory(prefix="praclox-example-") as tmp:
    root = Path(tmp) / "workspace"
    Workspace.init(root)
    config = root / CONFIG_NAME
    config.write_text(
        config.read_text() + '\n[stores.notes]\nplugin = "notebook"\nowner = "Erik"\n'
    )
    plugins = make_plugin_manager(plugins=[NotebookPlugin()])
    with Workspace.open(root, plugin_manager=plugins, clock=lambda: COLLECTED) as ws:
        print(f"stores: {', '.join(ws.store_names)}; notes: {ws.store('notes').health().detail}")
        ws.add_subject(["website_user"], subject_id="web-1")
        ws.write([Item("web-1", "website_account", "email", "w@example.nl", COLLECTED)], "notes")
        try:
            ws.write([Item("web-1", "life_events", "birthday", "05-17", COLLECTED)], "notes")
        except WriteRefused as exc:
            print(f"the notebook refused: {exc.reason}")
        ws.record_event("web-1", "account_closed", CLOSED)
        report = run_sweep(ws, CLOSED + timedelta(days=40))
        print(
            f"sweep erased {report.total} item(s) in: {', '.join(e.store for e in report.erased)}"
        )
        print(f"notes: {ws.store('notes').health().detail}")
