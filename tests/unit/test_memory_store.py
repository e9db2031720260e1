from collections.abc import Callable

import pytest

from praclox_privacy import Policy
from praclox_privacy.ports import Store
from praclox_privacy.stores.memory import MemoryStore
from praclox_privacy.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def make_store(self, policy: Policy) -> Callable[[], Store]:
        return lambda: MemoryStore(policy)
