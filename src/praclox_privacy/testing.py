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

A store that holds only some of the policy's categories (a CRM mapping names and e-mail
addresses, an agenda holding life events) says which in the class attribute
:attr:`StoreContract.categories`::

    class TestMyAgenda(StoreContract):
        categories = frozenset({"life_events", "person_name"})

Every scenario then writes and queries only items of those categories and expects what
it wrote; a scenario that cannot run without another category is skipped, naming it.
"""

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

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


def _kit_sample() -> list[Item]:
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


def _pick(
    items: list[Item], subject: str, category: str, besides: Collection[ItemKey] = ()
) -> Item | None:
    """Return the item of ``subject`` and ``category`` in ``items``, else the first other.

    Items whose keys are in ``besides`` are passed over; ``None`` when none is left. With
    the whole sample the item asked for is always there, so a scenario checks just what
    it checked before stores could narrow their categories.
    """
    left = [i for i in items if i.key not in besides]
    wanted = [i for i in left if (i.subject_id, i.category) == (subject, category)]
    return next(iter(wanted or left), None)


def _like(items: list[Item], subject: str, category: str) -> Item:
    """Return :func:`_pick`'s item; ``items`` is not empty."""
    item = _pick(items, subject, category)
    assert item is not None, "the scenario's items are not empty"
    return item


def _subject(items: list[Item], preferred: str) -> str:
    """Return ``preferred`` when it holds one of ``items``, else the first item's subject."""
    subjects = [i.subject_id for i in items]
    return preferred if preferred in subjects else subjects[0]


def _names(categories: Iterable[str]) -> str:
    return ", ".join(sorted(categories))


