"""What the application lends plugins: an open workspace, and the command line.

A plugin that asks a person for consent (the ``ask_consent`` hook) gets a
:class:`WorkspaceView`; a plugin that adds commands (the ``register_commands`` hook) gets
a :class:`CommandKit`, whose :meth:`~CommandKit.open_workspace` yields one. Both are
protocols, so a plugin depends on this module only, never on the services or the CLI.
"""

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

import attrs

from ..domain.policy import Policy
from ..domain.records import Item
from .ledger import Ledger
from .stores import Store

__all__ = ["CONFIG_NAME", "ClickDecorator", "CommandKit", "WorkspaceConfig", "WorkspaceView"]

CONFIG_NAME = "praclox-privacy.toml"
"""The workspace configuration file's name."""


@attrs.frozen
class WorkspaceConfig:
    """The contents of ``praclox-privacy.toml``."""

    stores: dict[str, Any]
    policy: str = "default"
    primary: str = "main"
    timezone: str = "Europe/Amsterdam"
    notify: dict[str, Any] = attrs.field(factory=dict)
    """Settings of the built-in notifiers (``[notify.smtp]``, see docs/consent-and-guards.md)."""
    check: dict[str, Any] = attrs.field(factory=dict)
    """The ``[check]`` table: settings of ``praclox-privacy check`` (docs/check.md)."""


class WorkspaceView(Protocol):
    """An open workspace, as plugins see it.

    The services' :class:`~praclox_privacy.services.workspace.Workspace` is one.
    """

    @property
    def root(self) -> Path:
        """The workspace folder (with ``praclox-privacy.toml``)."""
        ...

    @property
    def config(self) -> WorkspaceConfig:
        """The workspace's configuration."""
        ...

    @property
    def policy(self) -> Policy:
        """The workspace's policy."""
        ...

    @property
    def timezone(self) -> tzinfo:
        """How dates without a UTC offset are read and written."""
        ...

    @property
    def clock(self) -> Callable[[], datetime]:
        """Returns "now" (timezone-aware)."""
        ...

    @property
    def ledger(self) -> Ledger:
        """Subjects, events, consents and the audit trail."""
        ...

    @property
    def store_names(self) -> list[str]:
        """The names of the configured stores, primary first."""
        ...

    def store(self, name: str | None = None) -> Store:
        """Return the store ``name`` (default: the primary), opening it on first use."""
        ...

    def store_kind(self, name: str) -> str:
        """Return the kind (plugin) of the configured store ``name``."""
        ...

    def items_of(self, subject_id: str) -> dict[str, list[Item]]:
        """Return the subject's items in every store, by store name."""
        ...

    def subject_sources(self) -> list[str]:
        """Return the names of the stores that hold subjects of their own."""
        ...

    def sync_subjects(
        self, store: str, subject_ids: Iterable[str] | None = None, actor: str = "api"
    ) -> dict[str, str]:
        """Register the subjects a subject-source store holds in the ledger."""
        ...


ClickDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]
"""A click option decorator."""


class CommandKit(Protocol):
    """What the command line lends the commands a plugin adds (``register_commands``).

    The options are those every command shares, so a plugin's commands read like the
    built-in ones; :meth:`open_workspace` reports errors with the CLI's exit codes.
    """

    @property
    def workspace_option(self) -> ClickDecorator:
        """``--workspace/-w DIR`` (default: the current folder), as ``workspace_dir: Path``."""
        ...

    @property
    def format_option(self) -> ClickDecorator:
        """``--format text|json`` (default: text), as ``fmt: str``."""
        ...

    def store_option(self, *, help: str) -> ClickDecorator:
        """Return ``--store NAME`` (as ``store_name``, ``None`` when not given)."""
        ...

    def policy_option(self, *, help: str) -> ClickDecorator:
        """Return ``--policy FILE`` (as ``policy_file``, a path; ``None`` when not given)."""
        ...

    def open_workspace(self, path: Path) -> AbstractContextManager[WorkspaceView]:
        """Open the workspace in ``path`` for the ``with`` block; close it afterwards.

        A configuration error exits 2 listing every problem; a refused operation exits 1.
        """
        ...

    def emit_json(self, data: Any) -> None:
        """Print ``data`` as indented JSON (instants as ISO 8601 strings)."""
        ...

    def print_problems(self, source: str, problems: list[str]) -> None:
        """Print a document's problems to standard error, one per line, after a count."""
        ...

    def load_policy(self, file: Path | None) -> Policy:
        """Return the policy in ``file`` (default: the shipped one).

        When it does not load, its problems are printed and the command exits 2.
        """
        ...
