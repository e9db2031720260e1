"""The :class:`~praclox_privacy.ports.CommandKit` the CLI lends plugins' commands."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .options import (
    FORMAT_OPTION,
    WORKSPACE_OPTION,
    emit_json,
    open_workspace,
    policy_option,
    print_problems,
    store_option,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ..domain.policy import Policy
    from ..ports import ClickDecorator, WorkspaceView

__all__ = ["KIT", "Kit"]


@attrs.frozen
class Kit:
    """The shared options and helpers of the built-in commands, for plugins' commands."""

    workspace_option: "ClickDecorator" = WORKSPACE_OPTION
    format_option: "ClickDecorator" = FORMAT_OPTION

    def store_option(self, *, help: str) -> "ClickDecorator":
        """Return ``--store NAME`` (as ``store_name``)."""
        return store_option(help=help)

    def policy_option(self, *, help: str) -> "ClickDecorator":
        """Return ``--policy FILE`` (as ``policy_file``)."""
        return policy_option(help=help)

    def open_workspace(self, path: Path) -> "AbstractContextManager[WorkspaceView]":
        """Open the workspace in ``path`` for a ``with`` block (exit codes: 2, 1)."""
        return open_workspace(path)

    def emit_json(self, data: Any) -> None:
        """Print ``data`` as indented JSON."""
        emit_json(data)

    def print_problems(self, source: str, problems: list[str]) -> None:
        """Print a document's problems to standard error, after a count."""
        print_problems(source, problems)

    def load_policy(self, file: Path | None) -> "Policy":
        """Return the policy in ``file`` (default: the shipped one); exit 2 when invalid."""
        from ..domain.errors import PolicyError
        from ..formats.policy import default_policy, load_policy_file

        try:
            return default_policy() if file is None else load_policy_file(file)
        except PolicyError as exc:
            print_problems(exc.source, [str(p) for p in exc.problems])
            raise SystemExit(2) from None


KIT = Kit()
"""The kit passed to the ``register_commands`` hook."""
