"""Plugins load through the ``syncframe`` entry-point group, and bad ones are named."""

from __future__ import annotations

import sys
import textwrap

import pytest

from plugin_docs import install_fake_distribution, kit_test_from_docs, plugin_from_docs
from syncframe import PluginError
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager, plugin_infos, sources, targets

pytest_plugins = ["pytester"]

#: the worked CSV source of docs/plugins.md, so the guide's example stays true
CSV_PLUGIN = plugin_from_docs()
#: the module name the guide gives it (its kit test imports it by that name)
CSV_MODULE = "syncframe_csv"


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m.startswith("sf_test_") or m == CSV_MODULE]:
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
    (tmp_path / "users.csv").write_text(
        "id,username,display_name,given_name,surname,email,phone,enabled,groups\n"
        "1,jdoe,John Doe,John,Doe,,+4989111,true,Sales;Phone\n"
        "2,asmith,Anna Smith,Anna,Smith,anna.smith@example.org,,false,Support\n"
        "3,bmeier,Ben Meier,Ben,Meier,ben.meier@example.org,,TRUE,\n"
    )
    pm = get_plugin_manager()
    info = {i.name: i for i in plugin_infos(pm)}["csv"]
    assert info.sources == ["CSV"] and info.templates == ["csv"] and info.version == "1.2.3"

    profile = f'[source]\ntype = "CSV"\npath = "{tmp_path / "users.csv"}"\n[target]\ntype = "pascom"\nurl = "https://pbx.example.org/demo"\npassword_env = "PBX_PASSWORD"\n'
    connector = load_profile(profile, pm, "csv-test")
    source = connector.open_source(connector.context())
    result = source.read(None, {}, lambda n, total: None)
    assert result.complete
    jdoe, asmith, bmeier = result.identities
    assert [i.username for i in result.identities] == ["jdoe", "asmith", "bmeier"]
    assert jdoe.phones == ("+4989111",) and jdoe.email is None and jdoe.groups == ("Sales", "Phone")
    assert asmith.email == "anna.smith@example.org" and not asmith.enabled
    # scope is the source's decision, with its reason
    assert jdoe.out_of_scope is None and bmeier.out_of_scope is None
    assert "disabled" in asmith.out_of_scope

    grouped = load_profile(profile.replace('path = ', 'groups = ["Phone"]\npath = '), pm, "csv-test")
    scoped = grouped.open_source(grouped.context()).read(None, {}, lambda n, total: None)
    assert [i.username for i in scoped.identities if i.out_of_scope is None] == ["jdoe"]
    assert "Phone" in scoped.identities[2].out_of_scope


def test_the_guides_plugin_passes_the_conformance_kit_with_the_guides_test(site, pytester):
    install_fake_distribution(site, "syncframe-csv", CSV_MODULE, CSV_PLUGIN, "csv")
    pytester.makepyfile(test_csv_conformance=textwrap.dedent(kit_test_from_docs()))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


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
