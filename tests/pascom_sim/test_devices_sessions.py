"""Devices added later, sessions listed and ended (the admin UI's Session Management)."""

from __future__ import annotations

from syncframe_pascom.simulator import Instance

from .conftest import Api, error


def test_add_softphone_is_auto_named(api: Api, instance: Instance) -> None:
    instance.seed_user("bare", display_name="Bare User", softphone=False, mobile=False, sessions=())
    response = api.post("identity/bare/devices", {"type": "softphone", "010dev_bez": "mine"})
    assert response.status_code == 201
    device = response.json()
    assert device == {"010dev_id": device["010dev_id"], "010dev_bez": "pascom Softphone [Bare User]",
                      "type": "softphone", "paired": False}
    assert api.get("identity/bare").json()["devices"] == [device]


def test_add_mobile_starts_unpaired(api: Api, instance: Instance) -> None:
    instance.seed_user("bare", display_name="Bare User", softphone=False, mobile=False, sessions=())
    device = api.post("identity/bare/devices", {"type": "mobile", "mobile": "+49 170 1234567"}).json()
    assert (device["010dev_bez"], device["type"], device["paired"]) == ("pascom Mobile [Bare User]", "mobile", False)
    assert instance.user("bare").devices[0].number == "+49 170 1234567"
    named = api.post("identity/bare/devices", {"type": "mobile", "010dev_bez": "Work phone"}).json()
    assert named["010dev_bez"] == "Work phone"
    assert named["010dev_id"] != device["010dev_id"]


def test_add_device_errors(api: Api, instance: Instance) -> None:
    instance.seed_user("someone")
    assert error(api.post("identity/ghost/devices", {"type": "softphone"})) == (404, "NOT_FOUND", None)
    assert error(api.post("identity/someone/devices", {"type": "deskphone"})) == (400, "INVALID_DEVICE", "type")
    assert error(api.post("identity/someone/devices", {})) == (400, "INVALID_DEVICE", "type")
    assert error(api.post("identity/someone/devices", {"type": "mobile", "mac": "x"})) == (400, "UNKNOWN_FIELD", "mac")
    assert error(api.post("identity/someone/devices", {"type": "softphone", "mobile": "+491"}))[1] == "UNKNOWN_FIELD"
    assert error(api.post("identity/someone/devices", {"type": "mobile", "mobile": "abc"}))[1] == "INVALID_PHONE"
    assert error(api.post("identity/someone/devices", [1])) == (400, "INVALID_BODY", None)


def test_sessions_list(api: Api, instance: Instance) -> None:
    user = instance.seed_user("max", display_name="Max")
    softphone, mobile = user.devices
    sessions = api.get("identity/max/sessions").json()
    assert sessions == [
        {"id": sessions[0]["id"], "device": softphone.id, "kind": "desktop", "paired": False},
        {"id": sessions[1]["id"], "device": mobile.id, "kind": "mobile", "paired": True},
    ]
    assert error(api.get("identity/ghost/sessions")) == (404, "NOT_FOUND", None)


def test_end_sessions_removes_the_mobile_pairing(api: Api, instance: Instance) -> None:
    instance.seed_user("max", display_name="Max")
    response = api.delete("identity/max/sessions")
    assert response.status_code == 204
    assert api.get("identity/max/sessions").json() == []
    assert [(d["type"], d["paired"]) for d in api.get("identity/max").json()["devices"]] == [
        ("softphone", False), ("mobile", False)]
    assert error(api.delete("identity/ghost/sessions"))[0] == 404
    # pairing the app again (done by the user, not through REST)
    instance.pair_mobile("max")
    assert [s["kind"] for s in api.get("identity/max/sessions").json()] == ["mobile"]
    assert api.get("identity/max").json()["devices"][1]["paired"] is True


def test_unpaired_seed_has_no_mobile_session(instance: Instance) -> None:
    user = instance.seed_user("fresh", mobile_paired=False)
    assert [s.kind for s in user.sessions] == ["desktop"]
