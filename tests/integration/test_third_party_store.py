"""A third-party store, installed from examples/, found through its entry point and run
through the contract kit like a built-in one."""

import importlib.util
import itertools
from collections.abc import Callable, Iterator

import pytest

from conftest import missing
from praclox_privacy import Policy
from praclox_privacy.plugins import installed_plugins, make_plugin_manager, store_kinds
from praclox_privacy.ports import Store, StoreContext, StoreKind
from praclox_privacy.testing import StoreContract

if importlib.util.find_spec("praclox_privacy_shelf") is None:
    missing(
        "praclox_privacy_shelf is not installed: install examples/praclox-privacy-shelf",
        module_level=True,
    )


@pytest.fixture(scope="module")
def shelf_kind() -> StoreKind:
    return store_kinds(make_plugin_manager())["shelf"]


def test_shelf_is_found_through_its_entry_point() -> None:
    pm = make_plugin_manager()
    assert "shelf" in store_kinds(pm)
    plugin = pm.get_plugin("shelf")  # the entry point's name
    assert plugin is not None
    assert plugin.__name__ == "praclox_privacy_shelf"
    dists = {p.distribution for p in installed_plugins() if p.name == "shelf"}
    assert dists == {"praclox-privacy-shelf"}


def test_shelf_is_not_there_without_entry_points() -> None:
    assert "shelf" not in store_kinds(make_plugin_manager(load_entrypoints=False))


class TestShelfStore(StoreContract):
    @pytest.fixture
    def make_store(
        self, policy: Policy, tmp_path, shelf_kind: StoreKind
    ) -> Iterator[Callable[[], Store]]:
        numbers = itertools.count()
        made: list[Store] = []

        def make() -> Store:
            settings = shelf_kind.settings_type(path=f"shelf-{next(numbers)}.sqlite3")
            made.append(shelf_kind.factory(settings, StoreContext(policy, "main", str(tmp_path))))
            return made[-1]

        yield make
        for store in made:
            store.close()
