"""The retention sweep: erase (or anonymise) what is due in every store of a workspace.

The plan comes from :func:`~praclox_privacy.domain.sweep_plan.plan_sweep` (per subject,
pure); each selection is executed in batches of subjects, one set-based store call per
batch. Safety:

* **Primary SQL store**: each batch's erasure and its audit entry commit in one
  transaction. A sweep killed at any point leaves whole batches done and audited; the
  next sweep plans again and does the rest.
* **Other stores** (files, CRM, agenda, third-party): they cannot share the ledger's
  transaction, so each batch first records an *intent* (the keys it will erase) with an
  audit entry, then erases, then records the erasure and drops the intent in one
  transaction. A sweep that finds intents left by a killed one finishes them first, so
  every erasure is audited exactly once.
* Only one sweep runs at a time per workspace (a lock that dies with its holder); a second
  one waits (``wait=True``) or stops with :class:`SweepBusy`.
* A store that fails is reported; its batches are not recorded as erased, the other
  stores still complete, and :attr:`SweepReport.ok` is false.
"""

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..domain.errors import PracloxPrivacyError
from ..domain.policy import RetentionAction
from ..domain.records import ItemKey
from ..domain.sweep_plan import DueSelection, HeldBack, SweepPlan, plan_sweep
from ..formats.jsonout import Shape, register_shape, sorted_mapping
from ..ports import DueQuery, Store, StoreError, SweepsInPlace

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "EPHEMERAL_RULE",
    "Erased",
    "Held",
    "StoreFailure",
    "SweepBusy",
    "SweepReport",
    "due_in_place",
    "plan",
    "run_sweep",
]

BATCH_SUBJECTS = 2000
"""Subjects per batch: one commit (in the primary store) and one audit entry each; the
store splits a batch into statements of at most 500 subjects."""

LOCK_NAME = "sweep"

EPHEMERAL_RULE = "ephemeral"
"""The rule a report names for items of a category the policy marks ephemeral (S11)."""


class SweepBusy(PracloxPrivacyError):
    """Another sweep of the same workspace is running."""


@attrs.frozen
class Erased:
    """Items of one rule and category erased (or due, in a dry run) in one store."""

    rule: str
    store: str
    category: str
    action: RetentionAction
    count: int
    subjects: tuple[str, ...]
    table: str | None = None
    """For a store swept in place (a mapped database): the table (``count`` is then rows
    of that table)."""
    kept: int = 0
    """For a store swept in place: rows cleared but kept, because other rows reference
    them."""

    @classmethod
    def of(
        cls, selection: DueSelection, store: str, count: int, subjects: Iterable[str]
    ) -> "Erased":
        """Return what a planned selection erased in ``store``."""
        return cls(
            selection.rule,
            store,
            selection.category,
            selection.action,
            count,
            tuple(sorted(subjects)),
        )


@attrs.frozen
class Held:
    """Items kept past their rule's period in one store, and why.

    :ivar until: per subject, when the legal hold or consent extension ends.
    """

    rule: str
    store: str
    category: str
    kind: str
    ground: str
    count: int
    until: dict[str, datetime]


@attrs.frozen
class StoreFailure:
    """A store the sweep could not complete; nothing of it was recorded as erased."""

    store: str
    error: str


@attrs.frozen
class SweepReport:
    """What a sweep did (or, in a dry run, would do)."""

    now: datetime
    dry_run: bool
    erased: tuple[Erased, ...]
    held: tuple[Held, ...]
    failures: tuple[StoreFailure, ...]
    recovered: int = 0
    """Erasures of a killed sweep that this one recorded (intents it found)."""

    @property
    def ok(self) -> bool:
        """Whether every store completed."""
        return not self.failures

    @property
    def total(self) -> int:
        """How many items were erased or anonymised (or are due, in a dry run)."""
        return sum(e.count for e in self.erased)


def _mapped(erased: Erased) -> bool:
    return erased.table is not None


register_shape(Erased, Shape(when={"table": _mapped, "kept": _mapped}))
register_shape(Held, Shape(hooks={"until": sorted_mapping}))
register_shape(
    SweepReport, Shape(("now", "dry_run", "ok", "total", "recovered", "erased", "held", "failures"))
)


def plan(ws: "Workspace", now: datetime) -> SweepPlan:
    """Plan a sweep of ``ws`` at ``now`` from its ledger (subjects, events, consents).

    The plan is the one :func:`~praclox_privacy.domain.sweep_plan.plan_sweep` makes; the
    ledger may compute it in place (:meth:`~praclox_privacy.ports.Ledger.plan_sweep`).
    """
    return ws.ledger.plan_sweep(ws.policy, now)


