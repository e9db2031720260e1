"""The plugin system: every hook is documented and tested, built-ins are plugins like any
other, and the notification hooks fire only for committed changes.

Like Datasette's plugin tests, the first tests iterate over the hooks the plugin manager
knows, so adding a hook without a ``## <name>`` section in docs/plugins.md or a
``test_hook_<name>`` function here fails the suite.
"""

import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pluggy
import pytest

import praclox_privacy
from helpers import new_workspace
from praclox_privacy import Item, ItemKey, RetentionAction
from praclox_privacy.plugins import (
    PluginError,
    PluginInfo,
    builtin_plugins,
    make_plugin_manager,
    store_kinds,
)
from praclox_privacy.ports import StoreKind, WriteRefused
from praclox_privacy.services.workspace import Workspace
from praclox_privacy.stores.memory import MemorySettings, MemoryStore

ROOT = Path(__file__).resolve().parents[2]
PLUGINS_DOC = ROOT / "docs" / "plugins.md"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _hook_names() -> list[str]:
    hooks = make_plugin_manager(load_entrypoints=False).hook
    return sorted(
        name
        for name, caller in vars(hooks).items()
        if isinstance(caller, pluggy.HookCaller) and caller.has_spec()
    )


HOOKS = _hook_names()


def test_the_hooks_are_found() -> None:
    assert {"register_stores", "items_written", "items_erased"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    headings = re.findall(r"^## (\S+)\s*$", PLUGINS_DOC.read_text(encoding="utf-8"), re.M)
    assert hook in headings, f"docs/plugins.md has no '## {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    test = globals().get(f"test_hook_{hook}")
    assert callable(test), f"tests/unit/test_plugins.py has no test_hook_{hook}"


# -- helpers ---------------------------------------------------------------------------


def _plugin_module(name: str, **hooks: Callable[..., None]) -> types.ModuleType:
    """Return a module object named ``name`` with the given hook implementations."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, praclox_privacy.hookimpl(function))
    return module


def _memory_kind(name: str) -> StoreKind:
    return StoreKind(
        name=name,
        factory=lambda settings, context: MemoryStore(context.policy, context.name),
        settings_type=MemorySettings,
    )


@attrs.define
class Recorder:
    """A plugin object recording the notifications it receives."""

    written: list[tuple[str, list[Item]]] = attrs.Factory(list)
    erased: list[tuple[str, list[ItemKey], RetentionAction]] = attrs.Factory(list)

    @praclox_privacy.hookimpl
    def items_written(self, store: str, items: Sequence[Item]) -> None:
        self.written.append((store, list(items)))

    @praclox_privacy.hookimpl
    def items_erased(self, store: str, keys: Sequence[ItemKey], action: RetentionAction) -> None:
        self.erased.append((store, list(keys), action))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def workspace(tmp_path: Path, recorder: Recorder) -> Iterator[Workspace]:
    """A new workspace (SQLite primary ``main`` plus a ``memory`` store ``scratch``)."""
    new_workspace(tmp_path, '\n[stores.scratch]\nplugin = "memory"\n')
    pm = make_plugin_manager(load_entrypoints=False, plugins=[recorder])
    pm.check_pending()
    ws = Workspace.open(tmp_path, plugin_manager=pm, clock=lambda: NOW)
    yield ws
    ws.close()


# -- register_stores -------------------------------------------------------------------


def test_hook_register_stores() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    kinds = store_kinds(pm)
    assert set(kinds) == {"memory", "sql", "sql-mapped", "files", "caldav", "tryton"}
    owners = {impl.plugin_name for impl in pm.hook.register_stores.get_hookimpls()}
    assert owners == {"memory", "sql", "sql-mapped", "files", "caldav", "tryton"}
    for name, kind in kinds.items():
        assert isinstance(kind, StoreKind)
        assert kind.name == name
        assert attrs.has(kind.settings_type)
        assert kind.description


def test_hook_register_stores_a_third_party_kind() -> None:
    plugin = _plugin_module(
        "praclox_privacy_scratch",
        register_stores=lambda register: register(_memory_kind("scratch")),
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    pm.check_pending()
    kinds = store_kinds(pm)
    assert set(kinds) == {"memory", "sql", "sql-mapped", "files", "caldav", "tryton", "scratch"}
    assert pm.get_plugin("praclox_privacy_scratch") is plugin


def test_hook_register_stores_a_duplicate_kind_names_both_plugins() -> None:
    plugin = _plugin_module(
        "praclox_privacy_impostor", register_stores=lambda register: register(_memory_kind("sql"))
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    with pytest.raises(PluginError, match="'sql'") as info:
        store_kinds(pm)
    message = str(info.value)
    assert "registered by both" in message
    assert "'praclox_privacy_impostor'" in message
    assert "and 'sql'" in message or "'sql' and" in message


def test_hook_register_stores_something_else_than_a_store_kind() -> None:
    plugin = _plugin_module(
        "praclox_privacy_sloppy", register_stores=lambda register: register({"name": "sloppy"})
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    with pytest.raises(PluginError, match=r"'praclox_privacy_sloppy'.*not a StoreKind"):
        store_kinds(pm)


def test_hook_register_stores_is_not_called_when_loading_plugins() -> None:
    calls: list[str] = []
    plugin = _plugin_module(
        "praclox_privacy_counter", register_stores=lambda register: calls.append("x")
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    assert calls == []
    store_kinds(pm)
    assert calls == ["x"]


def test_a_misspelt_hook_is_an_error() -> None:
    plugin = _plugin_module("praclox_privacy_typo", item_written=lambda store, items: None)
    with pytest.raises(pluggy.PluginValidationError, match="item_written"):
        make_plugin_manager(load_entrypoints=False, plugins=[plugin])


# -- items_written ---------------------------------------------------------------------


def test_hook_items_written(workspace: Workspace, recorder: Recorder) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan", name="Jan Jansen")
    assert recorder.written == [
        ("main", [Item("jan", "person_name", "name", "Jan Jansen", NOW)]),
    ]

    birthday = Item("jan", "life_events", "birthday", "1980-02-29", NOW, ("congratulations",))
    phone = Item("jan", "person_contact", "phone", "+31 6 12345678", NOW)
    assert workspace.write([birthday, phone]) == 2
    assert recorder.written[-1] == ("main", [birthday, phone])

    assert workspace.write(iter([phone]), store="scratch") == 1
    assert recorder.written[-1] == ("scratch", [phone])
    assert len(recorder.written) == 3


def test_hook_items_written_not_called_when_a_write_is_refused(
    workspace: Workspace, recorder: Recorder
) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan")
    assert recorder.written == []  # no name or e-mail: no item, no notification
    good = Item("jan", "person_name", "name", "Jan", NOW)
    ephemeral = Item("jan", "search_parameters", "query", "accountant utrecht", NOW)
    for store in ("main", "scratch"):
        with pytest.raises(WriteRefused, match="ephemeral"):
            workspace.write([good, ephemeral], store=store)
    with pytest.raises(WriteRefused, match="not registered"):
        workspace.write([Item("stranger", "person_name", "name", "X", NOW)])
    assert workspace.write([]) == 0
    assert recorder.written == []
    assert workspace.items_of("jan") == {"main": [], "scratch": []}


def test_hook_items_written_once_per_import(
    workspace: Workspace, recorder: Recorder, tmp_path: Path
) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan")
    good = tmp_path / "good.csv"
    good.write_text(
        "subject_id,category,field,value\n"
        "jan,person_name,name,Jan\n"
        "jan,person_contact,email,jan@example.org\n",
        encoding="utf-8",
    )
    assert workspace.import_file(good) == 2
    assert [(store, [i.field for i in items]) for store, items in recorder.written] == [
        ("main", ["name", "email"])
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"subject_id": "jan", "category": "person_name", "field": "nick", "value": "J"}\n'
        '{"subject_id": "jan", "category": "search_parameters", "field": "q", "value": "x"}\n',
        encoding="utf-8",
    )
    with pytest.raises(praclox_privacy.PracloxPrivacyError, match=r"bad\.jsonl:2"):
        workspace.import_file(bad)
    assert len(recorder.written) == 1


# -- items_erased ----------------------------------------------------------------------


def test_hook_items_erased(workspace: Workspace, recorder: Recorder) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan", name="Jan Jansen")
    birthday = Item("jan", "life_events", "birthday", "1980-02-29", NOW)
    workspace.write([birthday])
    workspace.write([birthday], store="scratch")

    name = ItemKey("jan", "person_name", "name")
    assert workspace.erase([name], action=RetentionAction.ANONYMISE) == 1
    assert recorder.erased == [("main", [name], RetentionAction.ANONYMISE)]

    assert workspace.erase([birthday.key]) == 1
    assert recorder.erased[-1] == ("main", [birthday.key], RetentionAction.ERASE)

    assert workspace.erase([birthday.key], store="scratch") == 1
    assert recorder.erased[-1] == ("scratch", [birthday.key], RetentionAction.ERASE)
    assert len(recorder.erased) == 3


def test_hook_items_erased_not_called_when_nothing_was_erased(
    workspace: Workspace, recorder: Recorder
) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan")
    missing = ItemKey("jan", "person_name", "name")
    assert workspace.erase([missing]) == 0
    assert workspace.erase([missing], store="scratch") == 0
    assert workspace.erase([]) == 0
    assert recorder.erased == []


def test_hook_items_erased_gets_only_the_keys_erased(
    workspace: Workspace, recorder: Recorder
) -> None:
    workspace.add_subject(["contact_person"], subject_id="jan", name="Jan")
    name = ItemKey("jan", "person_name", "name")
    missing = ItemKey("jan", "life_events", "birthday")
    assert workspace.erase([name, missing]) == 1
    assert recorder.erased == [("main", [name], RetentionAction.ERASE)]


# -- register_commands -------------------------------------------------------------------


def test_hook_register_commands() -> None:
    import click
    from click.testing import CliRunner

    from praclox_privacy.cli import main
    from praclox_privacy.cli.plugins import plugin_commands

    def register_commands(register: Callable[[click.Command], None], cli: object) -> None:
        @click.command("hello")
        def hello() -> None:
            """Say hello."""
            click.echo("hello from a plugin")

        register(hello)

    plugin = _plugin_module("praclox_privacy_hello", register_commands=register_commands)
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    found = plugin_commands(pm, main.commands)
    # The built-in store plugins add their groups the same way.
    assert {name: owner for name, (owner, _) in found.items()} == {
        "hello": "praclox_privacy_hello",
        "map": "sql-mapped",
        "crm": "tryton",
    }
    result = CliRunner().invoke(found["hello"][1], [])
    assert result.output == "hello from a plugin\n"


def test_hook_register_commands_is_how_map_and_crm_reach_the_cli() -> None:
    from click.testing import CliRunner

    from praclox_privacy.cli import main

    assert "map" not in main.commands
    assert "crm" not in main.commands
    listed = CliRunner().invoke(main, ["--help"]).output
    assert "  map " in listed
    assert "  crm " in listed
    assert CliRunner().invoke(main, ["map", "--help"]).exit_code == 0


@pytest.mark.parametrize("name", ["sweep", "map"])
def test_hook_register_commands_a_taken_name_names_both(name: str) -> None:
    import click

    from praclox_privacy.cli import main
    from praclox_privacy.cli.plugins import plugin_commands

    plugin = _plugin_module(
        "praclox_privacy_greedy",
        register_commands=lambda register, cli: register(click.Command(name)),
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    with pytest.raises(PluginError, match=f"'{name}'") as info:
        plugin_commands(pm, main.commands)
    message = str(info.value)
    assert "'praclox_privacy_greedy'" in message
    assert "built-in command" in message or "'sql-mapped'" in message


def test_hook_register_commands_something_else_than_a_command() -> None:
    from praclox_privacy.cli import main
    from praclox_privacy.cli.plugins import plugin_commands

    plugin = _plugin_module(
        "praclox_privacy_sloppy", register_commands=lambda register, cli: register("hello")
    )
    pm = make_plugin_manager(load_entrypoints=False, plugins=[plugin])
    with pytest.raises(PluginError, match=r"'praclox_privacy_sloppy'.*not a named click command"):
        plugin_commands(pm, main.commands)


# -- the plugin manager ----------------------------------------------------------------


BUILTIN_PLUGINS = {p.name: p.module for p in builtin_plugins()}


def test_make_plugin_manager_loads_entry_points_and_the_builtins() -> None:
    pm = make_plugin_manager()
    pm.check_pending()
    for name, module in BUILTIN_PLUGINS.items():
        plugin = pm.get_plugin(name)
        assert plugin is not None, name
        assert plugin.__name__ == module
    assert {"memory", "sql", "files"} <= set(store_kinds(pm))


def test_each_call_builds_a_new_manager() -> None:
    extra = _plugin_module(
        "praclox_privacy_once", register_stores=lambda register: register(_memory_kind("once"))
    )
    first = make_plugin_manager(load_entrypoints=False, plugins=[extra])
    second = make_plugin_manager(load_entrypoints=False)
    assert first is not second
    assert "once" in store_kinds(first)
    assert "once" not in store_kinds(second)


def test_without_entry_points_only_the_builtins_are_registered() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    assert {name for name, _ in pm.list_name_plugin()} == set(BUILTIN_PLUGINS)


def _installed(monkeypatch: pytest.MonkeyPatch, *extra: PluginInfo) -> None:
    """Make the entry points of the group the built-ins' and ``extra``."""
    monkeypatch.setattr(
        praclox_privacy.plugins, "_entry_points", lambda: [*builtin_plugins(), *extra]
    )


def test_a_plugin_that_fails_to_load_is_a_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, PluginInfo("gone", "praclox_privacy_gone", "gone-plugin", "1.0"))
    with pytest.raises(PluginError, match=r"failed to load.*praclox_privacy_gone"):
        make_plugin_manager()


