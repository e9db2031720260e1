"""``praclox-privacy plugins``, and the commands plugins add (the ``register_commands`` hook)."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from .kit import KIT
from .options import FORMAT_OPTION as _FORMAT
from .options import emit_json as _json

if TYPE_CHECKING:
    import pluggy

__all__ = ["plugin_commands", "plugins"]


def plugin_commands(
    pm: "pluggy.PluginManager", builtin: Mapping[str, click.Command]
) -> dict[str, tuple[str, click.Command]]:
    """Return the commands plugins add, by name, each with the plugin that added it.

    :param builtin: the built-in commands, whose names no plugin may take.
    :raises PluginError: when a plugin registers something that is not a click command,
        or a name that a built-in command or another plugin uses (naming both).
    """
    from ..plugins import PluginError

    found: dict[str, tuple[str, click.Command]] = {}
    for impl in pm.hook.register_commands.get_hookimpls():
        owner = impl.plugin_name

        def register(command: click.Command, owner: str = owner) -> None:
            if not isinstance(command, click.Command) or not command.name:
                raise PluginError(
                    f"plugin {owner!r} registered {command!r}, which is not a named click command"
                )
            name = command.name
            if name in builtin:
                raise PluginError(
                    f"plugin {owner!r} registers a command {name!r}, which is a built-in command"
                )
            if name in found:
                raise PluginError(
                    f"command {name!r} is registered by both {found[name][0]!r} and {owner!r}"
                )
            found[name] = (owner, command)

        impl.function(register=register, cli=KIT)
    return found


def _describe(
    pm: "pluggy.PluginManager", builtin: Mapping[str, click.Command]
) -> list[dict[str, Any]]:
    from ..plugins import installed_plugins, store_kinds

    kinds = store_kinds(pm)
    kind_owner: dict[str, list[str]] = {}
    for impl in pm.hook.register_stores.get_hookimpls():
        names: list[str] = []
        impl.function(register=lambda kind, names=names: names.append(kind.name))
        kind_owner[impl.plugin_name] = sorted(n for n in names if n in kinds)
    commands: dict[str, list[str]] = {}
    for name, (owner, _) in plugin_commands(pm, builtin).items():
        commands.setdefault(owner, []).append(name)
    hooks: dict[str, list[str]] = {}
    for name, caller in vars(pm.hook).items():
        if hasattr(caller, "get_hookimpls"):
            for impl in caller.get_hookimpls():
                hooks.setdefault(impl.plugin_name, []).append(name)
    return [
        {
            "name": info.name,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
            "builtin": info.builtin,
            "store_kinds": kind_owner.get(info.name, []),
            "commands": sorted(commands.get(info.name, [])),
            "hooks": sorted(hooks.get(info.name, [])),
        }
        for info in installed_plugins()
    ]


@click.command("plugins", short_help="List the installed plugins, their versions and kinds.")
@_FORMAT
def plugins(fmt: str) -> None:
    """List the installed plugins, built-in and third-party.

    For each: its distribution and version, the store kinds and commands it adds and
    the hooks it implements.
    """
    from ..domain.errors import PracloxPrivacyError
    from ..plugins import make_plugin_manager

    try:
        root = click.get_current_context().find_root().command
        builtin = root.commands if isinstance(root, click.Group) else {}
        found = _describe(make_plugin_manager(), builtin)
    except PracloxPrivacyError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        _json(found)
        return
    for p in found:
        origin = f"{p['distribution']} {p['version']}" + (" (built-in)" if p["builtin"] else "")
        click.echo(f"{p['name']:<12} {origin:<32} {p['module']}")
        if p["store_kinds"]:
            click.echo(f"{'':<12} store kinds: {', '.join(p['store_kinds'])}")
        if p["commands"]:
            click.echo(f"{'':<12} commands: {', '.join(p['commands'])}")
        click.echo(f"{'':<12} hooks: {', '.join(p['hooks']) or '-'}")
