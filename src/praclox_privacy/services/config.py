"""A workspace's ``praclox-privacy.toml``: read strictly (every problem at once), written new.

Example::

    policy = "default"            # or a policy file, relative to this folder
    primary = "main"              # the store that also holds the ledger
    timezone = "Europe/Amsterdam" # how dates without a time zone are read

    [stores.main]
    plugin = "sql"
    url = "sqlite:///praclox-privacy.db"

    [stores.archive]
    plugin = "files"
    path = "archive"

    [check]                       # optional: settings of `praclox-privacy check`
    statement = "docs/privacy.nl.md"

Each ``[stores.NAME]`` table names a store kind a plugin registers (``plugin``); the rest
of the table is structured strictly into that kind's settings class.
"""

import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..domain.errors import Problem, WorkspaceError
from ..domain.policy import Policy
from ..ports import CONFIG_NAME, StoreKind, WorkspaceConfig

if TYPE_CHECKING:
    import pluggy

__all__ = ["PRIMARY_KIND", "read_config", "write_config"]

PRIMARY_KIND = "sql"
"""The kind of a new workspace's primary store (``praclox-privacy init``)."""

_STORE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")

_TEMPLATE = """\
# praclox-privacy workspace (docs/workspace.md)
policy = {policy}            # "default" (Praclox's shipped policy) or a policy file path
primary = "main"              # the SQL store that also holds the ledger and audit trail
timezone = "Europe/Amsterdam" # how dates and times without a UTC offset are read

[stores.main]
plugin = {kind}
{settings}"""


def read_config(
    root: Path, pm: "pluggy.PluginManager"
) -> tuple[WorkspaceConfig, Policy, dict[str, tuple[StoreKind, Any]]]:
    """Read the configuration in ``root``: its policy, and each store's kind and settings.

    :raises WorkspaceError: naming the file and every key at fault.
    :raises PolicyError: when the workspace's policy is not valid.
    """
    from ..formats.policy import default_policy, load_policy_file, structure_document
    from ..plugins import store_kinds

    path = root / CONFIG_NAME
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(
            [Problem("", "no workspace here; create one with `praclox-privacy init`")],
            source,
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WorkspaceError([Problem("", f"cannot read it: {exc}")], source) from None
    config = structure_document(data, WorkspaceConfig, source, WorkspaceError)

    available = store_kinds(pm)
    problems: list[Problem] = []
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("timezone", f"unknown time zone {config.timezone!r}"))
    kinds: dict[str, tuple[StoreKind, Any]] = {}
    for name, table in config.stores.items():
        at = f"stores.{name}"
        if not _STORE_NAME.fullmatch(name):
            problems.append(
                Problem(
                    at,
                    "a store name is 1-32 lower-case letters, digits, "
                    "'_' or '-', starting with a letter",
                )
            )
            continue
        if not isinstance(table, dict):
            problems.append(Problem(at, "expected a table"))
            continue
        plugin = table.get("plugin")
        if not isinstance(plugin, str):
            problems.append(
                Problem(
                    f"{at}.plugin",
                    'required key is missing (the store kind, e.g. "sql" or "files")',
                )
            )
            continue
        if plugin not in available:
            problems.append(
                Problem(
                    f"{at}.plugin",
                    f"unknown store kind {plugin!r} (installed: {', '.join(sorted(available))})",
                )
            )
            continue
        kind = available[plugin]
        settings_data = {k: v for k, v in table.items() if k != "plugin"}
        try:
            settings: Any = structure_document(
                settings_data, kind.settings_type, source, WorkspaceError, at
            )
        except WorkspaceError as exc:
            problems.extend(exc.problems)
            continue
        kinds[name] = (kind, settings)
    if config.primary not in config.stores:
        problems.append(Problem("primary", f"no store named {config.primary!r} in [stores]"))
    if problems:
        raise WorkspaceError(problems, source)
    if config.policy == "default":
        policy = default_policy()
    else:
        policy = load_policy_file(root / config.policy)
    return config, policy, kinds


def write_config(root: Path, policy: str = "default", url: str | None = None) -> Path:
    """Write a new ``praclox-privacy.toml`` in ``root`` (created when missing).

    The primary store is of kind :data:`PRIMARY_KIND`, with the settings its plugin gives
    a new workspace (``StoreKind.init_settings``); ``url`` replaces the default URL.

    :returns: the path of the new file.
    :raises WorkspaceError: when ``root`` already has one.
    """
    from ..plugins import make_plugin_manager, store_kinds

    settings = dict(store_kinds(make_plugin_manager())[PRIMARY_KIND].init_settings)
    if url is not None:
        settings["url"] = url
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG_NAME
    text = _TEMPLATE.format(
        policy=_toml_str(policy),
        kind=_toml_str(PRIMARY_KIND),
        settings="".join(f"{k} = {_toml_str(v)}\n" for k, v in settings.items()),
    )
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise WorkspaceError(
            [Problem("", "a workspace already exists here; not overwriting it")], str(path)
        ) from None
    return path


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
