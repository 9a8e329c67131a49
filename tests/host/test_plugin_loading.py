"""Plugins load through the ``syncframe`` entry-point group, and bad ones are named."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from syncframe import PluginError
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager, plugin_infos, sources, targets

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def plugin_from_docs() -> str:
    """The worked CSV source of docs/plugins.md, so the guide's example stays true."""
    text = DOCS.read_text(encoding="utf-8")
    return text.split("```python\n", 1)[1].split("```", 1)[0]


CSV_PLUGIN = plugin_from_docs()


def install_fake_distribution(root: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """Install a plugin the way pip would leave it: a module and a dist-info with entry points."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"  # normalised, as pip names it
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[syncframe]\n{entry_name} = {module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m.startswith("sf_test_")]:
        del sys.modules[name]


def test_bundled_plugins_are_found_through_entry_points():
    pm = get_plugin_manager()
    infos = {i.name: i for i in plugin_infos(pm)}
    assert "MSUSER" in infos["msuser"].sources
    assert "pascom" in infos["pascom"].targets
    assert infos["msuser"].version and infos["pascom"].version


def test_third_party_source_is_usable_without_touching_the_host(site, tmp_path, monkeypatch):
    monkeypatch.setenv("PBX_PASSWORD", "not-a-real-password")
    install_fake_distribution(site, "syncframe-csv", "sf_test_csv", CSV_PLUGIN, "csv")
    (tmp_path / "users.csv").write_text("id,upn,name,mail,phone\n1,anna@example.org,Anna,,+4989111\n2,ben@example.org,Ben,ben@example.org,\n")
    pm = get_plugin_manager()
    info = {i.name: i for i in plugin_infos(pm)}["csv"]
    assert info.sources == ["CSV"] and info.templates == ["csv"] and info.version == "1.2.3"

    profile = f'[source]\ntype = "CSV"\npath = "{tmp_path / "users.csv"}"\n[target]\ntype = "pascom"\nurl = "https://pbx.example.org/demo"\npassword_env = "PBX_PASSWORD"\n'
    connector = load_profile(profile, pm, "csv-test")
    source = connector.open_source(connector.context())
    result = source.read(None, {}, lambda n, total: None)
    assert result.complete
    assert [i.username for i in result.identities] == ["anna@example.org", "ben@example.org"]
    assert result.identities[0].phones == ("+4989111",) and result.identities[1].email == "ben@example.org"


def test_only_selected_plugins_load(site, monkeypatch):
    install_fake_distribution(site, "syncframe-csv", "sf_test_csv2", CSV_PLUGIN, "csv2")
    monkeypatch.setenv("SYNCFRAME_PLUGINS", "msuser")
    pm = get_plugin_manager()
    assert set(sources(pm)) == {"MSUSER"}
    assert targets(pm) == {}
    monkeypatch.delenv("SYNCFRAME_PLUGINS")
    monkeypatch.setenv("SYNCFRAME_DISABLE_PLUGINS", "csv2,pascom")
    pm = get_plugin_manager()
    assert "CSV" not in sources(pm) and "pascom" not in targets(pm) and "MSUSER" in sources(pm)


def test_plugin_that_fails_to_import_is_named(site):
    install_fake_distribution(site, "syncframe-broken", "sf_test_broken", "raise RuntimeError('boom')\n", "broken")
    with pytest.raises(PluginError, match=r"plugin 'broken' .*failed to load: boom"):
        get_plugin_manager()


def test_plugin_with_unknown_hook_is_named(site):
    bad = "from syncframe import hookimpl\n\n@hookimpl\ndef syncframe_no_such_hook():\n    pass\n"
    install_fake_distribution(site, "syncframe-typo", "sf_test_typo", bad, "typo")
    with pytest.raises(PluginError, match=r"'typo'.*syncframe_no_such_hook"):
        get_plugin_manager()


def test_plugin_with_wrong_hook_arguments_is_named(site):
    bad = "from syncframe import hookimpl\n\n@hookimpl\ndef syncframe_register_sources(register, nonsense):\n    pass\n"
    install_fake_distribution(site, "syncframe-args", "sf_test_args", bad, "args")
    with pytest.raises(PluginError, match=r"plugin 'args' is invalid"):
        get_plugin_manager()


def test_duplicate_source_names_are_refused(site):
    install_fake_distribution(site, "syncframe-dup", "sf_test_dup", CSV_PLUGIN.replace('"CSV"', '"MSUSER"'), "dup")
    with pytest.raises(PluginError, match="source 'MSUSER' is registered twice"):
        sources(get_plugin_manager())


def test_plugin_modules_from_the_environment(site, monkeypatch):
    (site / "sf_test_local.py").write_text(textwrap.dedent(CSV_PLUGIN))
    monkeypatch.setenv("SYNCFRAME_PLUGIN_MODULES", "sf_test_local")
    assert "CSV" in sources(get_plugin_manager())
    monkeypatch.setenv("SYNCFRAME_PLUGIN_MODULES", "sf_test_missing_module")
    with pytest.raises(PluginError, match="sf_test_missing_module"):
        get_plugin_manager()


def test_managers_are_independent():
    first = get_plugin_manager(load_entrypoints=False)
    second = get_plugin_manager(load_entrypoints=False)
    assert first is not second
    assert sources(first) == {}