@pytest.mark.parametrize("name", sorted(BUILTIN_PLUGINS))
def test_a_third_party_plugin_may_not_claim_a_builtin_name(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Another distribution's entry point with this name, listed before or after ours.
    _installed(monkeypatch, PluginInfo(name, f"evil_{name}", "evil-plugin", "6.6.6"))
    with pytest.raises(PluginError, match=f"plugin named '{name}', which is reserved"):
        make_plugin_manager()


def test_a_claimed_builtin_name_names_the_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed distribution (a dist-info folder on sys.path) with an entry point ``sql``."""
    (tmp_path / "evil_sql_plugin.py").write_text(
        textwrap.dedent(
            """
            import praclox_privacy


            @praclox_privacy.hookimpl
            def register_stores(register):
                pass
            """
        ),
        encoding="utf-8",
    )
    dist_info = tmp_path / "evil_sql-6.6.6.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: evil-sql\nVersion: 6.6.6\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[praclox_privacy]\nsql = evil_sql_plugin\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # found before praclox-privacy itself
    try:
        with pytest.raises(PluginError) as info:
            make_plugin_manager()
    finally:
        sys.modules.pop("evil_sql_plugin", None)
    assert "evil-sql registers a plugin named 'sql'" in str(info.value)
    assert "rename its entry point" in str(info.value)


def test_two_distributions_with_one_plugin_name_are_an_error_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed(
        monkeypatch,
        PluginInfo("archive", "vendor_a.archive", "praclox-privacy-archive-a", "1.0"),
        PluginInfo("archive", "vendor_b.archive", "praclox-privacy-archive-b", "2.0"),
    )
    with pytest.raises(PluginError) as info:
        make_plugin_manager()
    message = str(info.value)
    assert "praclox-privacy-archive-a" in message
    assert "praclox-privacy-archive-b" in message
    assert "'archive'" in message


# -- one list of built-in plugins: the package's own entry points ------------------------


def _plugin_modules() -> set[str]:
    """The modules of the package that implement a hook (module-level hookimpls)."""
    import importlib
    import pkgutil

    found = set()
    for info in pkgutil.walk_packages(praclox_privacy.__path__, "praclox_privacy."):
        if info.name == "praclox_privacy.__main__":
            continue
        module = importlib.import_module(info.name)
        if any(
            hasattr(value, "praclox_privacy_impl") and getattr(value, "__module__", "") == info.name
            for value in vars(module).values()
        ):
            found.add(info.name)
    return found


def test_every_plugin_module_of_the_package_is_a_builtin_entry_point() -> None:
    assert _plugin_modules() == set(BUILTIN_PLUGINS.values())


def test_the_builtin_plugins_are_the_entry_points_of_pyproject() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = project["project"]["entry-points"]["praclox_privacy"]
    assert declared == BUILTIN_PLUGINS, "reinstall the package: its metadata is stale"


def test_docs_list_every_builtin_plugin() -> None:
    text = PLUGINS_DOC.read_text(encoding="utf-8")
    text = text[text.index("### The built-in plugins") :]
    block = re.search(r"```toml\n\[project.entry-points.praclox_privacy\]\n(.*?)```", text, re.S)
    assert block is not None, "docs/plugins.md lists no built-in entry points"
    listed = dict(re.findall(r'^([\w-]+) = "([\w.]+)"$', block.group(1), re.M))
    assert listed == BUILTIN_PLUGINS


def test_the_plugins_command_lists_every_plugin() -> None:
    import json

    from click.testing import CliRunner

    from praclox_privacy.cli import main

    result = CliRunner().invoke(main, ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = {p["name"]: p for p in json.loads(result.output)}
    assert set(BUILTIN_PLUGINS) <= set(found)
    assert found["sql"]["builtin"] is True
    assert found["sql"]["store_kinds"] == ["sql"]
    assert found["sql-mapped"]["commands"] == ["map"]
    assert found["tryton"]["commands"] == ["crm"]
    assert found["notify"]["hooks"] == ["ask_consent"]
    assert found["sql"]["version"] == praclox_privacy.__version__
    text = CliRunner().invoke(main, ["plugins"]).output
    assert "sql-mapped" in text
    assert "commands: map" in text


# -- loading is cheap ------------------------------------------------------------------

HEAVY = ("sqlalchemy", "click", "rich", "httpx", "caldav", "icalendar", "niquests")


def _imported_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return {m.split(".")[0] for m in done.stdout.split()}


def test_importing_the_package_imports_no_cli_or_backend() -> None:
    loaded = _imported_after("import praclox_privacy")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_loading_the_builtin_plugins_imports_no_backend() -> None:
    loaded = _imported_after(
        "from praclox_privacy.plugins import make_plugin_manager, store_kinds\n"
        "store_kinds(make_plugin_manager(load_entrypoints=False))"
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


# -- ask_consent -------------------------------------------------------------------------


def test_hook_ask_consent(tmp_path: Path) -> None:
    from praclox_privacy.domain.guards import DisclosureRequest, DisclosureStatus
    from praclox_privacy.services import disclosure

    calls: list[tuple[DisclosureRequest, str, Workspace]] = []

    @attrs.define
    class Notifier:
        @praclox_privacy.hookimpl
        def ask_consent(
            self, request: DisclosureRequest, subject_id: str, workspace: Workspace
        ) -> str:
            calls.append((request, subject_id, workspace))
            return "pigeon"

    class Failing:
        @praclox_privacy.hookimpl
        def ask_consent(self, subject_id: str) -> None:
            raise RuntimeError("no pigeons left")

    Workspace.init(tmp_path)
    pm = make_plugin_manager(load_entrypoints=False, plugins=[Notifier(), Failing()])
    pm.check_pending()
    with Workspace.open(tmp_path, plugin_manager=pm, clock=lambda: NOW) as ws:
        ws.add_subject(["contact_person"], subject_id="jan")  # no e-mail, no [notify.smtp]
        req = disclosure.request(ws, "jan", "Acme BV", ["person_name"], "mailing")
        assert [(r.id, s, w) for r, s, w in calls] == [(req.id, "jan", ws)]
        assert req.status is DisclosureStatus.PENDING
        entries = {e.action: e.details for e in ws.audit_entries("jan")}
        assert entries["disclosure.asked"]["how"] == "pigeon"
        assert "no pigeons left" in entries["disclosure.ask_failed"]["error"]
        assert "disclosure.not_asked" not in entries


def test_hook_ask_consent_builtin_notifier_is_a_plugin() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    owners = {impl.plugin_name for impl in pm.hook.ask_consent.get_hookimpls()}
    assert owners == {"notify"}