class StoreContract:
    """Scenarios every store passes. Subclass it as ``Test...`` and provide ``make_store``.

    Fixtures you may override: ``policy`` (default: Praclox's shipped policy). Fixture you
    must provide: ``make_store``, a callable returning a fresh, empty store each call.

    Class attributes you may set: :attr:`categories`, for a store that holds only some
    categories, and the stateful test's budget, ``stateful_examples`` and
    ``stateful_steps``.
    """

    categories: ClassVar[frozenset[str] | None] = None
    """The categories the store holds; ``None`` (the default): every category of the policy.

    When set, every scenario writes and queries only items of these categories: the kit's
    sample is narrowed to them, the stateful comparison generates only them, and each
    scenario expects what it wrote (``categories_held`` counts the items written, say). An
    item a scenario needs of a category the store does not hold is replaced by another of
    the sample's items; a scenario that cannot run without another category (a policy
    refusal of ``life_events``) is skipped with a reason naming it. The refusal scenarios
    still run: the store must refuse the ephemeral ``search_parameters`` (S11), unknown
    categories and unregistered subjects. Any iterable of names is accepted and kept as
    a frozenset; it must name at least one category.
    """

    #: Stateful-test budget; raise it in a nightly job.
    stateful_examples: int = 20
    stateful_steps: int = 12

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check and freeze a subclass's :attr:`categories`."""
        super().__init_subclass__(**kwargs)
        held: Any = cls.__dict__.get("categories")
        if held is None:
            return
        names = frozenset(held) if isinstance(held, Iterable) else None
        if isinstance(held, str) or names is None or not all(isinstance(n, str) for n in names):
            raise TypeError(
                f"{cls.__name__}.categories must be a collection of category names or "
                f"None, not {held!r}"
            )
        if not names:
            raise ValueError(
                f"{cls.__name__}.categories must name at least one category (None: every "
                f"category of the policy), not {held!r}"
            )
        cls.categories = names

    # -- the categories the store holds --------------------------------------------------

    def _holds(self, category: str) -> bool:
        return self.categories is None or category in self.categories

    def _held(self, items: Iterable[Item]) -> list[Item]:
        """Return the items of the categories the store holds."""
        return [i for i in items if self._holds(i.category)]

    def _sample(self) -> list[Item]:
        """Return the kit's sample, of the categories the store holds; skip when empty."""
        items = self._held(_kit_sample())
        if not items:
            pytest.skip(
                f"the kit's sample holds no item of the categories the store holds "
                f"({_names(self.categories or ())}); its items are of "
                f"{_names({i.category for i in _kit_sample()})}"
            )
        return items

    def _only(self, categories: set[str]) -> set[str]:
        """Return the ``categories`` the store holds; skip when it holds none of them."""
        held = {c for c in categories if self._holds(c)}
        if not held:
            pytest.skip(
                f"the scenario needs one of the categories {_names(categories)}; the store "
                f"holds only {_names(self.categories or ())}"
            )
        return held

    def _needs(self, category: str) -> None:
        """Skip unless the store holds ``category``."""
        if not self._holds(category):
            pytest.skip(
                f"the scenario needs category {category!r}; the store holds only "
                f"{_names(self.categories or ())}"
            )

    def _category(self, preferred: str) -> str:
        """Return ``preferred`` when the store holds it, else another category it holds."""
        if self.categories is None or preferred in self.categories:
            return preferred
        held = [i.category for i in self._held(_kit_sample())]
        return held[0] if held else min(self.categories)

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
        items = self._sample()
        assert store.write(items, relation_types_of) == len(items)
        for subject in SUBJECTS:
            expected = sorted(
                (i for i in items if i.subject_id == subject), key=lambda i: (i.category, i.field)
            )
            assert store.items_of(subject) == expected
        # The whole sample: every subject, and office_identity 2, office_contact 1,
        # invoicing_records 1, person_name 2, life_events 1, website_account 1, application 1.
        assert sorted(store.subject_ids()) == sorted({i.subject_id for i in items})
        assert dict(store.categories_held()) == dict(Counter(i.category for i in items))

    def test_write_accepts_a_generator(self, store: Store) -> None:
        self._require(store, "write")
        items = self._sample()
        assert store.write((i for i in items), relation_types_of) == len(items)
        assert store.write(iter(()), relation_types_of) == 0

    def test_same_key_replaces(self, store: Store) -> None:
        self._require(store, "write")
        like = _like(self._sample(), "person-1", "person_name")
        subject, category, field = like.subject_id, like.category, like.field
        store.write([make_item(subject, category, field, "old")], relation_types_of)
        later = _T0 + timedelta(hours=1)
        store.write([make_item(subject, category, field, "new", later)], relation_types_of)
        assert store.items_of(subject) == [make_item(subject, category, field, "new", later)]

    def test_instants_keep_their_moment_across_time_zones(self, store: Store) -> None:
        self._require(store, "write")
        like = _like(self._sample(), "person-1", "person_name")
        amsterdam = timezone(timedelta(hours=2))
        at = datetime(2026, 7, 1, 23, 15, 7, 250000, tzinfo=amsterdam)
        store.write(
            [make_item(like.subject_id, like.category, like.field, "x", at)], relation_types_of
        )
        (item,) = store.items_of(like.subject_id)
        assert item.collected_at == at
        assert item.collected_at.utcoffset() is not None

    # -- refusals (S11 and undeclared categories) ----------------------------------------

    def test_S11_refuses_ephemeral_category_and_writes_nothing(self, store: Store) -> None:
        self._require(store, "write")
        held = self._held(_kit_sample())[:3]  # runs whatever the store holds
        batch = [*held, make_item("person-1", "search_parameters", "query", "x")]
        with pytest.raises(WriteRefused) as info:
            store.write(batch, relation_types_of)
        assert info.value.index == len(held)  # 3 with the whole sample
        assert "search_parameters" in str(info.value)
        assert "person-1" in str(info.value)
        assert list(store.subject_ids()) == []

    def test_refuses_category_undeclared_for_relation_type(self, store: Store) -> None:
        self._require(store, "write")
        self._needs("life_events")  # the policy declares it for persons, not applicants
        store.write(self._held(_kit_sample()[:2]), relation_types_of)
        storable = (
            make_item("client-1", "office_address", "city", "Utrecht")
            if self._holds("office_address")
            else self._sample()[0]
        )
        before = store.items_of(storable.subject_id)
        with pytest.raises(WriteRefused) as info:
            store.write(
                [
                    storable,
                    make_item("applicant-1", "life_events", "birthday", "1990-01-01"),
                ],
                relation_types_of,
            )
        message = str(info.value)
        assert info.value.index == 1
        assert "life_events" in message
        assert "applicant" in message
        assert store.items_of(storable.subject_id) == before
        assert store.items_of("applicant-1") == []

    def test_refuses_unregistered_subject(self, store: Store) -> None:
        self._require(store, "write")
        category = self._category("person_name")
        with pytest.raises(WriteRefused, match="stranger"):
            store.write([make_item("stranger", category, "name", "x")], relation_types_of)
        assert list(store.subject_ids()) == []

    def test_refuses_category_the_policy_does_not_know(self, store: Store) -> None:
        self._require(store, "write")
        with pytest.raises(WriteRefused, match="shoe_size"):
            store.write([make_item("person-1", "shoe_size", "size", "44")], relation_types_of)

    # -- erasure -----------------------------------------------------------------------

    def test_erase_only_the_keys_given(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = self._sample()
        store.write(items, relation_types_of)
        first = _like(items, "client-1", "office_identity")
        second = _pick(items, "person-1", "person_name", besides={first.key})
        named = [first.key] if second is None else [first.key, second.key]
        gone = [*named, ItemKey(first.subject_id, first.category, "nope")]
        assert store.erase(gone, RetentionAction.ERASE) == len(named)  # 2: the whole sample
        left = {k for s in SUBJECTS for k in _keys(store.items_of(s))}
        assert left == _keys(items) - set(gone)

    def test_erase_counts_each_item_once(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = self._sample()
        store.write(items, relation_types_of)
        subject = _subject(items, "person-1")
        own = [i.key for i in items if i.subject_id == subject]
        keys = [own[0], *own]
        assert store.erase(keys, RetentionAction.ERASE) == len(own)  # 2: the whole sample
        assert store.items_of(subject) == []

    def test_erasing_a_subject_never_touches_another(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = self._sample()
        subject = _subject(items, "person-2")
        if all(i.subject_id == subject for i in items):
            pytest.skip(
                f"the scenario needs items of two subjects; the sample's items of "
                f"{_names({i.category for i in items})} are all {subject}'s"
            )
        store.write(items, relation_types_of)
        others = {s: store.items_of(s) for s in SUBJECTS if s != subject}
        keys = [i.key for i in store.items_of(subject)]
        assert store.erase(keys, RetentionAction.ERASE) == len(keys)
        assert store.items_of(subject) == []
        assert {s: store.items_of(s) for s in others} == others

    def test_anonymise_keeps_the_item_with_a_placeholder(self, store: Store) -> None:
        self._require(store, "anonymise")
        items = self._sample()
        store.write(items, relation_types_of)
        # Every item of one category (the whole sample: client-1's one office_contact).
        category = _like(items, "client-1", "office_contact").category
        named = [i for i in items if i.category == category]
        keys = [i.key for i in named]
        assert store.erase(keys, RetentionAction.ANONYMISE) == len(keys)
        for one in named:
            (item,) = [i for i in store.items_of(one.subject_id) if i.key == one.key]
            assert item.value == ANONYMISED
            assert one.value not in repr(store.items_of(one.subject_id))
        # An anonymised item is not due again.
        query = DueQuery({category})
        assert list(store.find_due(query)) == []
        assert store.erase_due(query, RetentionAction.ANONYMISE) == ErasedItems(0, ())

    # -- pushed-down retention queries ---------------------------------------------------

    def test_find_due_by_category_and_subject(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        items = self._sample()
        store.write(items, relation_types_of)
        query = DueQuery(self._only({"person_name", "office_identity"}), {"person-2", "client-1"})
        expected = {i.key for i in items if query.matches(i)}
        assert set(store.find_due(query)) == expected
        if self.categories is None:
            assert len(expected) == 2

    def test_find_due_by_collection_instant(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        items = self._sample()
        store.write(items, relation_types_of)
        window = [c for c in ("application", "invoicing_records", "life_events") if self._holds(c)]
        if window:
            query = DueQuery(window, collected_before=_T0 + timedelta(days=3))
            # The whole sample: only the application, collected 40 days before.
            assert set(store.find_due(query)) == {i.key for i in items if query.matches(i)}
        edge = _like(items, "client-1", "invoicing_records")
        boundary = DueQuery({edge.category}, collected_before=edge.collected_at)
        # Strictly before: not the edge item itself (the whole sample: nothing).
        expected = {i.key for i in items if boundary.matches(i)}
        assert set(store.find_due(boundary)) == expected

    def test_find_due_with_no_subjects_matches_nothing(self, store: Store) -> None:
        self._require(store, "write", "find_due")
        store.write(self._sample(), relation_types_of)
        category = self._category("person_name")
        assert list(store.find_due(DueQuery({category}, set()))) == []

    def test_erase_due_is_exactly_find_due(self, store: Store) -> None:
        self._require(store, "write", "erase")
        items = self._sample()
        store.write(items, relation_types_of)
        query = DueQuery(
            self._only({"person_name", "application", "office_identity"}),
            {"person-1", "applicant-1", "client-2"},
        )
        due = set(store.find_due(query))
        erased = store.erase_due(query, RetentionAction.ERASE)
        assert erased == ErasedItems(len(due), {k.subject_id for k in due})
        assert erased.count == sum(query.matches(i) for i in items)  # 3: the whole sample
        left = {k for s in SUBJECTS for k in _keys(store.items_of(s))}
        assert left == _keys(items) - due

    # -- rectification -----------------------------------------------------------------

    def test_rectify_replaces_the_value_only(self, store: Store) -> None:
        self._require(store, "write", "rectify")
        items = self._sample()
        store.write(items, relation_types_of)
        target = _like(items, "person-1", "person_name")
        rectified = store.rectify(target.key, "Jan Janssen")
        assert rectified.value == "Jan Janssen"
        assert rectified.collected_at == target.collected_at
        assert [i for i in store.items_of(target.subject_id) if i.key == target.key] == [rectified]

    def test_rectify_unknown_item_is_a_key_error(self, store: Store) -> None:
        self._require(store, "rectify")
        with pytest.raises(KeyError):
            store.rectify(ItemKey("person-1", self._category("person_name"), "name"), "x")

    # -- the stateful comparison with the reference store -------------------------------

    def test_behaves_like_the_reference_store(
        self, make_store: Callable[[], Store], policy: Policy
    ) -> None:
        probe = make_store()
        caps = probe.capabilities()
        probe.close()
        if not (caps.write and caps.erase and caps.rectify and caps.find_due):
            pytest.skip("the stateful comparison needs write, erase, rectify and find_due")
        machine = _comparison_machine(make_store, policy, caps.anonymise, self.categories)
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


def _categories_per_subject(
    categories: frozenset[str] | None,
) -> dict[str, tuple[str, ...]]:
    """Return the categories the comparison writes per subject, of ``categories``.

    ``None``: the kit's categories of each subject. Otherwise those a subject has among
    ``categories``, or, when it has none of them, all of ``categories`` (which the policy
    may refuse for it, in both stores).
    """
    if categories is None:
        return dict(_CATEGORIES)
    held = tuple(sorted(categories))
    return {s: tuple(c for c in cs if c in categories) or held for s, cs in _CATEGORIES.items()}


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


def _items(
    per_subject: dict[str, tuple[str, ...]], categories: frozenset[str] | None
) -> st.SearchStrategy[Item]:
    """Return the comparison's items: of the kit's subjects and a stranger."""
    strangers = (
        ("person_name",)
        if categories is None or "person_name" in categories
        else tuple(sorted(categories))
    )

    def pick_category(subject: str, pick: int) -> str:
        choices = per_subject.get(subject, strangers)
        return choices[pick % len(choices)]

    return st.builds(
        lambda subject, pick, field, value, minutes: make_item(
            subject, pick_category(subject, pick), field, value, _T0 + timedelta(minutes=minutes)
        ),
        st.sampled_from([*SUBJECTS, "stranger"]),
        st.integers(0, 10),
        st.sampled_from(["name", "email", "Name", "birthday", "cv", "note "]),
        _TEXT,
        st.integers(-10_000, 10_000),
    )


def _comparison_machine(
    make_store: Callable[[], Store],
    policy: Policy,
    anonymise: bool,
    categories: frozenset[str] | None = None,
) -> type[RuleBasedStateMachine]:
    actions = (
        [RetentionAction.ERASE, RetentionAction.ANONYMISE] if anonymise else [RetentionAction.ERASE]
    )
    # The machine below reads _CATEGORIES and _ITEMS, narrowed here to ``categories``. Its
    # source is what seeds hypothesis (derandomize), so it stays as it was: a store holding
    # every category replays the very sequences it always did.
    _CATEGORIES = _categories_per_subject(categories)
    _ITEMS = _items(_CATEGORIES, categories)

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
