"""The plugin hooks of praclox-privacy (pluggy). Each hook is documented in docs/plugins.md.

A plugin is a module or object with functions marked ``@praclox_privacy.hookimpl`` whose
names match the hooks below; a third-party package makes it known through an entry point
in the ``praclox_privacy`` group.
"""

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .domain.guards import DisclosureRequest
    from .domain.policy import RetentionAction
    from .domain.records import Item, ItemKey
    from .ports import CommandKit, StoreKind, WorkspaceView

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "praclox_privacy"
"""The pluggy project name, which is also the entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_stores(register: "Callable[[StoreKind], None]") -> None:
    """Offer store kinds: call ``register(StoreKind(...))`` once per kind.

    :param register: validates and records a :class:`~praclox_privacy.ports.StoreKind`;
        a name that another plugin already registered is an error naming both plugins.
    """


@hookspec
def register_commands(register: "Callable[[Any], None]", cli: "CommandKit") -> None:
    """Add commands to ``praclox-privacy``: call ``register(command)`` once per command.

    A command is a click command or group; build it inside the hook (import click there),
    so that loading plugins stays cheap. The built-in ``map`` (sql-mapped) and ``crm``
    (tryton) groups are added this way.

    :param register: validates and records a :class:`click.Command` (typed loosely here,
        so that the hook specifications import no click); a name that a built-in command
        or another plugin already uses is an error naming both.
    :param cli: the options every command shares and the way to open a workspace
        (:class:`~praclox_privacy.ports.CommandKit`).
    """


@hookspec
def items_written(store: str, items: "Sequence[Item]") -> None:
    """React to ``items`` written to the store named ``store`` and committed.

    :param store: the store's name in the workspace.
    :param items: the items as written.
    """


@hookspec
def items_erased(store: str, keys: "Sequence[ItemKey]", action: "RetentionAction") -> None:
    """React to the items with ``keys`` erased or anonymised and committed.

    :param store: the store's name in the workspace.
    :param keys: the keys of the items erased or anonymised.
    :param action: ``erase`` or ``anonymise``.
    """


@hookspec
def ask_consent(
    request: "DisclosureRequest", subject_id: str, workspace: "WorkspaceView"
) -> "str | None":
    """Ask the person ``subject_id`` whether ``request`` (a third party's) may go ahead (S9).

    Every notifier is called, each on its own: one that raises leaves the request pending
    and is audited as failed; the others still run. A notifier never decides anything:
    the person's answer is recorded later with ``disclosure decide``.

    :param request: the disclosure request, as recorded.
    :param subject_id: whose data is asked for (the person to ask).
    :param workspace: the open workspace (its config, policy and stores).
    :returns: how the person was asked (e.g. ``"smtp:anna@example.org"``), or ``None``
        when this notifier is not configured.
    """
