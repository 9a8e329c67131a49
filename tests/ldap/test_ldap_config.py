"""The LDAP plugin's profile contract, its registration, and life without python-ldap.

Most of these need neither slapd nor python-ldap: a profile validates, and the plugin
loads, on a machine that has not installed the optional extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest
from marshmallow import ValidationError

from syncframe import ConfigError
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager, sources, templates
from syncframe_ldap.plugin import TEMPLATE
from syncframe_ldap.schema import LdapSchema

#: the issue's example profile, verbatim: its keys are the contract
CONTRACT = """\
[source]
type = "LDAP"
url = "ldaps://dc1.example.com"      # ldap:// with start_tls = true, or ldaps://
start_tls = false
ca_bundle = "/etc/ssl/corp-ca.pem"
bind_dn = "cn=syncframe,ou=service,dc=example,dc=com"
bind_password_env = "LDAP_BIND_PASSWORD"   # or bind_password_file (0600)
base_dn = "ou=people,dc=example,dc=com"
flavour = "openldap"                 # openldap | ad: default filter, attributes, id, enabled
filter = "(objectClass=inetOrgPerson)"     # optional: AND-ed with the flavour's default
groups = ["cn=telephony,ou=groups,dc=example,dc=com"]   # members, nested groups included
include_disabled = false
page_size = 500
[source.attributes]                  # optional overrides of the flavour's mapping
username = "uid"                     # ad: userPrincipalName (or sAMAccountName)
email = "mail"

[target]
type = "pascom"
url = "https://pascom.example.com/instance"
password_env = "SYNCFRAME_PASCOM_PASSWORD"
"""

MINIMAL = {"url": "ldaps://dc1.example.com", "base_dn": "ou=people,dc=example,dc=com"}


def errors_of(**section: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as raised:
        LdapSchema().load({**MINIMAL, **section})
    return raised.value.messages  # type: ignore[return-value]


def test_the_issues_example_profile_is_valid() -> None:
    connector = load_profile(CONTRACT, get_plugin_manager(), "directory")
    assert connector.source_type == "LDAP"
    config = connector.source_config
    assert config["groups"] == ["cn=telephony,ou=groups,dc=example,dc=com"]
    assert config["attributes"] == {"username": "uid", "email": "mail"}
    assert (config["flavour"], config["page_size"], config["bind_password_env"]) == ("openldap", 500, "LDAP_BIND_PASSWORD")


def test_the_template_is_a_valid_profile() -> None:
    assert load_profile(TEMPLATE, get_plugin_manager(), "directory") is not None


def test_the_plugin_registers_the_source_and_the_template() -> None:
    pm = get_plugin_manager()
    assert sources(pm)["LDAP"].plugin == "ldap"
    assert "ldap" in templates(pm)


def test_defaults() -> None:
    config = LdapSchema().load(MINIMAL)
    assert config["flavour"] == "openldap" and config["page_size"] == 500
    assert config["groups"] == [] and config["attributes"] == {} and not config["include_disabled"]
    assert config["bind_dn"] is None and not config["start_tls"]


@pytest.mark.parametrize(
    ("section", "field", "words"),
    [
        ({"url": "https://dc1.example.com"}, "url", "ldap:// or ldaps://"),
        ({"url": "ldap://dc1.example.com"}, "url", "clear text"),
        ({"url": "ldaps://dc1.example.com", "start_tls": True}, "start_tls", "TLS already"),
        ({"url": "ldaps://dc1.example.com/ou=people"}, "url", "base_dn"),
        ({"bind_dn": "cn=x,dc=example,dc=com"}, "bind_password_env", "bind_password_env or bind_password_file"),
        ({"bind_dn": "cn=x,dc=y", "bind_password_env": "A", "bind_password_file": "/f"}, "bind_password_file", "not both"),
        ({"bind_password_env": "A"}, "bind_dn", "no bind_dn"),
        ({"bind_dn": "cn=x,dc=y", "bind_password_env": "NOT A NAME"}, "bind_password_env", "environment variable name"),
        ({"base_dn": "people"}, "base_dn", "must be a DN"),
        ({"flavour": "novell"}, "flavour", "Must be one of"),
        ({"filter": "objectClass=person"}, "filter", "parenthesised"),
        ({"filter": "(&(a=b)"}, "filter", "parenthesised"),
        ({"groups": ["telephony"]}, "groups", "DNs"),
        ({"page_size": 0}, "page_size", "greater than or equal to 1"),
        ({"attributes": {"userPrincipal": "upn"}}, "attributes", "not a mappable field"),
        ({"attributes": {"username": "bad name"}}, "attributes", "attribute name"),
        ({"bind_password": "secret"}, "bind_password", "Unknown field"),
    ],
)
def test_bad_settings_are_refused(section: dict[str, Any], field: str, words: str) -> None:
    messages = errors_of(**section)
    assert words in str(messages[field]), messages


def test_plain_ldap_is_fine_on_loopback_and_with_start_tls() -> None:
    LdapSchema().load({**MINIMAL, "url": "ldap://127.0.0.1:3389"})
    LdapSchema().load({**MINIMAL, "url": "ldap://dc1.example.com", "start_tls": True})


def test_every_error_is_reported_at_once() -> None:
    messages = errors_of(url="http://x", base_dn="x", page_size=-1)
    assert {"url", "base_dn", "page_size"} <= set(messages)


# --- the bind password ----------------------------------------------------------------


def test_a_password_file_others_can_read_is_refused(make_source: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_text("secret\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by group or others .*chmod 600"):
        make_source(bind_password_env=None, bind_password_file=str(path))


def test_a_0600_password_file_binds(make_source: Callable[..., Any], tmp_path: Path) -> None:
    from syncframe_ldap import slapd

    path = tmp_path / "password"
    path.write_text(slapd.SERVICE_PASSWORD + "\n", encoding="utf-8")
    path.chmod(0o600)
    source = make_source(bind_password_env=None, bind_password_file=str(path))
    assert source.read(None, {}, lambda n, total=None: None).complete


def test_an_unset_password_variable_is_a_config_error(make_source: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="SYNCFRAME_TEST_LDAP_UNSET .*is not set"):
        make_source(bind_password_env="SYNCFRAME_TEST_LDAP_UNSET")


# --- without python-ldap --------------------------------------------------------------


def test_the_plugin_works_without_python_ldap_until_a_source_opens(tmp_path: Path) -> None:
    """A fresh machine without libldap: the plugin loads, profiles validate, and opening an
    LDAP source names the install command."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ldap"] = None  # as if python-ldap were not installed
        from syncframe import ConfigError, ConnectorContext
        from syncframe.plugins import get_plugin_manager, sources
        from syncframe_ldap.schema import LdapSchema
        registration = sources(get_plugin_manager())["LDAP"]
        config = LdapSchema().load({"url": "ldaps://dc1.example.com", "base_dn": "dc=example,dc=com"})
        try:
            registration.factory(config, ConnectorContext(name="x", profile={}))
        except ConfigError as exc:
            print(exc)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SYNCFRAME_PLUGINS", "SYNCFRAME_DISABLE_PLUGINS")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the LDAP source needs python-ldap" in done.stdout
    assert "pip install 'syncframe[ldap]'" in done.stdout
