"""Building the plugin manager and collecting what plugins register.

There is no module-level manager: :func:`make_plugin_manager` builds a fresh one, so tests
and applications never share registrations. Built-in plugins are plugins like any other:
they are the entry points of praclox-privacy's own distribution in the ``praclox_privacy``
group (its ``pyproject.toml``), the one list of them. Their names are reserved: another
distribution's entry point with such a name, or two distributions giving the same name,
is an error naming both, never a silent choice.
"""

import importlib
import importlib.metadata
from collections.abc import Iterable

import attrs
import pluggy

from . import hookspecs
from .domain.errors import PracloxPrivacyError
from .ports import StoreKind

__all__ = [
    "DISTRIBUTION",
    "PluginError",
    "PluginInfo",
    "builtin_plugins",
    "installed_plugins",
    "make_plugin_manager",
    "store_kinds",
]

DISTRIBUTION = "praclox-privacy"
"""The distribution whose entry points are the built-in plugins."""


class PluginError(PracloxPrivacyError):
    """A plugin is broken: it failed to load, registered something invalid or took a name."""


@attrs.frozen
class PluginInfo:
    """An installed plugin: an entry point of the ``praclox_privacy`` group.

    :ivar name: the entry point's name, which is the plugin's name in the manager.
    :ivar module: what the entry point loads (``package.module``).
    :ivar distribution: the distribution that declares it.
    :ivar version: that distribution's version.
    """

    name: str
    module: str
    distribution: str
    version: str

    @property
    def builtin(self) -> bool:
        """Whether praclox-privacy itself ships it."""
        return _canonical(self.distribution) == _canonical(DISTRIBUTION)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _entry_points() -> list[PluginInfo]:
    found: list[PluginInfo] = []
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
        dist = ep.dist
        name = dist.name if dist is not None else "an installed distribution"
        version = dist.version if dist is not None else "?"
        found.append(PluginInfo(ep.name, ep.value, name, version))
    return found


def builtin_plugins() -> list[PluginInfo]:
    """Return the built-in plugins: praclox-privacy's own entry points, by name.

    :raises PluginError: when praclox-privacy's distribution metadata is missing (the
        package is imported from a source tree that was never installed).
    """
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise PluginError(
            f"{DISTRIBUTION} is not installed, so its built-in plugins (its entry points) "
            "are unknown: install it (pip install -e . in a source tree)"
        ) from None
    return sorted(
        (
            PluginInfo(ep.name, ep.value, dist.name, dist.version)
            for ep in dist.entry_points
            if ep.group == hookspecs.PROJECT
        ),
        key=lambda p: p.name,
    )


def installed_plugins() -> list[PluginInfo]:
    """Return every installed plugin, built-in and third-party, sorted by name.

    :raises PluginError: when a distribution takes a built-in plugin's name, or two
        distributions give a plugin the same name (the error names both).
    """
    builtin = {p.name: p for p in builtin_plugins()}
    chosen: dict[str, PluginInfo] = dict(builtin)
    for info in _entry_points():
        if info.builtin:
            continue
        taken = builtin.get(info.name)
        if taken is not None:
            raise PluginError(
                f"{info.distribution} registers a plugin named {info.name!r}, which is "
                f"reserved for {DISTRIBUTION}'s built-in {taken.module}; rename its entry point"
            )
        other = chosen.get(info.name)
        if other is not None and other != info:
            raise PluginError(
                f"{info.distribution} and {other.distribution} both register a plugin named "
                f"{info.name!r}; uninstall one, or rename one's entry point"
            )
        chosen[info.name] = info
    return sorted(chosen.values(), key=lambda p: p.name)


def make_plugin_manager(
    load_entrypoints: bool = True, plugins: Iterable[object] = ()
) -> pluggy.PluginManager:
    """Return a new plugin manager with the hooks, the built-in and installed plugins.

    :param load_entrypoints: also load third-party plugins from the ``praclox_privacy``
        entry-point group (tests pass ``False`` to see only the built-ins and what they
        register themselves).
    :param plugins: extra plugin objects or modules to register, e.g. in tests.
    :raises PluginError: when a plugin cannot be loaded or takes another's name.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for info in installed_plugins() if load_entrypoints else builtin_plugins():
        try:
            module = importlib.import_module(info.module)
        except Exception as exc:
            raise PluginError(
                f"the praclox_privacy plugin {info.name!r} of {info.distribution} failed to "
                f"load: {exc!r}"
            ) from exc
        pm.register(module, name=info.name)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


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
