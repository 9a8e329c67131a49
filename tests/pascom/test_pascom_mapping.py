"""Identity -> desired pascom fields, rule by rule, and the wire bodies they become."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncframe import Account, Identity, SkippableRecordError
from syncframe_pascom import wire
from syncframe_pascom.mapping import MappingRules, desired_fields

MAX = Identity(
    source_id="0b1c",
    username="MMustermann@Contoso.onmicrosoft.com",
    display_name="Max Mustermann",
    given_name="Max",
    surname="Mustermann",
    email="max.mustermann@contoso.com",
    phones=("+49 30 1234567",),
    mobile_phone="+491701234567",
    groups=("Sales", "grp-all"),
)


def test_full_mapping(target):
    assert target.desired(MAX) == {
        "login": "mmustermann@contoso.onmicrosoft.com",
        "display_name": "Max Mustermann",
        "email": "max.mustermann@contoso.com",
        "auth": "SSO",
        "enabled": True,
        "first_name": "Max",
        "last_name": "Mustermann",
        "business_phone": "+49 30 1234567",
        "mobile_phone": "+491701234567",
        "devices": ["mobile", "softphone"],
    }


def test_login_is_the_upn_lower_cased(target):
    assert target.desired(MAX)["login"] == MAX.username.lower()


def test_email_falls_back_to_the_upn(target):
    assert target.desired(MAX.replace(email=None))["email"] == MAX.username


def test_a_username_that_is_no_address_gives_no_email(target):
    # an LDAP uid or sAMAccountName is no e-mail address; pascom would refuse it as one
    assert target.desired(MAX.replace(username="mmustermann", email=None))["email"] is None


def test_display_name_falls_back_to_given_and_surname_then_upn(target):
    assert target.desired(MAX.replace(display_name=""))["display_name"] == "Max Mustermann"
    bare = MAX.replace(display_name="", given_name=None, surname=None)
    assert target.desired(bare)["display_name"] == MAX.username


def test_missing_phones_and_names_are_none(target):
    bare = MAX.replace(given_name=None, surname=None, phones=(), mobile_phone=None)
    desired = target.desired(bare)
    assert desired["first_name"] is None and desired["last_name"] is None
    assert desired["business_phone"] is None and desired["mobile_phone"] is None


def test_disabled_identity_maps_to_disabled_user(target):
    assert target.desired(MAX.replace(enabled=False))["enabled"] is False


def test_auto_extension_is_left_out(target):
    assert "extension" not in target.desired(MAX)


@pytest.mark.parametrize(
    "policy, digits, identity, expected",
    [
        ("business_phone", 3, MAX, "567"),
        ("business_phone", 4, MAX.replace(phones=("+49 (30) 12-34",)), "1234"),
        ("mobile_phone", 2, MAX, "67"),
        ("extra.ipPhone", 3, MAX.replace(extra={"ipPhone": "x-201"}), "201"),
        # too few digits, or no phone: pascom picks (the key is left out)
        ("business_phone", 5, MAX.replace(phones=("+49",)), None),
        ("business_phone", 3, MAX.replace(phones=()), None),
        ("extra.ipPhone", 3, MAX, None),
        # digits of other scripts are not extension digits
        ("extra.ipPhone", 3, MAX.replace(extra={"ipPhone": "\u0661\u0662\u0663"}), None),
    ],
)
def test_extension_from_a_source_attribute(make_target, policy, digits, identity, expected):
    target = make_target(extension=policy, extension_digits=digits)
    assert target.desired(identity).get("extension") == expected


def test_roles_are_left_out_unless_configured(target):
    assert "roles" not in target.desired(MAX)


def test_static_and_group_roles(make_target):
    target = make_target(roles=["Users"], group_roles={"sales": "Sales Team", "Support": ["Queue"]})
    assert target.desired(MAX)["roles"] == ["Sales Team", "Users"]  # group names ignore case
    assert target.desired(MAX.replace(groups=()))["roles"] == ["Users"]
    assert target.desired(MAX.replace(groups=("Support", "Sales")))["roles"] == ["Queue", "Sales Team", "Users"]


# --- wire bodies -----------------------------------------------------------------------


def test_create_document_has_devices_phonebook_and_no_password(target):
    document = wire.create_document(target.desired(MAX), softphone=True, mobile=True)
    (identity,) = document["identity"]
    assert identity["003use_name"] == "mmustermann@contoso.onmicrosoft.com"
    assert identity["003use_auth_method"] == "SSO"
    assert "003use_pw" not in identity and "009ext_extension" not in identity
    post = identity["post"]
    assert post["ipdevice.mdsoftphone"] == [{"010dev_bez": "pascom Softphone [Max Mustermann]"}]
    assert post["ipdevice.mobile"] == [{"010dev_bez": "pascom Mobile [Max Mustermann]", "mobile": "+491701234567"}]
    assert post["phonebook"][0]["028pho_firstname"] == "Max"
    assert post["phonebook"][0]["028pho_phone"] == "+49 30 1234567"


def test_create_document_without_devices(target):
    post = wire.create_document(target.desired(MAX), softphone=False, mobile=False)["identity"][0]["post"]
    assert set(post) == {"phonebook"}


def test_update_body_sends_only_what_changed():
    current = {"display_name": "Max M", "email": "m@contoso.com", "first_name": "Max", "last_name": "M",
               "business_phone": None, "mobile_phone": "+49170", "extension": "100", "auth": "SSO"}
    assert wire.update_body({"extension": "201"}, current) == {"009ext_extension": "201"}
    assert wire.update_body({"login": "max@contoso.com"}, current) == {"003use_name": "max@contoso.com"}
    body = wire.update_body({"last_name": "Mustermann"}, current)
    # a phonebook change rewrites the one entry from current values plus the change
    assert body == {"phonebook": [{"028pho_bez": "Max M", "028pho_firstname": "Max", "028pho_lastname": "Mustermann",
                                   "028pho_phone": None, "028pho_mobile": "+49170", "028pho_email": "m@contoso.com"}]}


def test_update_body_refuses_fields_pascom_lacks():
    with pytest.raises(ValueError, match="no field for colour"):
        wire.update_body({"colour": "blue"}, {})


def test_account_fields_round_trip_the_vocabulary(target):
    """What a created user reads back diffs clean against what was desired."""
    desired = target.desired(MAX)
    document = wire.create_document(desired, softphone=True, mobile=True)
    # pascom answers with what it stored, plus id, extension and devices
    obj = {**{k: v for k, v in document["identity"][0].items() if k != "post"}, "003use_id": 7,
           "009ext_extension": "100", "user_roles": [], "phonebook": document["identity"][0]["post"]["phonebook"],
           "devices": [{"010dev_id": 1, "type": "softphone", "paired": False},
                       {"010dev_id": 2, "type": "mobile", "010dev_bez": "pascom Mobile [Max Mustermann]", "paired": False}]}
    account = Account(target_id="7", login=desired["login"], fields=wire.account_fields(obj))
    assert target.diff(account, desired) == {}
    assert account.fields["devices"] == ["mobile", "softphone"]
    # a user missing the mobile device the profile creates is a change
    without = Account(target_id="7", login=desired["login"], fields={**account.fields, "devices": ["softphone"]})
    assert target.diff(without, desired) == {"devices": [["softphone"], ["mobile", "softphone"]]}


def test_error_parsing():
    error = wire.parse_error(409, '{"error": {"code": "LOGIN_EXISTS", "message": "login x exists", "field": "003use_name"}}')
    assert error.describe() == "409 LOGIN_EXISTS: login x exists (field 003use_name)"
    assert wire.is_login_taken(error) and not wire.is_extension_taken(error)
    html = wire.parse_error(502, "<html><body>Bad   gateway</body></html>", "Bad Gateway")
    assert html.code == "HTTP_502" and html.message == "<html><body>Bad gateway</body></html>"


# --- properties --------------------------------------------------------------------------


phones = st.one_of(st.none(), st.from_regex(r"\+?[0-9 ()./-]{0,20}", fullmatch=True))
texts = st.one_of(st.none(), st.text(max_size=40))


@settings(max_examples=200, deadline=None)
@given(
    local=st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True),
    display=st.text(max_size=60),
    given_name=texts,
    business=st.lists(st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True), max_size=2),
    mobile=phones,
    groups=st.lists(st.sampled_from(["Sales", "sales", "Support", "Other"]), max_size=3),
    digits=st.integers(min_value=1, max_value=6),
)
def test_any_identity_maps_to_a_sendable_user(local, display, given_name, business, mobile, groups, digits):
    """Whatever the directory holds, the mapping gives a lower-case login, SSO, digits-only
    extensions of the asked length (or none), and a document JSON can carry."""
    rules = MappingRules.from_config({"extension": "business_phone", "extension_digits": digits,
                                      "roles": ["Users"], "group_roles": {"Sales": ["Sales Team"]}})
    identity = Identity(source_id="x", username=f"{local}@Contoso.com", display_name=display,
                        given_name=given_name, phones=tuple(business), mobile_phone=mobile, groups=tuple(groups))
    if not local[0].isalnum():  # pascom logins start with a letter or digit: a SKIP, not a write
        with pytest.raises(SkippableRecordError, match="must start with a letter or digit"):
            desired_fields(identity, rules)
        return
    desired = desired_fields(identity, rules)
    assert desired["login"] == desired["login"].lower() and desired["auth"] == "SSO"
    assert desired["display_name"].strip()
    extension = desired.get("extension")
    assert extension is None or (extension.isdigit() and len(extension) == digits)
    assert desired["roles"] == sorted(set(desired["roles"])) and "Users" in desired["roles"]
    assert ("Sales Team" in desired["roles"]) == any(g.lower() == "sales" for g in groups)
    json.dumps(wire.create_document(desired, softphone=True, mobile=True))