def due_in_place(ws: "Workspace", name: str, now: datetime) -> list[Erased]:
    """Return what a sweep at ``now`` would erase in store ``name``, swept in place.

    For ``check``: the same statements as the sweep, counting instead of erasing.

    :raises ValueError: when the store is not swept in place
        (:class:`~praclox_privacy.ports.SweepsInPlace`).
    """
    store = ws.store(name)
    if not isinstance(store, SweepsInPlace):
        raise ValueError(f"store {name!r} is not swept in place")
    erased: list[Erased] = []
    _Sweep(ws, now, True, None, "check", BATCH_SUBJECTS)._sweep_in_place(name, store, erased, [])
    return erased


def _batches(selection: DueSelection, size: int) -> Iterator[DueQuery]:
    ids = selection.subject_ids
    for start in range(0, len(ids), size):
        yield DueQuery({selection.category}, ids[start : start + size], selection.collected_before)


def run_sweep(
    ws: "Workspace",
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    wait: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    actor: str = "sweep",
    batch_subjects: int = BATCH_SUBJECTS,
) -> SweepReport:
    """Sweep every store of ``ws`` at ``now`` (default: the workspace clock).

    :param dry_run: only count what is due and held; change nothing.
    :param wait: wait for a running sweep to finish instead of raising :class:`SweepBusy`.
    :param on_progress: called with (batches done, batches in all).
    :param batch_subjects: subjects per batch (per statement and per commit).
    :raises SweepBusy: when another sweep holds the lock and ``wait`` is false.
    """
    now = ws.now(now)
    with ws.ledger.exclusive(LOCK_NAME, wait=wait) as held_lock:
        if not held_lock:
            raise SweepBusy(
                "another sweep of this workspace is running; nothing was done (retry later, "
                "or pass --wait)"
            )
        if batch_subjects < 1:
            raise ValueError("batch_subjects must be at least 1")
        return _Sweep(ws, now, dry_run, on_progress, actor, batch_subjects).run()


def _only_subject(keys: Sequence[ItemKey]) -> str | None:
    subjects = {k.subject_id for k in keys}
    return subjects.pop() if len(subjects) == 1 else None


