"""Run praclox-privacy's store contract kit against the shelf store."""

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from praclox_privacy_shelf import ShelfSettings, register_stores

from praclox_privacy import Policy, default_policy
from praclox_privacy.ports import Store, StoreContext, StoreKind
from praclox_privacy.testing import StoreContract


def _shelf_kind() -> StoreKind:
    kinds: list[StoreKind] = []
    register_stores(kinds.append)  # what praclox-privacy does when it loads the plugin
    (kind,) = kinds
    return kind


class TestShelfStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy, tmp_path: Path) -> Iterator[Callable[[], Store]]:
        kind = _shelf_kind()
        numbers = itertools.count()
        made: list[Store] = []

        def make() -> Store:
            settings = ShelfSettings(path=f"shelf-{next(numbers)}.sqlite3")
            made.append(kind.factory(settings, StoreContext(policy, "main", str(tmp_path))))
            return made[-1]

        yield make
        for store in made:
            store.close()


def test_the_file_is_relative_to_the_workspace(tmp_path: Path) -> None:
    context = StoreContext(default_policy(), "main", str(tmp_path))
    _shelf_kind().factory(ShelfSettings("data/x.sqlite3"), context).close()
    assert (tmp_path / "data" / "x.sqlite3").is_file()
