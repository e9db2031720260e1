"""The contract kit itself: a store may narrow the categories it holds.

``TestNamesAndLifeEvents`` runs the whole kit against a store that refuses every category
but two. ``kit_run`` runs it again in a fresh pytest, beside a store of one category (some
scenarios cannot run without another category and are skipped, naming it) and the same
two-category store without ``categories`` (which fails: the narrowing is what lets it
pass), and the tests below check each scenario's outcome and skip reason.
"""

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from praclox_privacy import Policy, default_policy
from praclox_privacy.domain.records import Item
from praclox_privacy.ports import RelationTypesOf, Store, WriteRefused, check_storable
from praclox_privacy.stores.memory import MemoryStore
from praclox_privacy.testing import StoreContract

NAMES_AND_LIFE_EVENTS = frozenset({"life_events", "person_name"})


class HeldOnlyStore(MemoryStore):
    """A memory store that holds only some categories and refuses the others."""

    def __init__(self, policy: Policy, held: frozenset[str]) -> None:
        super().__init__(policy, name="held-only")
        self.held = held

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        batch = list(items)
        for index, item in enumerate(batch):  # the policy first, then what it holds
            reason = check_storable(item, relation_types(item.subject_id), self._policy)
            if reason is None and item.category not in self.held:
                reason = f"store {self.name!r} does not hold category {item.category!r}"
            if reason is not None:
                raise WriteRefused(index, item.key, reason)
        return super().write(batch, relation_types)


class TestNamesAndLifeEvents(StoreContract):
    categories = NAMES_AND_LIFE_EVENTS

    @pytest.fixture
    def make_store(self, policy: Policy) -> Callable[[], Store]:
        return lambda: HeldOnlyStore(policy, NAMES_AND_LIFE_EVENTS)


def test_the_held_only_store_refuses_other_categories() -> None:
    store = HeldOnlyStore(default_policy(), NAMES_AND_LIFE_EVENTS)
    at = datetime(2026, 1, 15, tzinfo=UTC)
    name = Item("person-1", "person_name", "name", "Jan", at)
    address = Item("client-1", "office_address", "city", "Utrecht", at)
    with pytest.raises(WriteRefused, match="does not hold category 'office_address'") as info:
        store.write([name, address], lambda _: frozenset({"client", "contact_person"}))
    assert info.value.index == 1
    assert store.all_items() == []


# -- the kit run in a fresh pytest --------------------------------------------------------

_KIT_RUN = """
import sys

import pytest

sys.path.insert(0, {unit_dir!r})

from test_contract_kit import NAMES_AND_LIFE_EVENTS, HeldOnlyStore, TestNamesAndLifeEvents
from praclox_privacy.testing import StoreContract


class TestApplicationsOnly(StoreContract):
    categories = {{"application"}}  # any collection of names; kept as a frozenset

    @pytest.fixture
    def make_store(self, policy):
        return lambda: HeldOnlyStore(policy, frozenset(self.categories))


class TestNotNarrowed(StoreContract):
    @pytest.fixture
    def make_store(self, policy):
        return lambda: HeldOnlyStore(policy, NAMES_AND_LIFE_EVENTS)
"""

_SCENARIOS = sorted(n for n in dir(StoreContract) if n.startswith("test_"))


def _outcomes(junit: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """Return, per test class, each scenario's outcome and its skip or failure message."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("skipped", "failure", "error"):
                outcome, message = child.tag, child.get("message", "")
        cls = case.get("classname", "").rpartition(".")[2]
        found.setdefault(cls, {})[case.get("name", "")] = (outcome, message)
    return found


@pytest.fixture(scope="module")
def kit_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("kit")
    (folder / "test_narrowed_kit.py").write_text(
        textwrap.dedent(_KIT_RUN).format(unit_dir=str(Path(__file__).parent))
    )
    junit = folder / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         f"--junitxml={junit}", "test_narrowed_kit.py"],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert junit.exists(), run.stdout + run.stderr
    return _outcomes(junit)


def test_a_narrowed_store_passes_every_scenario(
    kit_run: dict[str, dict[str, tuple[str, str]]],
) -> None:
    results = kit_run["TestNamesAndLifeEvents"]
    assert sorted(results) == _SCENARIOS
    assert {name: r for name, r in results.items() if r[0] != "passed"} == {}


def test_scenarios_that_need_another_category_skip_naming_it(
    kit_run: dict[str, dict[str, tuple[str, str]]],
) -> None:
    results = kit_run["TestApplicationsOnly"]
    assert sorted(results) == _SCENARIOS
    skipped = {name: message for name, (outcome, message) in results.items() if outcome != "passed"}
    assert {name: results[name][0] for name in skipped} == dict.fromkeys(skipped, "skipped")
    assert sorted(skipped) == [
        "test_erasing_a_subject_never_touches_another",
        "test_find_due_by_category_and_subject",
        "test_refuses_category_undeclared_for_relation_type",
    ]
    assert (
        "needs category 'life_events'"
        in skipped["test_refuses_category_undeclared_for_relation_type"]
    )
    assert "holds only application" in skipped["test_refuses_category_undeclared_for_relation_type"]
    assert (
        "needs one of the categories office_identity, person_name"
        in skipped["test_find_due_by_category_and_subject"]
    )
    assert "needs items of two subjects" in skipped["test_erasing_a_subject_never_touches_another"]
    # The refusals still run (S11, unknown categories, unregistered subjects), and so does
    # the stateful comparison, on applications only.
    for scenario in (
        "test_S11_refuses_ephemeral_category_and_writes_nothing",
        "test_refuses_category_the_policy_does_not_know",
        "test_refuses_unregistered_subject",
        "test_behaves_like_the_reference_store",
    ):
        assert results[scenario] == ("passed", "")


def test_without_categories_the_same_store_fails(
    kit_run: dict[str, dict[str, tuple[str, str]]],
) -> None:
    results = kit_run["TestNotNarrowed"]
    outcome, message = results["test_write_and_read_back"]
    assert outcome == "failure"
    assert "does not hold category" in message
    assert results["test_behaves_like_the_reference_store"][0] == "failure"


# -- checking the attribute -----------------------------------------------------------


def test_categories_are_kept_as_a_frozenset() -> None:
    narrowed = type("Narrowed", (StoreContract,), {"categories": ["person_name", "life_events"]})
    assert narrowed.categories == NAMES_AND_LIFE_EVENTS
    assert isinstance(narrowed.categories, frozenset)
    assert StoreContract.categories is None


@pytest.mark.parametrize(
    ("categories", "error"),
    [("person_name", TypeError), (42, TypeError), ([1], TypeError), (frozenset(), ValueError)],
)
def test_categories_must_name_categories(categories: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="categories must"):
        type("Narrowed", (StoreContract,), {"categories": categories})
