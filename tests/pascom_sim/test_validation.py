"""400 answers: every validation rule names its code and the offending field."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncframe_pascom.simulator import ApiError, Instance, PascomSimulator
from syncframe_pascom.simulator import validation
from syncframe_pascom.simulator.validation import LOGIN_RE

from .conftest import Api, error

OK = {"003use_name": "valid.user@contoso.com", "003use_bez": "Valid User"}

CREATE_CASES = [
    # (identity object, code, field)
    ({"003use_bez": "No Login"}, "MISSING_FIELD", "003use_name"),
    ({"003use_name": "nodisplay"}, "MISSING_FIELD", "003use_bez"),
    ({**OK, "003use_name": "Upper"}, "INVALID_LOGIN", "003use_name"),
    ({**OK, "003use_name": ".leadingdot"}, "INVALID_LOGIN", "003use_name"),
    ({**OK, "003use_name": "has space"}, "INVALID_LOGIN", "003use_name"),
    ({**OK, "003use_name": "a" * 129}, "INVALID_LOGIN", "003use_name"),
    ({**OK, "003use_name": 42}, "INVALID_LOGIN", "003use_name"),
    ({**OK, "003use_bez": ""}, "INVALID_DISPLAY_NAME", "003use_bez"),
    ({**OK, "003use_bez": "   "}, "INVALID_DISPLAY_NAME", "003use_bez"),
    ({**OK, "003use_bez": "x" * 101}, "INVALID_DISPLAY_NAME", "003use_bez"),
    ({**OK, "009ext_extension": "12a"}, "INVALID_EXTENSION", "009ext_extension"),
    ({**OK, "009ext_extension": "12345678901"}, "INVALID_EXTENSION", "009ext_extension"),
    ({**OK, "009ext_extension": -5}, "INVALID_EXTENSION", "009ext_extension"),
    ({**OK, "016voi_email": "not-an-email"}, "INVALID_EMAIL", "016voi_email"),
    ({**OK, "016voi_email": "a@b"}, "INVALID_EMAIL", "016voi_email"),
    ({**OK, "003use_auth_method": "sso"}, "INVALID_AUTH_METHOD", "003use_auth_method"),
    ({**OK, "003use_enabled": "yes"}, "INVALID_ENABLED", "003use_enabled"),
    ({**OK, "011acc_pin": "12"}, "INVALID_PIN", "011acc_pin"),
    ({**OK, "011acc_pin": 1234}, "INVALID_PIN", "011acc_pin"),
    ({**OK, "003use_pw": "short"}, "INVALID_PASSWORD", "003use_pw"),
    ({**OK, "003use_auth_method": "SSO", "003use_pw": "longenough1"}, "PASSWORD_NOT_ALLOWED", "003use_pw"),
    ({**OK, "user_roles": "Sales"}, "INVALID_ROLES", "user_roles"),
    ({**OK, "user_roles": [""]}, "INVALID_ROLES", "user_roles"),
    ({**OK, "firstname": "Max"}, "UNKNOWN_FIELD", "firstname"),
    ({**OK, "003use_id": 7}, "READ_ONLY_FIELD", "003use_id"),
    ({**OK, "devices": []}, "READ_ONLY_FIELD", "devices"),
    ({**OK, "phonebook": []}, "UNKNOWN_FIELD", "phonebook"),  # on create it goes under post
    ({**OK, "post": []}, "INVALID_BODY", "post"),
    ({**OK, "post": {"ipphone": []}}, "UNKNOWN_FIELD", "post.ipphone"),
    ({**OK, "post": {"phonebook": [{"028pho_nickname": "M"}]}}, "UNKNOWN_FIELD", "post.phonebook.028pho_nickname"),
    ({**OK, "post": {"phonebook": [{"028pho_firstname": 1}]}}, "INVALID_PHONEBOOK", "post.phonebook.028pho_firstname"),
    ({**OK, "post": {"phonebook": {}}}, "INVALID_PHONEBOOK", "post.phonebook"),
    ({**OK, "post": {"ipdevice.mdsoftphone": [{"mac": "x"}]}}, "UNKNOWN_FIELD", "post.ipdevice.mdsoftphone.mac"),
    ({**OK, "post": {"ipdevice.mobile": [{"mobile": "call me"}]}}, "INVALID_PHONE", "post.ipdevice.mobile.mobile"),
    ({**OK, "post": {"ipdevice.mobile": "yes"}}, "INVALID_DEVICE", "post.ipdevice.mobile"),
]


@pytest.mark.parametrize("identity,code,field", CREATE_CASES, ids=[c[1] + ":" + str(c[2]) for c in CREATE_CASES])
def test_create_validation(api: Api, instance: Instance, identity: dict[str, Any], code: str, field: str) -> None:
    assert error(api.post("identity/", {"identity": [identity]})) == (400, code, field)
    assert set(instance.users) == {"admin"}  # nothing written


@pytest.mark.parametrize(
    "body,code,field",
    [
        ([], "INVALID_BODY", None),
        ({"identity": []}, "INVALID_BODY", "identity"),
        ({"identity": {"003use_name": "x"}}, "INVALID_BODY", "identity"),
        ({"identity": ["x"]}, "INVALID_BODY", None),
        ({"identity": [OK], "phonebook": []}, "UNKNOWN_FIELD", "phonebook"),
    ],
)
def test_create_document_shape(api: Api, body: Any, code: str, field: str | None) -> None:
    assert error(api.post("identity/", body)) == (400, code, field)


@pytest.mark.parametrize(
    "body,code,field",
    [
        ({"003use_name": "Bad Name"}, "INVALID_LOGIN", "003use_name"),
        ({"009ext_extension": ""}, "INVALID_EXTENSION", "009ext_extension"),  # no auto-assignment on update
        ({"003use_pw": "longenough1", "003use_auth_method": "SSO"}, "PASSWORD_NOT_ALLOWED", "003use_pw"),
        ({"post": {}}, "UNKNOWN_FIELD", "post"),
        ({"devices": []}, "READ_ONLY_FIELD", "devices"),
        ({"phonebook": [{"x": "y"}]}, "UNKNOWN_FIELD", "phonebook.x"),
        ("text", "INVALID_BODY", None),
    ],
)
def test_update_validation(api: Api, instance: Instance, body: Any, code: str, field: str | None) -> None:
    instance.seed_user("target", display_name="Target")
    before = instance.user("target").wire()
    assert error(api.put("identity/target", body)) == (400, code, field)
    assert instance.user("target").wire() == before


def test_sso_user_rejects_a_password(api: Api, instance: Instance) -> None:
    instance.seed_user("ssouser", auth_method="SSO")
    assert error(api.put("identity/ssouser", {"003use_pw": "longenough1"}))[1] == "PASSWORD_NOT_ALLOWED"
    back = api.put("identity/ssouser", {"003use_auth_method": "mobydick", "003use_pw": "longenough1"})
    assert back.status_code == 200


def test_malformed_json_and_content_type(api: Api) -> None:
    bad_json = api.request("POST", "identity/", data=b"{not json", headers={"Content-Type": "application/json"})
    assert error(bad_json) == (400, "INVALID_JSON", None)
    form = api.request("POST", "identity/", data=b'{"identity": []}', headers={"Content-Type": "text/plain"})
    assert error(form) == (400, "INVALID_CONTENT_TYPE", None)


def test_strict_roles(sim: PascomSimulator) -> None:
    from syncframe.http import CASession

    inst = sim.add_instance("strictroles", strict_roles=True, roles=("Sales",))
    session = CASession(sim.ca_bundle)
    session.auth = ("moby", inst.password)
    url = sim.services_url(inst.name) + "identity/"
    bad = session.post(url, json={"identity": [{**OK, "user_roles": ["Marketing"]}]})
    assert error(bad) == (400, "UNKNOWN_ROLE", "user_roles")
    good = session.post(url, json={"identity": [{**OK, "user_roles": ["Sales", "All"]}]})
    assert good.status_code == 201


def test_unknown_roles_join_the_catalogue(api: Api, instance: Instance) -> None:
    assert api.create(login="r", name="R", roles=["Marketing"]).status_code == 201
    assert "Marketing" in instance.roles and "Administrator" in instance.roles


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(login=st.from_regex(r"\A[a-z0-9][a-z0-9._@-]{0,40}\Z"))
def test_every_valid_login_round_trips_through_the_url(api: Api, login: str) -> None:
    created = api.create(login=login, name="Round Trip")
    assert created.status_code in (201, 409), created.text  # 409: hypothesis repeated a login
    fetched = api.get("identity/" + quote(login, safe="@._-"))
    assert fetched.status_code == 200 and fetched.json()["003use_name"] == login
    assert api.delete("identity/" + quote(login, safe="")).status_code == 204  # %40 works too


@settings(max_examples=40, deadline=None)
@given(login=st.text(min_size=1, max_size=20).filter(lambda s: not LOGIN_RE.match(s)))
def test_invalid_logins_are_refused(login: str) -> None:
    with pytest.raises(ApiError) as refused:
        validation.login(login)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_LOGIN")
