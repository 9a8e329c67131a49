"""Identities and profiles are validated with per-field messages, all errors at once."""

from __future__ import annotations

import tomllib

import pytest

from syncframe import ConfigError, Identity
from syncframe.connector import load_profile, parse_toml
from syncframe.plugins import get_plugin_manager
from syncframe.schemas import fold_login, parse_duration, validate_identity


def identity(**changes):
    base = Identity(source_id="0b1c", username="anna.berg@contoso.onmicrosoft.com", display_name="Anna Berg")
    return base.replace(**changes)


@pytest.mark.parametrize("username", ["jdoe", "CONTOSO\\jdoe", "j.doe@contoso.com", "Jürgen Groß", "uid=7"])
def test_a_username_need_not_be_an_email_address(username):
    """LDAP uids, sAMAccountNames and the like are usernames too; what a target can
    hold is the target's rule, not the host's."""
    loaded, errors = validate_identity(identity(username=username, email=None))
    assert errors == {} and loaded.username == username


def test_valid_identity_is_normalised():
    loaded, errors = validate_identity(identity(phones=("+49 (89) 123-456",), mobile_phone="", display_name="Ame\u0301lie"))
    assert errors == {}
    assert loaded.phones == ("+4989123456",)
    assert loaded.mobile_phone is None
    assert loaded.display_name == "Am\u00e9lie"  # NFC


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"username": ""}, "username", "empty"),
        ({"username": "   "}, "username", "empty"),
        ({"username": "jdoe\x07"}, "username", "U+0007"),
        ({"username": "j\u202edoe"}, "username", "bidi"),
        ({"username": "j" * 257}, "username", "longer than 256"),
        ({"display_name": "A" * 257}, "display_name", "longer than 256"),
        ({"surname": "Berg\x00"}, "surname", "U+0000"),
        ({"given_name": "Anna\u202eevil"}, "given_name", "U+202E"),
        ({"display_name": "Anna\u2066Berg"}, "display_name", "bidi"),
        ({"job_title": "x\nDROP"}, "job_title", "control"),
        ({"mobile_phone": "+49 170 CALLME"}, "mobile_phone", "not a phone number"),
        ({"phones": ("089 & 123",)}, "phones", "not a phone number"),
        ({"phones": ("++49123",)}, "phones", "not a phone number"),
        ({"email": "nobody"}, "email", "not a valid e-mail"),
        ({"source_id": ""}, "source_id", "Length must be between 1 and 256"),
    ],
)
def test_bad_identity_is_rejected_per_field(changes, field, message):
    loaded, errors = validate_identity(identity(**changes))
    assert loaded is None
    assert field in errors
    assert message.lower() in str(errors[field]).lower()
    assert set(errors) == {field}, "only the bad field is reported"


def test_several_bad_fields_are_reported_together():
    _, errors = validate_identity(identity(username="", mobile_phone="abc", display_name="x" * 300))
    assert set(errors) == {"username", "mobile_phone", "display_name"}


def test_logins_fold_case_and_compatibility_forms():
    assert fold_login("MMustermann@Contoso.onmicrosoft.com") == fold_login("mmustermann@contoso.onmicrosoft.com")
    assert fold_login("\uff4d\uff4d\uff55\uff53\uff54\uff45\uff52\uff4d\uff41\uff4e\uff4e") == "mmustermann"  # full-width
    assert fold_login("Ame\u0301lie") == fold_login("Am\u00e9lie")  # NFD vs NFC


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("1h", 3600), ("1d", 86400), (120, 120)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "10", "5s", "-1h", True])
def test_bad_durations(text):
    with pytest.raises(Exception):
        parse_duration(text)


def test_profile_is_plain_toml_with_the_plugin_named_in_its_section():
    text = '[source]\ntype = "MSUSER"\ntenant = "t"\n[target]\ntype = "pascom"\nurl = "u"\n'
    assert parse_toml(text) == tomllib.loads(text)
    assert parse_toml(text)["source"] == {"type": "MSUSER", "tenant": "t"}


def test_a_table_header_inside_a_multiline_string_stays_text():
    text = 'title = """\n[source]\nnot a table\n"""\n[source]\ntype = "MSUSER"\n[target]\ntype = "pascom"\n'
    assert parse_toml(text)["title"] == "[source]\nnot a table\n"


@pytest.mark.parametrize(
    "old",
    [
        'source = "MSUSER"\ntarget = "pascom"\n[source]\ntenant = "t"\n[target]\nurl = "u"\n',
        'source = "MSUSER"\ntarget = "pascom"\n',
    ],
)
def test_a_profile_in_the_old_form_gets_one_error_showing_the_new_form(old):
    with pytest.raises(ConfigError) as caught:
        parse_toml(old)
    message = str(caught.value)
    assert "old format" in message and 'type = "<source>"' in message and "[target]" in message


def test_profile_reports_every_error_at_once():
    pm = get_plugin_manager()
    text = """
title = "Microsoft 365 users"
mode = "mirror"
interval = "soon"
concurrency = 0
colour = "blue"
[guard]
max_percent = 150
[source]
type = "MSUSER"
tenant = "contoso.onmicrosoft.com"
no_such_setting = 1
[target]
type = "pascom"
url = "https://pbx.example.org/demo"
bogus = true
"""
    with pytest.raises(ConfigError) as caught:
        load_profile(text, pm, "m365")
    lines = "\n".join(caught.value.lines())
    for expected in ("mode:", "interval:", "concurrency:", "colour:", "guard.max_percent:", "[source].no_such_setting:", "[target].bogus:"):
        assert expected in lines, f"{expected!r} missing from:\n{lines}"


def test_profile_naming_an_unknown_plugin():
    with pytest.raises(ConfigError) as caught:
        load_profile('[source]\ntype = "NOSUCH"\n[target]\ntype = "pascom"\n', get_plugin_manager(), "nosuch")
    assert "no plugin provides the source 'NOSUCH'" in str(caught.value)


def test_profile_without_plugin_sections_names_what_is_missing():
    with pytest.raises(ConfigError) as caught:
        load_profile('title = "x"\n', get_plugin_manager(), "empty")
    lines = "\n".join(caught.value.lines())
    assert "[source].type: missing" in lines and "[target].type: missing" in lines


def test_target_options_at_the_top_level_are_pointed_to_the_target_section():
    text = 'create_mobile = false\n[source]\ntype = "MSUSER"\n[target]\ntype = "pascom"\n'
    with pytest.raises(ConfigError) as caught:
        load_profile(text, get_plugin_manager(), "moved")
    assert "create_mobile: create_mobile is a [target] option: move it into [target]" in caught.value.lines()


def test_profile_that_is_not_toml():
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile("title = \n", get_plugin_manager(), "broken")


@pytest.mark.parametrize("name", ["Has Space", "UPPER", "", "x" * 65, "../etc"])
def test_connector_names_are_checked(name):
    with pytest.raises(ConfigError, match="connector name"):
        load_profile('source = "MSUSER"\ntarget = "pascom"\n', get_plugin_manager(), name)