class _Sweep:
    def __init__(
        self,
        ws: "Workspace",
        now: datetime,
        dry_run: bool,
        on_progress: Callable[[int, int], None] | None,
        actor: str,
        batch_subjects: int,
    ) -> None:
        self.batch_subjects = batch_subjects
        self.ws = ws
        self.now = now
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.actor = actor
        self.hooked = bool(ws.plugin_manager.hook.items_erased.get_hookimpls())

    def run(self) -> SweepReport:
        ws = self.ws
        recovered = 0 if self.dry_run else self._finish_intents()
        the_plan = plan(ws, self.now)
        erased: list[Erased] = []
        held: list[Held] = []
        failures: list[StoreFailure] = []
        size = self.batch_subjects
        per_store = sum(-(-len(s.subject_ids) // size) for s in the_plan.selections)
        batches = per_store * len(ws.store_names)
        done = 0
        self._open_stores()
        for name in ws.store_names:
            try:
                store = ws.store(name)
                if isinstance(store, SweepsInPlace):
                    self._sweep_in_place(name, store, erased, held)
                    continue
                for selection in the_plan.selections:
                    count, subjects = 0, set[str]()
                    try:
                        for query in _batches(selection, size):
                            n, touched = self._batch(name, store, selection, query)
                            count += n
                            subjects.update(touched)
                            done += 1
                            if self.on_progress is not None:
                                self.on_progress(done, batches)
                    finally:
                        # Batches committed before a failure are reported too.
                        if count:
                            erased.append(Erased.of(selection, name, count, subjects))
                held.extend(self._held(name, store, the_plan.held))
                self._sweep_ephemeral(name, store, erased)
            except StoreError as error:
                failures.append(StoreFailure(name, str(error)))
        report = SweepReport(
            self.now, self.dry_run, tuple(erased), tuple(held), tuple(failures), recovered
        )
        if not self.dry_run:
            ws.ledger.audit(
                "sweep.finished",
                {
                    "now": self.now.isoformat(),
                    "total": report.total,
                    "ok": report.ok,
                    "failed_stores": [f.store for f in failures],
                    "recovered": recovered,
                },
                actor=self.actor,
            )
        return report

    def _open_stores(self) -> None:
        """Open every store first: a stale mapping fails the sweep before any write."""
        for name in self.ws.store_names:
            # An unreachable store is reported when its turn comes; the others go on.
            with contextlib.suppress(StoreError):
                self.ws.store(name)

    # -- categories the policy made ephemeral (S11) ---------------------------------------

    def _sweep_ephemeral(self, name: str, store: Store, erased: list[Erased]) -> None:
        """Erase every item of a category the policy marks ephemeral (S11), at once.

        Stores refuse to write such items, but items written under an older policy, when
        the category was not ephemeral yet, stay until a sweep removes them: they have no
        retention period, so they are due now, whoever they belong to.
        """
        held = store.categories_held()
        for category in self.ws.policy.categories:
            if not category.ephemeral or not held.get(category.id):
                continue
            who = sorted({k.subject_id for k in store.find_due(DueQuery({category.id}))})
            if not who:
                continue
            selection = DueSelection(
                EPHEMERAL_RULE, RetentionAction.ERASE, category.id, self.now, tuple(who)
            )
            count, subjects = 0, set[str]()
            try:
                for query in _batches(selection, self.batch_subjects):
                    n, touched = self._batch(name, store, selection, query)
                    count += n
                    subjects.update(touched)
            finally:
                if count:
                    erased.append(Erased.of(selection, name, count, subjects))

    # -- stores swept in place (mapped databases) ----------------------------------------

    def _sweep_in_place(
        self, name: str, store: SweepsInPlace, erased: list[Erased], held: list[Held]
    ) -> None:
        """Sweep a store in place: its own statements per step, consent holders one by one."""
        ws = self.ws
        consents = ws.ledger.all_consents()
        planned = store.plan_in_place(self.now, consents, ws.ledger.location)
        for step in planned.steps:
            # Subjects in key order, each once (rows of an owned table share subjects).
            count, kept, subjects, listed = 0, 0, dict[str, None](), list[str]()
            try:
                for batch in store.run_in_place(
                    step,
                    self.dry_run,
                    lambda details: self._record_in_place_intent(name, details),
                    lambda intent, details: self._close_intent(intent, name, details),
                ):
                    count += batch.count
                    kept += batch.kept
                    if step.unique_subjects:
                        listed.extend(batch.subjects)
                    else:
                        subjects.update(dict.fromkeys(batch.subjects))
            finally:
                if count:
                    erased.extend(
                        Erased(
                            step.rules[0] if len(step.rules) == 1 else ",".join(step.rules),
                            name,
                            category,
                            step.action,
                            count,
                            tuple(listed or subjects),
                            step.table,
                            kept,
                        )
                        for category in step.categories
                    )
        alone = list(planned.judged_alone)
        if not alone:
            return
        own = plan_sweep(alone, {s.id: consents.get(s.id, []) for s in alone}, ws.policy, self.now)
        for selection in own.selections:
            count, touched = 0, set[str]()
            for query in _batches(selection, self.batch_subjects):
                n, who = self._batch(name, store, selection, query)
                count += n
                touched.update(who)
            if count:
                erased.append(Erased.of(selection, name, count, touched))
        held.extend(self._held(name, store, own.held))

    def _record_in_place_intent(self, name: str, details: dict[str, Any]) -> int:
        """Record an in-place batch's intent: its keys go once, into the audit entry.

        The intent points at that entry (``audit_seq``); the erasure's own entry later
        names the same intent, so the audit trail says which rows went.
        """
        ledger = self.ws.ledger
        details = {**details, "store": name, "now": self.now.isoformat()}
        summary = {k: v for k, v in details.items() if k not in ("keys", "subjects")}
        with ledger.transaction():
            intent = ledger.add_intent(name, self.now, summary)
            entry = ledger.audit("sweep.intent", {**details, "intent": intent}, actor=self.actor)
            ledger.update_intent(intent, {**summary, "audit_seq": entry.seq})
        return intent

    # -- one batch -------------------------------------------------------------------

    def _details(
        self, name: str, selection: DueSelection, count: int, subjects: Iterable[str]
    ) -> dict[str, Any]:
        return {
            "rule": selection.rule,
            "store": name,
            "category": selection.category,
            "action": selection.action.value,
            "count": count,
            "subjects": sorted(set(subjects)),
            "collected_before": selection.collected_before.isoformat(),
            "now": self.now.isoformat(),
        }

    def _batch(
        self, name: str, store: Store, selection: DueSelection, query: DueQuery
    ) -> tuple[int, Sequence[str]]:
        """Run one batch; return how many items went and the subjects they belonged to.

        Without plugins listening, the primary store erases set-based; otherwise the keys
        are found first, so the hook gets exactly the items erased.
        """
        ws = self.ws
        if self.dry_run:
            keys = list(store.find_due(query))
            return len(keys), sorted({k.subject_id for k in keys})
        action = selection.action
        if ws._is_primary(name) and not self.hooked:
            with ws.ledger.transaction():
                erased = store.erase_due(query, action)
                subjects = sorted(erased.subject_ids)
                if erased.count:
                    ws.ledger.audit(
                        f"sweep.{action.value}d",
                        self._details(name, selection, erased.count, subjects),
                        subjects[0] if len(subjects) == 1 else None,
                        actor=self.actor,
                    )
            return erased.count, subjects
        keys = list(store.find_due(query))
        if not keys:
            return 0, []
        subjects = sorted({k.subject_id for k in keys})
        details = self._details(name, selection, len(keys), subjects)
        if ws._is_primary(name):
            with ws.ledger.transaction():
                store.erase(keys, action)
                ws.ledger.audit(
                    f"sweep.{action.value}d",
                    details,
                    subjects[0] if len(subjects) == 1 else None,
                    actor=self.actor,
                )
            count = len(keys)
        else:
            intent = self._record_intent(name, selection, keys)
            # Erase by the query, not the keys: an item rewritten since find_due (no
            # longer due) stays.
            erased = store.erase_due(query, action)
            count, subjects = erased.count, sorted(erased.subject_ids)
            self._close_intent(intent, name, self._details(name, selection, count, subjects))
        if self.hooked and count:
            ws.plugin_manager.hook.items_erased(store=name, keys=keys, action=action)
        return count, subjects

    def _held(self, name: str, store: Store, held: Sequence[HeldBack]) -> Iterator[Held]:
        groups: dict[tuple[str, str, str, str], dict[str, datetime]] = {}
        for h in held:
            groups.setdefault((h.rule, h.category, h.kind, h.ground), {})[h.subject_id] = h.until
        for (rule, category, kind, ground), until in sorted(groups.items()):
            ids = sorted(until)
            present: dict[str, datetime] = {}
            count = 0
            for start in range(0, len(ids), self.batch_subjects):
                chunk = ids[start : start + self.batch_subjects]
                for key in store.find_due(DueQuery({category}, chunk)):
                    count += 1
                    present[key.subject_id] = until[key.subject_id]
            if count:
                yield Held(rule, name, category, kind, ground, count, present)

    # -- intents for stores outside the ledger's transaction ----------------------------

    def _record_intent(self, name: str, selection: DueSelection, keys: Sequence[ItemKey]) -> int:
        ledger = self.ws.ledger
        summary = self._details(name, selection, len(keys), (k.subject_id for k in keys))
        details = {**summary, "keys": [[k.subject_id, k.category, k.field] for k in keys]}
        with ledger.transaction():
            intent = ledger.add_intent(name, self.now, details)
            ledger.audit("sweep.intent", {**summary, "intent": intent}, actor=self.actor)
        return intent

    def _close_intent(self, intent: int, name: str, details: dict[str, Any]) -> None:
        ledger = self.ws.ledger
        with ledger.transaction():
            subjects = details["subjects"]
            ledger.audit(
                f"sweep.{details['action']}d",
                {**details, "intent": intent},
                subjects[0] if len(subjects) == 1 else None,
                actor=self.actor,
            )
            ledger.drop_intent(intent)

    def _finish_intents(self) -> int:
        """Complete the erasures a killed sweep recorded as intents; return how many."""
        finished = 0
        for left in list(self.ws.ledger.intents()):
            details = dict(left.details)
            if details.get("kind") == "mapped-rows":
                finished += self._finish_in_place_intent(left.id, left.store, details)
                continue
            keys = [ItemKey(*k) for k in details.pop("keys")]
            subjects = sorted({k.subject_id for k in keys})
            query = DueQuery(
                {details["category"]}, subjects, datetime.fromisoformat(details["collected_before"])
            )
            try:
                store = self.ws.store(left.store)
                # What the killed sweep already erased: recorded keys no longer there.
                wanted = set(keys)
                present = {i.key for s in subjects for i in store.items_of(s) if i.key in wanted}
                # What is still due is erased now; rewritten (fresh) items stay.
                now_erased = store.erase_due(query, RetentionAction(details["action"]))
            except PracloxPrivacyError:
                continue  # the store is down or gone: the intent stays for the next sweep
            count = len(wanted - present) + now_erased.count
            who = sorted({k.subject_id for k in wanted - present} | now_erased.subject_ids)
            self._close_intent(
                left.id,
                left.store,
                {**details, "count": count, "subjects": who, "recovered": True},
            )
            finished += count
        return finished

    def _finish_in_place_intent(self, intent: int, name: str, details: dict[str, Any]) -> int:
        try:
            recorded = self.ws.ledger.audit_entry(int(details["audit_seq"])).details
            store = self.ws.store(name)
            if not isinstance(store, SweepsInPlace):
                raise StoreError(f"store {name!r} is no longer swept in place")
            done = store.recover_in_place({**details, **recorded})
        except PracloxPrivacyError:
            return 0  # the store is down or gone: the intent stays for the next sweep
        summary = {k: v for k, v in details.items() if k != "keys"}
        self._close_intent(
            intent,
            name,
            {**summary, "subjects": list(done.subjects), "kept": done.kept, "recovered": True},
        )
        return done.count
