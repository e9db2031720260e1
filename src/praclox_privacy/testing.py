"""The store contract kit: the same scenarios for every store, built-in or third-party.

Install ``praclox-privacy[testing]`` and subclass :class:`StoreContract` in your test suite,
providing a ``make_store`` fixture that returns a callable building a fresh, empty store
for the policy it is given::

    import pytest
    from praclox_privacy.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def make_store(self, policy, tmp_path):
            counter = iter(range(1_000_000))
            return lambda: MyStore(policy, tmp_path / f"store-{next(counter)}")

pytest then runs every scenario below against the store, plus a hypothesis stateful test
that compares it with the in-memory reference store after random sequences of writes,
erasures and rectifications. A scenario that needs a capability the store declares it
lacks (:class:`~praclox_privacy.ports.Capabilities`) is skipped with that reason.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from .domain.policy import Policy, RetentionAction
from .domain.records import Item, ItemKey
from .formats.policy import default_policy
from .ports import ANONYMISED, DueQuery, ErasedItems, Store, StoreError, WriteRefused
from .stores.memory import MemoryStore

__all__ = ["SUBJECTS", "StoreContract", "make_item", "relation_types_of"]

SUBJECTS: dict[str, frozenset[str]] = {
    "client-1": frozenset({"client"}),
    "client-2": frozenset({"client"}),
    "person-1": frozenset({"contact_person"}),
    "person-2": frozenset({"contact_person", "website_user"}),
    "applicant-1": frozenset({"applicant"}),
}
"""The subjects the scenarios use, with their relation types (Praclox's policy)."""

_T0 = datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)

_CATEGORIES: dict[str, tuple[str, ...]] = {
    "client-1": ("office_identity", "office_contact", "invoicing_records"),
    "client-2": ("office_identity", "office_address"),
    "person-1": ("person_name", "person_contact", "life_events"),
    "person-2": ("person_name", "website_account"),
    "applicant-1": ("application",),
}


def relation_types_of(subject_id: str) -> frozenset[str]:
    """Return the relation types of the kit's subjects (empty for any other id)."""
    return SUBJECTS.get(subject_id, frozenset())


def make_item(
    subject_id: str,
    category: str,
    field: str,
    value: str = "value",
    collected_at: datetime = _T0,
    purposes: tuple[str, ...] = (),
) -> Item:
    """Build an item, with a fixed collection instant unless given."""
    return Item(subject_id, category, field, value, collected_at, purposes)


def _sample() -> list[Item]:
    return [
        make_item("client-1", "office_identity", "name", "Kantoor De Vries B.V."),
        make_item("client-1", "office_contact", "email", "info@devries.example"),
        make_item(
            "client-1",
            "invoicing_records",
            "invoice-2026-001",
            "EUR 1.250,00",
            _T0 + timedelta(days=3),
        ),
        make_item("client-2", "office_identity", "name", "Praktijk 't Hoekje"),
        make_item("person-1", "person_name", "name", "Jan Jansen"),
        make_item(
            "person-1",
            "life_events",
            "birthday",
            "1980-02-29",
            _T0 + timedelta(days=30),
            ("congratulations",),
        ),
        make_item("person-2", "person_name", "name", "Zoë Ørsted-Łukasiewicz ✓"),
        make_item("person-2", "website_account", "email", "zoe@example.org"),
        make_item(
            "applicant-1",
            "application",
            "cv",
            "line one\nline two, \"quoted\" 'x'",
            _T0 - timedelta(days=40),
        ),
    ]


def _keys(items: list[Item]) -> set[ItemKey]:
    return {i.key for i in items}


