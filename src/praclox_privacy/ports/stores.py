"""The store contract: what every place that holds personal data must be able to do.

A store is anything that holds :class:`~praclox_privacy.domain.records.Item` values: the
embedded SQL database, a folder of files, a CRM, an agenda. Built-in and third-party
stores implement the same small :class:`Store` protocol and are registered through the
``register_stores`` plugin hook (see :mod:`praclox_privacy.hookspecs`).

Rules every store keeps (the contract kit in :mod:`praclox_privacy.testing` checks them):

* ``write`` is all-or-nothing: when one item is refused, nothing of the call is stored,
  and the :class:`WriteRefused` error names the item's position and key.
* A store refuses an ephemeral category (S11) and a category that the policy does not
  declare for any of the subject's relation types (:func:`check_storable`).
* ``erase`` and ``erase_due`` touch only the items named or matched, never another
  subject's, and are set-based where the backend allows it.
"""

import abc
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ..domain.errors import PracloxPrivacyError
from ..domain.policy import Policy, RetentionAction
from ..domain.records import Consent, Item, ItemKey, Subject

if TYPE_CHECKING:
    from .ledger import Ledger

__all__ = [
    "ANONYMISED",
    "BatchDone",
    "Capabilities",
    "DueQuery",
    "ErasedItems",
    "FindsByValue",
    "Health",
    "InPlacePlan",
    "InPlaceStep",
    "LedgerFactory",
    "ReadsAll",
    "RelationTypesOf",
    "ReportsKeptRows",
    "ScanningStore",
    "Store",
    "StoreContext",
    "StoreError",
    "StoreKind",
    "StoreUnavailable",
    "SubjectSource",
    "SweepsInPlace",
    "WriteRefused",
    "check_storable",
]

ANONYMISED = "[anonymised]"
"""The placeholder that replaces an anonymised value: reveals nothing, stays a string."""

RelationTypesOf = Callable[[str], frozenset[str]]
"""Returns the relation types a subject holds now (empty when the subject is unknown)."""


class StoreError(PracloxPrivacyError):
    """A store could not carry out an operation; nothing of it was applied."""


class StoreUnavailable(StoreError):
    """The store's backend cannot be reached (server down, folder missing, ...)."""


class WriteRefused(StoreError):
    """A write was refused; nothing of the call was stored.

    :ivar index: the 0-based position of the refused item in the call's items.
    :ivar key: the refused item's key, when it could be built.
    :ivar reason: why, in one sentence.
    """

    def __init__(self, index: int, key: ItemKey | None, reason: str) -> None:
        self.index = index
        self.key = key
        self.reason = reason
        where = f"item {index + 1}" + (f" ({key})" if key is not None else "")
        super().__init__(f"{where}: {reason}; nothing was written")


@attrs.frozen
class Capabilities:
    """What a store supports; operations it lacks raise :class:`StoreError` plainly.

    :ivar notes: a sentence per limitation, shown by ``check`` and in the docs.
    """

    write: bool = True
    rectify: bool = True
    erase: bool = True
    anonymise: bool = True
    find_due: bool = True
    transactional: bool = True
    notes: tuple[str, ...] = ()
    erasure_anonymises: bool = False
    """Whether erasing keeps an anonymised record rather than deleting (a CRM's own erase
    wizard); erasure results say so to the data subject."""
    categories_checked: bool = False
    """Whether the store checked, when it opened, that every category it can hold is
    declared for its subjects' relation types (a mapping checked against the policy), so
    ``check`` need not read its item keys to find undeclared ones."""


@attrs.frozen
class Health:
    """Whether a store is reachable and usable now, and a short detail."""

    ok: bool
    detail: str


