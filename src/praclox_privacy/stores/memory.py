"""The ``memory`` store: the reference implementation of the store contract.

It keeps items in a dict, is fully transactional, and doubles as the fake in unit tests
and as the model the contract kit's stateful test compares other stores with.
"""

from collections.abc import Callable, Iterable

import attrs

from ..domain.policy import Policy, RetentionAction
from ..domain.records import Item, ItemKey
from ..hookspecs import hookimpl
from ..ports import (
    ANONYMISED,
    Capabilities,
    Health,
    RelationTypesOf,
    ScanningStore,
    StoreContext,
    StoreKind,
    WriteRefused,
    check_storable,
)

__all__ = ["MemorySettings", "MemoryStore"]


@attrs.frozen
class MemorySettings:
    """The memory store has no settings."""


class MemoryStore(ScanningStore):
    """Items in a dict, keyed by :class:`ItemKey`.

    Its listings and due queries are :class:`~praclox_privacy.ports.ScanningStore`'s
    scans of :meth:`all_items`: a dict is read whole anyway.
    """

    def __init__(self, policy: Policy, name: str = "memory") -> None:
        self.name = name
        self._policy = policy
        self._items: dict[ItemKey, Item] = {}

    def capabilities(self) -> Capabilities:
        """Return what this store supports: everything."""
        return Capabilities(notes=("Holds data only as long as the process runs.",))

    def health(self) -> Health:
        """Return that the store is usable."""
        return Health(True, f"{len(self._items)} items in memory")

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items`` all or nothing; see :meth:`praclox_privacy.ports.Store.write`."""
        staged: dict[ItemKey, Item] = {}
        count = 0
        for index, item in enumerate(items):
            reason = check_storable(item, relation_types(item.subject_id), self._policy)
            if reason is not None:
                raise WriteRefused(index, item.key, reason)
            staged[item.key] = item
            count += 1
        self._items.update(staged)
        return count

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field."""
        found = [i for k, i in self._items.items() if k.subject_id == subject_id]
        return sorted(found, key=lambda i: (i.category, i.field))

    def all_items(self) -> list[Item]:
        """Return every item the store holds."""
        return list(self._items.values())

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase or anonymise the items with ``keys``; return how many."""
        count = 0
        for key in set(keys):
            item = self._items.get(key)
            if item is None:
                continue
            if action is RetentionAction.ERASE:
                del self._items[key]
            else:
                self._items[key] = attrs.evolve(item, value=ANONYMISED)
            count += 1
        return count

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of item ``key``; ``collected_at`` stays (retention runs on)."""
        try:
            item = self._items[key]
        except KeyError:
            raise KeyError(f"no item {key} in store {self.name!r}") from None
        rectified = attrs.evolve(item, value=value)
        self._items[key] = rectified
        return rectified

    def close(self) -> None:
        """Nothing to release."""


def _factory(settings: MemorySettings, context: StoreContext) -> MemoryStore:
    return MemoryStore(context.policy, context.name)


@hookimpl
def register_stores(register: "Callable[[StoreKind], None]") -> None:
    """Offer the ``memory`` store kind."""
    register(
        StoreKind(
            name="memory",
            factory=_factory,
            settings_type=MemorySettings,
            description="Items in the process's memory; the contract's reference store.",
        )
    )
