"""The ``praclox-privacy`` command line: click only here, one module per command group.

Exit codes: 0 success, 1 a check failed or an operation was refused, 2 usage errors.
Heavy modules are imported inside the commands, so ``--help`` answers at once. Options
shared by several commands are declared once, in :mod:`.options`. Plugins add command
groups through the ``register_commands`` hook (the built-in ``map`` and ``crm`` are
added that way); :class:`Main` finds them when a command is not a built-in one.
"""

import click

from .. import __version__
from .agenda import agenda
from .check import check
from .consent import consent, disclosure
from .documents import export, register, statement
from .guards import agreement, guard, staff
from .plugins import plugin_commands, plugins
from .policy import policy
from .requests import request
from .sweep import demo, sweep
from .workspace import audit, data, init, subject

__all__ = ["Main", "main"]


class Main(click.Group):
    """The top-level group: the built-in commands, and those the plugins add."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from ..plugins import make_plugin_manager

        found = plugin_commands(make_plugin_manager(), self.commands)
        return {name: command for name, (_, command) in found.items()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the built-in commands' names and the plugins' commands'."""
        from ..domain.errors import PracloxPrivacyError

        try:
            added = self._plugin_commands()
        except PracloxPrivacyError as exc:  # --help still works with a broken plugin
            click.echo(f"warning: plugins' commands are not listed: {exc}", err=True)
            added = {}
        return sorted({*self.commands, *added})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the built-in command ``cmd_name``, or the one a plugin adds."""
        builtin = self.commands.get(cmd_name)
        if builtin is not None:
            return builtin
        from ..domain.errors import PracloxPrivacyError

        try:
            return self._plugin_commands().get(cmd_name)
        except PracloxPrivacyError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="praclox-privacy")
def main() -> None:
    """Turn a privacy statement into enforced code."""


for _command in (
    policy,
    init,
    subject,
    data,
    audit,
    sweep,
    demo,
    statement,
    register,
    export,
    request,
    check,
    consent,
    disclosure,
    staff,
    guard,
    agreement,
    agenda,
    plugins,
):
    main.add_command(_command)
