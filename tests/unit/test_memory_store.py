import importlib
from collections.abc import Callable

import pytest

from praclox_privacy import Policy, default_policy
from praclox_privacy.ports import ReadsAll, ScanningStore, Store
from praclox_privacy.stores.memory import MemoryStore
from praclox_privacy.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy) -> Callable[[], Store]:
        return lambda: MemoryStore(policy)


@pytest.mark.parametrize(
    ("client", "module", "name"),
    [
        (None, "praclox_privacy.stores.memory", "MemoryStore"),
        ("caldav", "praclox_privacy.stores.caldav.store", "CalDavStore"),
        ("httpx", "praclox_privacy.stores.tryton.store", "TrytonStore"),
    ],
)
def test_scanning_stores_inherit_their_scans(client: str | None, module: str, name: str) -> None:
    if client is not None:
        pytest.importorskip(client)
    store_class = getattr(importlib.import_module(module), name)
    assert issubclass(store_class, ScanningStore)
    own = {"subject_ids", "categories_held", "find_due", "erase_due"} & set(vars(store_class))
    assert own == set(), f"{name} writes its own {', '.join(sorted(own))}"


def test_the_memory_store_reads_all() -> None:
    store = MemoryStore(default_policy())
    assert isinstance(store, Store)
    assert isinstance(store, ReadsAll)
    assert store.all_items() == []