class StoreContract:
    """Scenarios every store passes. Subclass it as ``Test...`` and provide ``make_store``.

    Fixtures you may override: ``policy`` (default: Praclox's shipped policy). Fixture you
    must provide: ``make_store``, a callable returning a fresh, empty store each call.
    """

    #: Stateful-test budget; raise it in a nightly job.
    stateful_examples: int = 20
    stateful_steps: int = 12

    @pytest.fixture
    def policy(self) -> Policy:
        """The policy stores are built with: Praclox's shipped policy."""
        return default_policy()

    @pytest.fixture
    def make_store(self, policy: Policy) -> Callable[[], Store]:
        """Return a callable building a fresh, empty store; subclasses must override."""
        raise NotImplementedError("a StoreContract subclass must define the make_store fixture")

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Iterator[Store]:
        """A fresh, empty store for one scenario, closed afterwards."""
        s = make_store()
        yield s
        s.close()

    @staticmethod
    def _require(store: Store, *capabilities: str) -> None:
        caps = store.capabilities()
        for capability in capabilities:
            if not getattr(caps, capability):
                notes = "; ".join(caps.notes) or "no reason given"
                pytest.skip(f"store {store.name!r} does not support {capability}: {notes}")

    # -- writing and reading -----------------------------------------------------------

    def test_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.name, str)
        assert store.name

    def test_health_and_capabilities(self, store: Store) -> None:
        health = store.health()
        assert health.ok, health.detail
        assert isinstance(health.detail, str)
        caps = store.capabilities()
        assert all(isinstance(n, str) for n in caps.notes)

    def test_empty_store(self, store: Store) -> None:
        assert list(store.subject_ids()) == []
        assert store.items_of("client-1") == []
        assert dict(store.categories_held()) == {}

    def test_write_and_read_back(self, store: Store) -> None:
        self._require(store, "write")
        items = _sample()
        assert store.write(items, relation_types_of) == len(items)
        for subject in SUBJECTS:
            expected = sorted(
                (i for i in items if i.subject_id == subject), key=lambda i: (i.category, i.field)
            )
            assert store.items_of(subject) == expected
        assert sorted(store.subject_ids()) == sorted(SUBJECTS)
        assert dict(store.categories_held()) == {
            "office_identity": 2,
            "office_contact": 1,
            "invoicing_records": 1,
            "person_name": 2,
            "life_events": 1,
            "website_account": 1,
            "application": 1,
        }

    def test_write_accepts_a_generator(self, store: Store) -> None:
        self._require(store, "write")
        assert store.write((i for i in _sample()), relation_types_of) == len(_sample())
        assert store.write(iter(()), relation_types_of) == 0

    def test_same_key_replaces(self, store: Store) -> None:
        self._require(store, "write")
        store.write([make_item("person-1", "person_name", "name", "old")], relation_types_of)
        later = _T0 + timedelta(hours=1)
        store.write([make_item("person-1", "person_name", "name", "new", later)], relation_types_of)
        assert store.items_of("person-1") == [
            make_item("person-1", "person_name", "name", "new", later)
        ]

    def test_instants_keep_their_moment_across_time_zones(self, store: Store) -> None:
        self._require(store, "write")
        amsterdam = timezone(timedelta(hours=2))
        at = datetime(2026, 7, 1, 23, 15, 7, 250000, tzinfo=amsterdam)
        store.write([make_item("person-1", "person_name", "name", "x", at)], relation_types_of)
        (item,) = store.items_of("person-1")
        assert item.collected_at == at
        assert item.collected_at.utcoffset() is not None

    # -- refusals (S11 and undeclared categories) ----------------------------------------

    def test_S11_refuses_ephemeral_category_and_writes_nothing(self, store: Store) -> None:
        self._require(store, "write")
        batch = [*_sample()[:3], make_item("person-1", "search_parameters", "query", "x")]
        with pytest.raises(WriteRefused) as info:
            store.write(batch, relation_types_of)
        assert info.value.index == 3
        assert "search_parameters" in str(info.value)
        assert "person-1" in str(info.value)
        assert list(store.subject_ids()) == []

    def test_refuses_category_undeclared_for_relation_type(self, store: Store) -> None:
        self._require(store, "write")
        store.write(_sample()[:2], relation_types_of)
        before = store.items_of("client-1")
        with pytest.raises(WriteRefused) as info:
            store.write(
                [
                    make_item("client-1", "office_address", "city", "Utrecht"),
                    make_item("applicant-1", "life_events", "birthday", "1990-01-01"),
                ],
                relation_types_of,
            )
        message = str(info.value)
        assert info.value.index == 1
        assert "life_events" in message
        assert "applicant" in message
        assert store.items_of("client-1") == before
        assert store.items_of("applicant-1") == []

    def test_refuses_unregistered_subject(self, store: Store) -> None:
        self._require(store, "write")
        with pytest.raises(WriteRefused, match="stranger"):
            store.write([make_item("stranger", "person_name", "name", "x")], relation_types_of)
        assert list(store.subject_ids()) == []

    def test_refuses_category_the_policy_does_not_know(self, store: Store) -> None:
        self._require(store, "write")
        with pytest.raises(WriteRefused, match="shoe_size"):
            store.write([make_item("person-1", "shoe_size", "size", "44")], relation_types_of)

    # -- erasure -----------------------------------------------------------------------

    def test_erase_only_the_keys_given(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = _sample()
        store.write(items, relation_types_of)
        gone = [items[0].key, items[4].key, ItemKey("client-1", "office_identity", "nope")]
        assert store.erase(gone, RetentionAction.ERASE) == 2
        left = {k for s in SUBJECTS for k in _keys(store.items_of(s))}
        assert left == _keys(items) - set(gone)

    def test_erase_counts_each_item_once(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = _sample()
        store.write(items, relation_types_of)
        keys = [items[4].key, items[4].key, items[5].key]
        assert store.erase(keys, RetentionAction.ERASE) == 2
        assert store.items_of("person-1") == []

    def test_erasing_a_subject_never_touches_another(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = _sample()
        store.write(items, relation_types_of)
        others = {s: store.items_of(s) for s in SUBJECTS if s != "person-2"}
        keys = [i.key for i in store.items_of("person-2")]
        assert store.erase(keys, RetentionAction.ERASE) == len(keys)
        assert store.items_of("person-2") == []
        assert {s: store.items_of(s) for s in others} == others

    def test_anonymise_keeps_the_item_with_a_placeholder(self, store: Store) -> None:
        self._require(store, "anonymise")
        items = _sample()
        store.write(items, relation_types_of)
        key = items[1].key
        assert store.erase([key], RetentionAction.ANONYMISE) == 1
        (item,) = [i for i in store.items_of("client-1") if i.key == key]
        assert item.value == ANONYMISED
        assert items[1].value not in repr(store.items_of("client-1"))
        # An anonymised item is not due again.
        query = DueQuery({"office_contact"})
        assert list(store.find_due(query)) == []
        assert store.erase_due(query, RetentionAction.ANONYMISE) == ErasedItems(0, ())

    # -- pushed-down retention queries ---------------------------------------------------

    def test_find_due_by_category_and_subject(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        items = _sample()
        store.write(items, relation_types_of)
        query = DueQuery({"person_name", "office_identity"}, {"person-2", "client-1"})
        expected = {i.key for i in items if query.matches(i)}
        assert set(store.find_due(query)) == expected
        assert len(expected) == 2

    def test_find_due_by_collection_instant(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        items = _sample()
        store.write(items, relation_types_of)
        query = DueQuery(
            {"application", "invoicing_records", "life_events"},
            collected_before=_T0 + timedelta(days=3),
        )
        assert set(store.find_due(query)) == {items[8].key}
        boundary = DueQuery({"invoicing_records"}, collected_before=_T0 + timedelta(days=3))
        assert list(store.find_due(boundary)) == []  # strictly before

    def test_find_due_with_no_subjects_matches_nothing(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        store.write(_sample(), relation_types_of)
        assert list(store.find_due(DueQuery({"person_name"}, set()))) == []

    def test_erase_due_is_exactly_find_due(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = _sample()
        store.write(items, relation_types_of)
        query = DueQuery(
            {"person_name", "application", "office_identity"},
            {"person-1", "applicant-1", "client-2"},
        )
        due = set(store.find_due(query))
        erased = store.erase_due(query, RetentionAction.ERASE)
        assert erased == ErasedItems(len(due), {k.subject_id for k in due})
        assert erased.count == 3
        left = {k for s in SUBJECTS for k in _keys(store.items_of(s))}
        assert left == _keys(items) - due

    # -- rectification -----------------------------------------------------------------

    def test_rectify_replaces_the_value_only(self, store: Store) -> None:
        self._require(store, "write", "rectify")
        items = _sample()
        store.write(items, relation_types_of)
        rectified = store.rectify(items[4].key, "Jan Janssen")
        assert rectified.value == "Jan Janssen"
        assert rectified.collected_at == items[4].collected_at
        assert [i for i in store.items_of("person-1") if i.key == items[4].key] == [rectified]

    def test_rectify_unknown_item_is_a_key_error(self, store: Store) -> None:
        self._require(store, "rectify")
        with pytest.raises(KeyError):
            store.rectify(ItemKey("person-1", "person_name", "name"), "x")

    # -- the stateful comparison with the reference store -------------------------------

    def test_behaves_like_the_reference_store(
        self, make_store: Callable[[], Store], policy: Policy
    ) -> None:
        probe = make_store()
        caps = probe.capabilities()
        probe.close()
        if not (caps.write and caps.erase and caps.rectify and caps.find_due):
            pytest.skip("the stateful comparison needs write, erase, rectify and find_due")
        machine = _comparison_machine(make_store, policy, caps.anonymise)
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=self.stateful_examples,
                stateful_step_count=self.stateful_steps,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            ),
        )


def _pick_category(subject: str, pick: int) -> str:
    choices = _CATEGORIES.get(subject, ("person_name",))
    return choices[pick % len(choices)]


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
_ITEMS = st.builds(
    lambda subject, pick, field, value, minutes: make_item(
        subject, _pick_category(subject, pick), field, value, _T0 + timedelta(minutes=minutes)
    ),
    st.sampled_from([*SUBJECTS, "stranger"]),
    st.integers(0, 10),
    st.sampled_from(["name", "email", "Name", "birthday", "cv", "note "]),
    _TEXT,
    st.integers(-10_000, 10_000),
)


def _comparison_machine(
    make_store: Callable[[], Store], policy: Policy, anonymise: bool
) -> type[RuleBasedStateMachine]:
    actions = (
        [RetentionAction.ERASE, RetentionAction.ANONYMISE] if anonymise else [RetentionAction.ERASE]
    )

    class Comparison(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = MemoryStore(policy, name="reference")
            self.store: Store | None = None

        @initialize()
        def open_store(self) -> None:
            self.store = make_store()

        def teardown(self) -> None:
            if self.store is not None:
                self.store.close()

        def _both(self, call: Callable[[Store], Any]) -> None:
            assert self.store is not None
            expected: Any
            try:
                expected = call(self.model)
            except (StoreError, KeyError) as exc:
                expected = type(exc)
            try:
                actual = call(self.store)
            except (StoreError, KeyError) as exc:
                actual = type(exc)
            assert actual == expected

        @rule(batch=st.lists(_ITEMS, max_size=8))
        def write(self, batch: list[Item]) -> None:
            self._both(lambda s: s.write(batch, relation_types_of))

        @rule(subject=st.sampled_from(list(SUBJECTS)), data=st.data())
        def erase_some(self, subject: str, data: st.DataObject) -> None:
            keys = [i.key for i in self.model.items_of(subject)]
            chosen = data.draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
            action = data.draw(st.sampled_from(actions))
            self._both(lambda s: s.erase(chosen, action))

        @rule(
            categories=st.sets(
                st.sampled_from(sorted({c for cs in _CATEGORIES.values() for c in cs})), min_size=1
            ),
            subjects=st.none() | st.sets(st.sampled_from(list(SUBJECTS))),
            minutes=st.none() | st.integers(-10_000, 10_000),
            action=st.sampled_from(actions),
        )
        def erase_due(
            self,
            categories: set[str],
            subjects: set[str] | None,
            minutes: int | None,
            action: RetentionAction,
        ) -> None:
            before = None if minutes is None else _T0 + timedelta(minutes=minutes)
            query = DueQuery(categories, subjects, before)
            self._both(lambda s: sorted(s.find_due(query), key=str))
            self._both(lambda s: s.erase_due(query, action))

        @rule(subject=st.sampled_from(list(SUBJECTS)), value=_TEXT, data=st.data())
        def rectify(self, subject: str, value: str, data: st.DataObject) -> None:
            keys = [i.key for i in self.model.items_of(subject)]
            key = data.draw(st.sampled_from(keys)) if keys else ItemKey(subject, "x", "y")
            self._both(lambda s: s.rectify(key, value))

        @invariant()
        def same_contents(self) -> None:
            if self.store is None:
                return
            for subject in SUBJECTS:
                assert self.store.items_of(subject) == self.model.items_of(subject)
            assert dict(self.store.categories_held()) == dict(self.model.categories_held())
            assert sorted(self.store.subject_ids()) == sorted(self.model.subject_ids())

    return Comparison
