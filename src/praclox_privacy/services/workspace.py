"""A workspace: a folder with ``praclox-privacy.toml``, its policy, stores and ledger.

The configuration file is read and written by :mod:`praclox_privacy.services.config`.
Every operation that changes data goes through the workspace, which checks it against
the policy, writes it, records an audit entry (in the same transaction when the data
lives in the primary store) and then calls the plugin notification hooks.
"""

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain.audit import AuditEntry, AuditVerification
from ..domain.errors import OperationRefused, Problem, WorkspaceError
from ..domain.policy import Policy, RetentionAction
from ..domain.records import Item, ItemKey, Subject, SubjectEvent
from ..ports import (
    CONFIG_NAME,
    Ledger,
    Store,
    StoreContext,
    StoreKind,
    SubjectSource,
    WorkspaceConfig,
    WriteRefused,
)
from .config import PRIMARY_KIND, read_config, write_config

if TYPE_CHECKING:
    import pluggy

__all__ = ["Workspace"]


def _system_clock() -> datetime:
    return datetime.now(UTC)


class Workspace:
    """An open workspace. Use :meth:`open` (or :meth:`init` for a new one); close it after.

    :ivar policy: the workspace's policy.
    :ivar ledger: subjects, events, consents and the audit trail.
    """

    def __init__(
        self,
        root: Path,
        config: WorkspaceConfig,
        policy: Policy,
        kinds: dict[str, tuple[StoreKind, Any]],
        plugin_manager: "pluggy.PluginManager",
        clock: Callable[[], datetime],
    ) -> None:
        self.root = root
        self.config = config
        self.policy = policy
        self.plugin_manager = plugin_manager
        self.clock = clock
        self.timezone = ZoneInfo(config.timezone)
        self._kinds = kinds
        self._stores: dict[str, Store] = {}
        kind = kinds[config.primary][0]
        if kind.ledger is None:
            able = sorted(k.name for k, _ in kinds.values() if k.ledger is not None)
            able = able or [PRIMARY_KIND]
            raise WorkspaceError(
                [
                    Problem(
                        "primary",
                        f"store {config.primary!r} must be an {' or '.join(map(repr, able))} "
                        f"store: it holds the ledger (a {kind.name!r} store cannot)",
                    )
                ],
                str(root / CONFIG_NAME),
            )
        self.ledger: Ledger = kind.ledger(self.store(config.primary), clock)

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: str | Path = ".",
        *,
        plugin_manager: "pluggy.PluginManager | None" = None,
        clock: Callable[[], datetime] | None = None,
    ) -> "Workspace":
        """Open the workspace in ``root``.

        :param plugin_manager: defaults to :func:`~praclox_privacy.plugins.make_plugin_manager`.
        :param clock: returns "now" (timezone-aware); tests and ``--now`` move it.
        :raises WorkspaceError: naming the file and key at fault.
        :raises PolicyError: when the workspace's policy is not valid.
        :raises StoreUnavailable: when the primary store cannot be reached.
        """
        from ..plugins import make_plugin_manager

        root = Path(root)
        pm = plugin_manager or make_plugin_manager()
        config, policy, kinds = read_config(root, pm)
        return cls(root, config, policy, kinds, pm, clock or _system_clock)

    @classmethod
    def init(
        cls, root: str | Path = ".", *, policy: str = "default", url: str | None = None
    ) -> Path:
        """Create a workspace in ``root`` (an SQLite database unless ``url`` names one).

        The primary store is of kind
        :data:`~praclox_privacy.services.config.PRIMARY_KIND`, with the settings its
        plugin gives a new workspace (``StoreKind.init_settings``).

        :returns: the path of the new ``praclox-privacy.toml``.
        :raises WorkspaceError: when ``root`` already has one.
        """
        root = Path(root)
        path = write_config(root, policy, url)
        try:
            cls.open(root).close()
        except Exception:
            path.unlink()
            raise
        return path

    def close(self) -> None:
        """Close every store that was opened."""
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- stores ------------------------------------------------------------------------

    @property
    def store_names(self) -> list[str]:
        """The names of the configured stores, primary first."""
        others = sorted(n for n in self._kinds if n != self.config.primary)
        return [self.config.primary, *others]

    def store_kind(self, name: str) -> str:
        """Return the kind (plugin) of the configured store ``name`` (``sql``, ...).

        :raises OperationRefused: when no such store is configured.
        """
        if name not in self._kinds:
            raise OperationRefused(
                f"no store named {name!r} (configured: {', '.join(self.store_names)})"
            )
        return self._kinds[name][0].name

    def store(self, name: str | None = None) -> Store:
        """Return the store ``name`` (default: the primary), opening it on first use.

        :raises OperationRefused: when no such store is configured.
        :raises StoreUnavailable: when it cannot be reached.
        """
        name = name or self.config.primary
        if name in self._stores:
            return self._stores[name]
        if name not in self._kinds:
            raise OperationRefused(
                f"no store named {name!r} (configured: {', '.join(self.store_names)})"
            )
        kind, settings = self._kinds[name]
        store = kind.factory(settings, StoreContext(self.policy, name, str(self.root)))
        self._stores[name] = store
        return store

    def _is_primary(self, name: str) -> bool:
        return name == self.config.primary

    # -- subjects ------------------------------------------------------------------------

    def _check_relation_types(self, relation_types: Iterable[str]) -> frozenset[str]:
        types = frozenset(relation_types)
        if not types:
            raise OperationRefused("a subject needs at least one relation type")
        known = {rt.id for rt in self.policy.relation_types}
        unknown = sorted(types - known)
        if unknown:
            raise OperationRefused(
                f"relation type {', '.join(unknown)} is not declared in the policy "
                f"(declared: {', '.join(sorted(known))})"
            )
        return types

    def _category_with_field(self, relation_types: frozenset[str], field: str) -> str:
        for rt in sorted(relation_types):
            for category in self.policy.relation_type(rt).categories:
                if field in self.policy.category(category).fields:
                    return category
        raise OperationRefused(
            f"the policy declares no category with a {field!r} field for relation type "
            f"{', '.join(sorted(relation_types))}"
        )

    def add_subject(
        self,
        relation_types: Iterable[str],
        *,
        subject_id: str | None = None,
        organisation: str | None = None,
        name: str | None = None,
        email: str | None = None,
        actor: str = "api",
    ) -> Subject:
        """Register a subject; ``name`` and ``email`` are stored as items in the primary store.

        The items go to the first category of the subject's relation types whose declared
        ``fields`` include ``name`` (``email``). Everything commits together.

        :raises OperationRefused: for undeclared relation types, an unknown organisation or
            one a person of these relation types cannot belong to.
        """
        types = self._check_relation_types(relation_types)
        if subject_id is None:
            subject_id = f"{sorted(types)[0].replace('_', '-')}-{secrets.token_hex(4)}"
        if organisation is not None:
            self._check_organisation(types, organisation)
        subject = Subject(subject_id, types, (), organisation)
        now = self.clock()
        items = [
            Item(subject_id, self._category_with_field(types, field), field, value, now)
            for field, value in (("name", name), ("email", email))
            if value is not None
        ]
        with self.ledger.transaction():
            self.ledger.add_subject(subject, actor)
            if items:
                self._write(self.config.primary, items, actor, {subject_id: types}, notify=False)
        if items:
            self._notify_written(self.config.primary, items)
        return subject

    def _notify_written(self, store: str, items: list[Item]) -> None:
        if self.plugin_manager.hook.items_written.get_hookimpls():
            self.plugin_manager.hook.items_written(store=store, items=items)

    def _check_organisation(self, types: frozenset[str], organisation: str) -> None:
        allowed = {org for rt in types for org in self.policy.relation_type(rt).belongs_to}
        if not allowed:
            raise OperationRefused(
                f"relation type {', '.join(sorted(types))} does not belong to an organisation"
            )
        org_types = self.ledger.relation_types_of(organisation)
        if not org_types:
            raise OperationRefused(f"unknown organisation {organisation!r}")
        if not org_types & allowed:
            raise OperationRefused(
                f"{organisation!r} is a {', '.join(sorted(org_types))}; a "
                f"{', '.join(sorted(types))} belongs to a {' or '.join(sorted(allowed))}"
            )

    def set_relation_types(
        self, subject_id: str, relation_types: Iterable[str], actor: str = "api"
    ) -> Subject:
        """Replace the subject's relation types; its data and history stay (S15)."""
        return self.ledger.set_relation_types(
            subject_id, self._check_relation_types(relation_types), actor
        )

    def record_event(
        self, subject_id: str, event: str, at: datetime, actor: str = "api"
    ) -> Subject:
        """Record lifecycle ``event`` of ``subject_id`` at ``at``.

        :raises OperationRefused: when the policy declares no such event.
        """
        from ..domain.policy import COLLECTED

        declared = {e.id for e in self.policy.events} - {COLLECTED}
        if event not in declared:
            raise OperationRefused(
                f"lifecycle event {event!r} is not declared in the policy (declared: "
                f"{', '.join(sorted(declared))})"
            )
        SubjectEvent(event, at)  # validates the instant
        return self.ledger.record_event(subject_id, event, at, actor)

    # -- data ----------------------------------------------------------------------------

    def _relation_lookup(
        self, known: dict[str, frozenset[str]] | None = None
    ) -> Callable[[str], frozenset[str]]:
        cache: dict[str, frozenset[str]] = known if known is not None else {}

        def lookup(subject_id: str) -> frozenset[str]:
            types = cache.get(subject_id)
            if types is None:
                types = cache[subject_id] = self.ledger.relation_types_of(subject_id)
            return types

        return lookup

    def write(self, items: Iterable[Item], store: str | None = None, actor: str = "api") -> int:
        """Write ``items`` to ``store`` (default: primary), all or nothing; audit it.

        :returns: the number of items written.
        :raises WriteRefused: naming the first refused item; nothing was written.
        """
        return self._write(store or self.config.primary, items, actor)

    def _write(
        self,
        name: str,
        items: Iterable[Item],
        actor: str,
        known: dict[str, frozenset[str]] | None = None,
        notify: bool = True,
    ) -> int:
        """Write, audit (in one transaction for the primary store), then notify plugins.

        Hooks run after the commit; an exception a hook raises reaches the caller, but the
        data is stored.
        """
        from .guards import check_write

        target = self.store(name)
        items = check_write(self, items)  # S10, S13: agreements and prior consents
        categories: dict[str, int] = {}
        subjects: set[str] = set()
        hooked = notify and bool(self.plugin_manager.hook.items_written.get_hookimpls())
        kept: list[Item] = []

        def counted() -> Iterator[Item]:
            for item in items:
                categories[item.category] = categories.get(item.category, 0) + 1
                if len(subjects) < 2:
                    subjects.add(item.subject_id)
                if hooked:
                    kept.append(item)
                yield item

        def write_and_audit() -> int:
            count = target.write(counted(), self._relation_lookup(known))
            if count:
                self.ledger.audit(
                    "items.written",
                    {"store": name, "count": count, "categories": dict(sorted(categories.items()))},
                    next(iter(subjects)) if len(subjects) == 1 else None,
                    actor,
                )
            return count

        if self._is_primary(name):
            with self.ledger.transaction():
                count = write_and_audit()
        else:
            count = write_and_audit()
        if hooked and count:
            self._notify_written(name, kept)
        return count

    def import_file(
        self,
        path: str | Path,
        store: str | None = None,
        fmt: str | None = None,
        on_progress: Callable[[int], None] | None = None,
        actor: str = "api",
    ) -> int:
        """Import the items of a JSON Lines or CSV file, streamed, all or nothing.

        :raises ImportFormatError: naming the file and line of a malformed record.
        :raises OperationRefused: naming the file and line of a refused item; nothing of
            the file is stored.
        """
        from ..formats.items import ItemReader, detect_format

        path = Path(path)
        reader = ItemReader(path, fmt or detect_format(path), self.clock(), on_progress)
        # One query for every subject's relation types instead of one per subject.
        known = self.ledger.all_relation_types()
        try:
            return self._write(store or self.config.primary, reader, actor, known)
        except WriteRefused as exc:
            line = reader.line_of(exc.index) if exc.index < len(reader.lines) else 0
            raise OperationRefused(
                f"{path}:{line}: {exc.reason}; nothing of {path.name} was imported"
            ) from None

    def items_of(
        self, subject_id: str, *, staff: str | None = None, purpose: str = ""
    ) -> dict[str, list[Item]]:
        """Return the subject's items in every store, by store name.

        :param staff: the staff member who reads them. Client data (a client's, or its
            contact persons') is then read only when the access guard allows it (S12), and
            the read is audited (``items.read``).
        :param purpose: why the staff member reads it (audited).
        :raises AccessRefused: when the guard refuses ``staff``; audited.
        """
        if staff is None:
            return {name: self.store(name).items_of(subject_id) for name in self.store_names}
        from .guards import check_read

        check_read(self, staff, subject_id, purpose=purpose)
        found = {name: self.store(name).items_of(subject_id) for name in self.store_names}
        self.ledger.audit(
            "items.read",
            {
                "staff": staff,
                "purpose": purpose,
                "stores": {name: len(items) for name, items in found.items() if items},
            },
            subject_id,
            staff,
        )
        return found

    def erase(
        self,
        keys: Sequence[ItemKey],
        store: str | None = None,
        action: RetentionAction = RetentionAction.ERASE,
        actor: str = "api",
        reason: str = "",
    ) -> int:
        """Erase (or anonymise) the items ``keys`` in ``store``; audit and notify."""
        name = store or self.config.primary
        target = self.store(name)
        wanted = set(keys)
        present: list[ItemKey] = []

        def erase_and_audit() -> int:
            # Only keys that name an item count, in the audit entry and for the hooks.
            for subject_id in sorted({k.subject_id for k in wanted}):
                present.extend(i.key for i in target.items_of(subject_id) if i.key in wanted)
            count = target.erase(present, action)
            if count:
                subjects = sorted({k.subject_id for k in present})
                self.ledger.audit(
                    f"items.{action.value}d",
                    {
                        "store": name,
                        "count": count,
                        "reason": reason,
                        "categories": dict(sorted(Counter(k.category for k in present).items())),
                    },
                    subjects[0] if len(subjects) == 1 else None,
                    actor,
                )
            return count

        if self._is_primary(name):
            with self.ledger.transaction():
                count = erase_and_audit()
        else:
            count = erase_and_audit()
        if count:
            self.plugin_manager.hook.items_erased(store=name, keys=present, action=action)
        return count

    def rectify(
        self, key: ItemKey, value: str, store: str | None = None, actor: str = "api"
    ) -> Item:
        """Replace the value of one item; audit it (without the value)."""
        name = store or self.config.primary
        target = self.store(name)

        def rectify_and_audit() -> Item:
            item = target.rectify(key, value)
            self.ledger.audit(
                "item.rectified",
                {"store": name, "category": key.category, "field": key.field},
                key.subject_id,
                actor,
            )
            return item

        if self._is_primary(name):
            with self.ledger.transaction():
                return rectify_and_audit()
        return rectify_and_audit()

    # -- audit ---------------------------------------------------------------------------

    # -- subjects held in other stores ----------------------------------------------------

    def subject_sources(self) -> list[str]:
        """Return the names of the stores that hold subjects of their own (SubjectSource)."""
        return [n for n in self.store_names if isinstance(self.store(n), SubjectSource)]

    def sync_subjects(
        self,
        store: str,
        subject_ids: Iterable[str] | None = None,
        actor: str = "api",
    ) -> dict[str, str]:
        """Register the subjects a subject-source store holds in the ledger.

        A subject source implements :class:`praclox_privacy.ports.SubjectSource` (a mapped
        database, a CRM).

        Only ids, relation types, organisations and lifecycle events are recorded, never
        data values; the store's view replaces the ledger's relation types, events and
        organisation of each subject (audited as ``subject.synced``).
        Relation types and events the policy does not declare are refused before anything
        is recorded.

        :param subject_ids: only these (default: every subject of the store). An id the
            store does not know is reported as ``missing`` and left as it is.
        :returns: per subject id, ``added``, ``updated``, ``unchanged`` or ``missing``.
        :raises OperationRefused: when ``store`` holds no subjects of its own, or names a
            relation type or event the policy does not declare.
        """
        from ..domain.policy import COLLECTED

        source = self.store(store)
        if not isinstance(source, SubjectSource):
            raise OperationRefused(f"store {store!r} holds no subjects of its own")
        if subject_ids is None:
            found: dict[str, Subject | None] = {s.id: s for s in source.subjects()}
        else:
            found = {i: source.subject(i) for i in sorted(set(subject_ids))}
        declared_events = {e.id for e in self.policy.events} - {COLLECTED}
        for subject_id, subject in found.items():
            if subject is None:
                continue
            try:
                self._check_relation_types(subject.relation_types)
            except OperationRefused as exc:
                raise OperationRefused(f"store {store!r}, subject {subject_id!r}: {exc}") from None
            unknown = sorted({e.name for e in subject.events} - declared_events)
            if unknown:
                raise OperationRefused(
                    f"store {store!r}, subject {subject_id!r}: lifecycle event "
                    f"{', '.join(map(repr, unknown))} is not declared in the policy"
                )
        outcome: dict[str, str] = {}
        with self.ledger.transaction():
            for subject_id, subject in found.items():
                outcome[subject_id] = (
                    "missing"
                    if subject is None
                    else self.ledger.sync_subject(subject, store, actor)
                )
        return outcome

    def audit_entries(
        self, subject_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Return audit entries, oldest first."""
        return self.ledger.audit_entries(subject_id, limit)

    def verify_audit(self) -> AuditVerification:
        """Check the audit trail's hash chain."""
        return self.ledger.verify_audit()

    def now(self, at: datetime | None = None) -> datetime:
        """Return ``at``, or the clock's instant when it is ``None``: the instant to judge by.

        :raises ValueError: when ``at`` has no time zone.
        """
        now = at or self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"now ({now.isoformat()}) has no timezone")
        return now

    def parse_instant(self, text: str) -> datetime:
        """Read an ISO 8601 date or date-time; without an offset, in the workspace's zone.

        :raises OperationRefused: when ``text`` is neither.
        """
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise OperationRefused(
                f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-03-01 or "
                "2026-03-01T09:30+01:00)"
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.timezone)
        return value