def _names(values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise TypeError("expected a collection of names, not one string")
    return frozenset(values)


def _optional_names(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else _names(values)


@attrs.frozen
class DueQuery:
    """Which items a retention decision makes due, pushed down into the store.

    An item matches when its category is in ``categories``, its subject is in
    ``subject_ids`` (or any subject, when ``None``), it was collected before
    ``collected_before`` (or at any time, when ``None``), and it is not already
    anonymised (its value is not ``ANONYMISED``).
    """

    categories: frozenset[str] = attrs.field(converter=_names)
    subject_ids: frozenset[str] | None = attrs.field(default=None, converter=_optional_names)
    collected_before: datetime | None = None

    def matches(self, item: Item) -> bool:
        """Return whether ``item`` is selected by this query (the reference semantics)."""
        return (
            item.category in self.categories
            and (self.subject_ids is None or item.subject_id in self.subject_ids)
            and (self.collected_before is None or item.collected_at < self.collected_before)
            and item.value != ANONYMISED
        )


@attrs.frozen
class ErasedItems:
    """What :meth:`Store.erase_due` erased: how many items, and of which subjects."""

    count: int
    subject_ids: frozenset[str] = attrs.field(converter=_names)


@attrs.frozen
class StoreContext:
    """What a store factory gets besides its own settings.

    :ivar policy: the workspace's policy; stores check writes against it.
    :ivar name: the store's name in the workspace (``main``, ``agenda``, ...).
    :ivar base_dir: the workspace folder; relative paths in settings are relative to it.
    """

    policy: Policy
    name: str = "store"
    base_dir: str = "."


LedgerFactory = Callable[["Store", Callable[[], datetime]], "Ledger"]
"""Builds the workspace's ledger beside a primary store of its kind, given the clock."""


@attrs.frozen
class StoreKind:
    """A kind of store a plugin offers, registered through the ``register_stores`` hook.

    :ivar name: the name used in workspace configs (``plugin = "sql"``).
    :ivar factory: builds a store from its settings (an instance of ``settings_type``)
        and the :class:`StoreContext`. It imports heavy client libraries itself, so
        loading plugins stays cheap.
    :ivar settings_type: an attrs class; the workspace config's table for the store is
        structured into it strictly (unknown keys are errors).
    :ivar ledger: for a kind that can be a workspace's primary store: builds the ledger
        (:class:`~praclox_privacy.ports.Ledger`) that lives beside the store's items.
    :ivar init_settings: the settings a new workspace's configuration gets for a primary
        store of this kind (``praclox-privacy init``), e.g. the embedded database's URL.
    """

    name: str
    factory: Callable[[Any, StoreContext], "Store"]
    settings_type: type
    description: str = ""
    ledger: LedgerFactory | None = None
    init_settings: Mapping[str, str] = attrs.field(factory=dict)


def check_storable(item: Item, relation_types: frozenset[str], policy: Policy) -> str | None:
    """Return why ``item`` may not be stored, or ``None`` when it may.

    :param relation_types: the relation types the item's subject holds.
    """
    reason = _refusal(policy, item.category, relation_types)
    return None if reason is None else reason.format(subject=repr(item.subject_id))


@functools.lru_cache(maxsize=4096)
def _refusal(policy: Policy, category_id: str, relation_types: frozenset[str]) -> str | None:
    # Cached: a bulk import asks the same few questions a million times.
    try:
        category = policy.category(category_id)
    except KeyError:
        return f"category {category_id!r} is not declared in the policy"
    if category.ephemeral:
        return f"category {category_id!r} is ephemeral and is never stored (subject {{subject}})"
    if not relation_types:
        return "subject {subject} is not registered (it holds no relation type)"
    if not any(policy.declares(rt, category_id) for rt in relation_types):
        types = ", ".join(sorted(relation_types))
        return (
            f"category {category_id!r} is not declared for relation type {types} "
            "of subject {subject}"
        )
    return None


@runtime_checkable
class Store(Protocol):
    """The contract every store implements. All instants are timezone-aware."""

    name: str
    """The store's name in the workspace (e.g. ``main``)."""

    def capabilities(self) -> Capabilities:
        """Return what this store supports."""
        ...

    def health(self) -> Health:
        """Return whether the store is reachable now; never raises."""
        ...

    def write(self, items: Iterable[Item], relation_types: RelationTypesOf) -> int:
        """Store ``items`` (same key: replace), all or nothing; return how many were given.

        :param relation_types: the relation types of each item's subject, for
            :func:`check_storable`.
        :raises WriteRefused: naming the first refused item; nothing was written.
        :raises StoreUnavailable: when the backend cannot be reached.
        """
        ...

    def items_of(self, subject_id: str) -> list[Item]:
        """Return every item of ``subject_id``, sorted by category and field."""
        ...

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one item, each once."""
        ...

    def categories_held(self) -> Mapping[str, int]:
        """Return how many items the store holds per category."""
        ...

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys of the items ``query`` selects, evaluated inside the store."""
        ...

    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase (or anonymise) the items with ``keys``; missing keys are skipped.

        :returns: how many items were erased or anonymised.
        """
        ...

    def erase_due(self, query: DueQuery, action: RetentionAction) -> "ErasedItems":
        """Erase (or anonymise) every item ``query`` selects, set-based.

        This is the sweep's bulk path: it reports how many items went and whose, without
        fetching them. (When plugins must be told which items went, the sweep uses
        :meth:`find_due` and :meth:`erase`.)
        """
        ...

    def rectify(self, key: ItemKey, value: str) -> Item:
        """Replace the value of the item ``key``; return the rectified item.

        :raises KeyError: when no such item exists.
        """
        ...

    def close(self) -> None:
        """Release connections and locks; the store is not used afterwards."""
        ...


@runtime_checkable
class SubjectSource(Protocol):
    """A store that holds subjects of its own: a CRM, an application's own tables.

    Such a store knows who its subjects are, which relation types they hold and when
    their lifecycle events happened (a party deactivated, an applicant rejected). The
    workspace registers them in its ledger (ids, relation types and events, never the
    data values) through :meth:`Workspace.sync_subjects
    <praclox_privacy.services.workspace.Workspace.sync_subjects>`, so requests, the sweep and
    ``check`` cover data that lives only there. The store's own view wins: syncing
    replaces the ledger's relation types and events of a subject with the store's.
    """

    def find_subjects(self, kind: str, value: str) -> list[str]:
        """Return the ids of the subjects an identity points to, sorted.

        :param kind: an identity kind: ``email`` (compared ignoring case), or one the
            store documents (``party_code``, ``customer_number``, ...). Unknown kinds
            find nothing.
        """
        ...

    def subject(self, subject_id: str) -> Subject | None:
        """Return the subject ``subject_id`` as the store knows it, or ``None``."""
        ...

    def subjects(self) -> Iterator[Subject]:
        """Yield every subject the store holds, each once."""
        ...


# -- capabilities a service asks for ----------------------------------------------------


@runtime_checkable
class FindsByValue(Protocol):
    """A store that finds the subjects holding a value with one query (an SQL store)."""

    def subjects_with_value(self, categories: Iterable[str], field: str, value: str) -> list[str]:
        """Return the subjects with an item ``field`` equal to ``value`` (ignoring case).

        :param categories: only items of these categories count.
        """
        ...


@runtime_checkable
class ReadsAll(Protocol):
    """A store that reads every item it holds at once (a calendar, a CRM)."""

    def all_items(self) -> list[Item]:
        """Return every item the store holds."""
        ...


@runtime_checkable
class ReportsKeptRows(Protocol):
    """A store whose erasure may keep a record, cleared, that other records still need.

    :attr:`kept_rows` describes (with ``str()``) the records the last :meth:`Store.erase`
    cleared but kept; an erasure's answer tells the person about them.
    """

    @property
    def kept_rows(self) -> Sequence[object]:
        """The records the last erasure kept, each described by ``str()``."""
        ...


@attrs.frozen
class BatchDone:
    """What one batch of an in-place sweep erased (or would erase, in a dry run).

    :ivar kept: records cleared but kept, because other records reference them.
    """

    count: int
    subjects: tuple[str, ...]
    kept: int = 0


class InPlaceStep(Protocol):
    """One statement family of an in-place sweep: a table (or the like) and what it erases."""

    @property
    def table(self) -> str:
        """The table (or collection) the step erases in."""
        ...

    @property
    def rules(self) -> tuple[str, ...]:
        """The retention rules that make its data due."""
        ...

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories whose data goes."""
        ...

    @property
    def action(self) -> RetentionAction:
        """Erase or anonymise."""
        ...

    @property
    def unique_subjects(self) -> bool:
        """Whether each record is a different subject (batches then never repeat one)."""
        ...


@attrs.frozen
class InPlacePlan:
    """What an in-place sweep will do.

    :ivar steps: the statement families, in order.
    :ivar judged_alone: subjects left out of the steps (a consent may extend their
        retention): the sweep plans them one by one with the domain's planner and erases
        through :meth:`Store.erase_due`.
    """

    steps: tuple[InPlaceStep, ...]
    judged_alone: tuple[Subject, ...] = ()


@runtime_checkable
class SweepsInPlace(Store, Protocol):
    """A store that finds and erases due data with its own statements, in batches.

    An application's own tables (the ``sql-mapped`` store): their event and collection
    columns say what is due, so nothing is loaded subject by subject. Each batch records
    an intent in the ledger before its records go (``intent``) and the erasure after
    (``done``); a batch left by a killed sweep is finished by :meth:`recover_in_place`.
    """

    def plan_in_place(
        self,
        now: datetime,
        consents: Mapping[str, Sequence[Consent]],
        ledger_location: str,
    ) -> InPlacePlan:
        """Plan a sweep at ``now``.

        :param consents: every consent, by subject id (consents extend retention).
        :param ledger_location: where the ledger lives (:attr:`Ledger.location`).
        :raises StoreError: when the store cannot be swept while the ledger records the
            batches (it shares the ledger's SQLite file, say).
        """
        ...

    def run_in_place(
        self,
        step: InPlaceStep,
        dry_run: bool,
        intent: Callable[[dict[str, Any]], int],
        done: Callable[[int, dict[str, Any]], None],
    ) -> Iterator[BatchDone]:
        """Run ``step`` in batches; yield each batch's result.

        :param intent: records a batch's intent (its details, with its keys) and returns
            its id; called, and committed, before the batch's records go.
        :param done: records the batch's erasure (and drops the intent) afterwards.
        :raises StoreError: when the store fails; the failing batch is rolled back.
        """
        ...

    def recover_in_place(self, details: Mapping[str, Any]) -> BatchDone:
        """Finish the batch whose intent (``details``, with its keys) a killed sweep left."""
        ...


# -- a base for stores that read everything at once -------------------------------------


class ScanningStore(abc.ABC):
    """A base for stores whose backend answers best with everything at once.

    A calendar, a CRM over its API, a small folder: such a store implements
    :meth:`all_items` and :meth:`erase` (and the rest of :class:`Store`), and inherits
    :meth:`subject_ids`, :meth:`categories_held`, :meth:`find_due` and :meth:`erase_due`,
    which scan :meth:`all_items`. The results match the reference semantics
    (:meth:`DueQuery.matches`); override one where the backend can do better.
    """

    @abc.abstractmethod
    def all_items(self) -> list[Item]:
        """Return every item the store holds."""

    @abc.abstractmethod
    def erase(self, keys: Iterable[ItemKey], action: RetentionAction) -> int:
        """Erase (or anonymise) the items with ``keys``; return how many there were."""

    def subject_ids(self) -> Iterator[str]:
        """Yield the id of every subject with at least one item, each once, sorted."""
        return iter(sorted({i.subject_id for i in self.all_items()}))

    def categories_held(self) -> Mapping[str, int]:
        """Return how many items the store holds per category."""
        return dict(Counter(i.category for i in self.all_items()))

    def find_due(self, query: DueQuery) -> Iterator[ItemKey]:
        """Yield the keys of the items ``query`` selects, sorted (one scan)."""
        keys = [i.key for i in self.all_items() if query.matches(i)]
        return iter(sorted(keys, key=lambda k: (k.subject_id, k.category, k.field)))

    def erase_due(self, query: DueQuery, action: RetentionAction) -> ErasedItems:
        """Erase (or anonymise) every item ``query`` selects (see :meth:`find_due`)."""
        keys = list(self.find_due(query))
        return ErasedItems(self.erase(keys, action), {k.subject_id for k in keys})
