"""Building the plugin manager and collecting the store kinds plugins offer.

There is no module-level manager: :func:`make_plugin_manager` builds a fresh one, so tests
and applications never share registrations. Built-in stores are plugins like any other:
they are declared as entry points and registered by name afterwards only when the
package's metadata is not installed (a plain source checkout).
"""

import importlib
import importlib.metadata
from collections.abc import Iterable

import pluggy

from . import hookspecs
from .domain.errors import PracloxPrivacyError
from .ports import StoreKind

__all__ = [
    "BUILTIN_PLUGINS",
    "PluginError",
    "make_plugin_manager",
    "store_kinds",
]

BUILTIN_PLUGINS: dict[str, str] = {
    "memory": "praclox_privacy.stores.memory",
    "sql": "praclox_privacy.stores.sql",
    "sql-mapped": "praclox_privacy.stores.mapped",
    "files": "praclox_privacy.stores.files",
    "notify": "praclox_privacy.stores.notify",
    "caldav": "praclox_privacy.stores.caldav",
}
"""Entry-point name -> module of the built-in plugins."""


class PluginError(PracloxPrivacyError):
    """A plugin is broken: it failed to load, or registered something invalid."""


def make_plugin_manager(
    load_entrypoints: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """Return a new plugin manager with the hooks, installed plugins and built-ins.

    :param load_entrypoints: load third-party plugins from the ``praclox_privacy``
        entry-point group (tests pass ``False`` to see only what they register).
    :param plugins: extra plugin objects or modules to register, e.g. in tests.
    :raises PluginError: when an installed plugin cannot be loaded.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        _refuse_reserved_names()
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception as exc:
            raise PluginError(f"a praclox_privacy plugin failed to load: {exc!r}") from exc
    for name, module in BUILTIN_PLUGINS.items():
        registered = pm.get_plugin(name)
        if registered is None:
            pm.register(importlib.import_module(module), name=name)
        elif getattr(registered, "__name__", None) != module:
            owner = next(
                (d.project_name for p, d in pm.list_plugin_distinfo() if p is registered),
                "an installed distribution",
            )
            raise PluginError(
                f"{owner} registers a plugin named {name!r}, which is reserved for the "
                f"built-in {module}; rename its entry point"
            )
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _refuse_reserved_names() -> None:
    """Refuse an installed entry point that takes a built-in plugin's name.

    pluggy registers the first entry point of a name and skips later ones silently, so
    which one won would depend on the order distributions are listed.
    """
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
        module = BUILTIN_PLUGINS.get(ep.name)
        if module is not None and ep.value != module:
            owner = ep.dist.name if ep.dist is not None else "an installed distribution"
            raise PluginError(
                f"{owner} registers a plugin named {ep.name!r}, which is reserved for the "
                f"built-in {module}; rename its entry point"
            )


def store_kinds(pm: pluggy.PluginManager) -> dict[str, StoreKind]:
    """Return every store kind the plugins register, by name.

    :raises PluginError: when a plugin registers something that is not a
        :class:`~praclox_privacy.ports.StoreKind` or a name twice.
    """
    kinds: dict[str, StoreKind] = {}
    owners: dict[str, str] = {}

    for impl in pm.hook.register_stores.get_hookimpls():
        owner = impl.plugin_name

        def register(kind: StoreKind, owner: str = owner) -> None:
            if not isinstance(kind, StoreKind):
                raise PluginError(f"plugin {owner!r} registered {kind!r}, which is not a StoreKind")
            if kind.name in kinds:
                raise PluginError(
                    f"store kind {kind.name!r} is registered by both {owners[kind.name]!r} "
                    f"and {owner!r}"
                )
            kinds[kind.name] = kind
            owners[kind.name] = owner

        impl.function(register=register)
    return kinds
