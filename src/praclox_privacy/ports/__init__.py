"""Ports: the protocols between the services and the adapters; imports the domain only.

* ``ports.stores``: the store contract (:class:`Store`, :class:`SubjectSource`), the values a
  store takes and returns, the capabilities a service may ask a store for
  (:class:`FindsByValue`, :class:`ReadsAll`, :class:`SweepsInPlace`,
  :class:`ReportsKeptRows`) and :class:`ScanningStore`, a base for stores that read
  everything at once;
* ``ports.ledger``: the ledger (:class:`Ledger`) and its registers
  (:class:`Registers`, :class:`RequestRegister`);
* ``ports.plugins``: what plugins get of the application (:class:`WorkspaceView`,
  :class:`CommandKit`) and the workspace configuration (:class:`WorkspaceConfig`).

Services depend on these protocols, never on a concrete store; stores implement them and
are registered through the plugin hooks (:mod:`praclox_privacy.hookspecs`).
"""

from .ledger import Intent, Ledger, LedgerError, Registers, RequestRegister
from .plugins import CONFIG_NAME, ClickDecorator, CommandKit, WorkspaceConfig, WorkspaceView
from .stores import (
    ANONYMISED,
    BatchDone,
    Capabilities,
    DueQuery,
    ErasedItems,
    FindsByValue,
    Health,
    InPlacePlan,
    InPlaceStep,
    LedgerFactory,
    ReadsAll,
    RelationTypesOf,
    ReportsKeptRows,
    ScanningStore,
    Store,
    StoreContext,
    StoreError,
    StoreKind,
    StoreUnavailable,
    SubjectSource,
    SweepsInPlace,
    WriteRefused,
    check_storable,
)

__all__ = [
    "ANONYMISED",
    "CONFIG_NAME",
    "BatchDone",
    "Capabilities",
    "ClickDecorator",
    "CommandKit",
    "DueQuery",
    "ErasedItems",
    "FindsByValue",
    "Health",
    "InPlacePlan",
    "InPlaceStep",
    "Intent",
    "Ledger",
    "LedgerError",
    "LedgerFactory",
    "ReadsAll",
    "Registers",
    "RelationTypesOf",
    "ReportsKeptRows",
    "RequestRegister",
    "ScanningStore",
    "Store",
    "StoreContext",
    "StoreError",
    "StoreKind",
    "StoreUnavailable",
    "SubjectSource",
    "SweepsInPlace",
    "WorkspaceConfig",
    "WorkspaceView",
    "WriteRefused",
    "check_storable",
]
