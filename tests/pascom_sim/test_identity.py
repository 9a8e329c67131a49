"""The identity endpoints: list, read, create (IO-Framework), update, rename, delete."""

from __future__ import annotations

from syncframe_pascom.simulator import Instance

from .conftest import Api, error

IDENTITY_KEYS = {"003use_id", "003use_name", "003use_bez", "003use_auth_method", "003use_enabled", "016voi_email",
                 "009ext_extension", "user_roles", "devices", "phonebook"}


def test_list_holds_the_seeded_admin_and_users(api: Api, instance: Instance) -> None:
    instance.seed_user("mmustermann", display_name="Max Mustermann", email="max@contoso.com", extension="200")
    response = api.get("identity/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    users = {u["003use_name"]: u for u in response.json()}
    assert set(users) == {"admin", "mmustermann"}
    assert users["admin"]["user_roles"] == ["Administrator"]
    max_ = users["mmustermann"]
    assert set(max_) == IDENTITY_KEYS
    assert max_["003use_auth_method"] == "mobydick"
    assert max_["009ext_extension"] == "200"
    assert [(d["type"], d["paired"]) for d in max_["devices"]] == [("softphone", False), ("mobile", True)]
    # without the trailing slash too, and no redirect
    again = api.get("identity", allow_redirects=False)
    assert again.status_code == 200 and again.json() == response.json()


def test_get_one_and_404(api: Api, instance: Instance) -> None:
    instance.seed_user("jdoe@contoso.com", display_name="John Doe")
    one = api.get("identity/jdoe@contoso.com")
    assert one.status_code == 200
    assert one.json()["003use_bez"] == "John Doe"
    assert error(api.get("identity/nobody")) == (404, "NOT_FOUND", None)
    assert error(api.get("identity/JDOE@contoso.com")) == (404, "NOT_FOUND", None)  # logins are lower case


def test_create_with_io_framework_body(api: Api) -> None:
    body = {
        "identity": [
            {
                "003use_name": "mmustermann@contoso.onmicrosoft.com",
                "003use_bez": "Max Mustermann",
                "003use_auth_method": "SSO",
                "003use_enabled": True,
                "016voi_email": "max@contoso.com",
                "009ext_extension": "",
                "011acc_pin": "4711",
                "user_roles": ["Sales", "All"],
                "post": {
                    "phonebook": [{"028pho_firstname": "Max", "028pho_lastname": "Mustermann",
                                   "028pho_phone": "+49 30 123", "028pho_mobile": "+49 170 1234567"}],
                    "ipdevice.mdsoftphone": [{"010dev_bez": "whatever the client says"}],
                    "ipdevice.mobile": [{"010dev_bez": "Max's phone", "mobile": "+49 170 1234567"}],
                },
            }
        ]
    }
    response = api.post("identity/", body)
    assert response.status_code == 201
    (created,) = response.json()["identity"]
    assert set(created) == IDENTITY_KEYS  # pin and password are write-only
    assert created["003use_name"] == "mmustermann@contoso.onmicrosoft.com"
    assert created["003use_auth_method"] == "SSO"
    assert created["009ext_extension"] == "101"  # 100 is the admin's: lowest free of the pool
    assert created["user_roles"] == ["Sales"]  # "All" is implicit
    softphone, mobile = created["devices"]
    assert softphone["010dev_bez"] == "pascom Softphone [Max Mustermann]"
    assert (softphone["type"], mobile["type"]) == ("softphone", "mobile")
    assert mobile == {"010dev_id": mobile["010dev_id"], "010dev_bez": "Max's phone", "type": "mobile", "paired": False}
    assert created["phonebook"] == body["identity"][0]["post"]["phonebook"]
    assert api.get("identity/mmustermann@contoso.onmicrosoft.com").json() == created  # at once


def test_create_defaults(api: Api) -> None:
    created = api.create(login="plain", name="Plain User").json()["identity"][0]
    assert created["003use_auth_method"] == "mobydick"
    assert created["003use_enabled"] is True
    assert created["016voi_email"] is None
    assert created["devices"] == [] and created["phonebook"] == [] and created["user_roles"] == []
    mobile = api.create(login="mob", name="Mo Bile", post={"ipdevice.mobile": [{}]}).json()["identity"][0]
    assert mobile["devices"][0]["010dev_bez"] == "pascom Mobile [Mo Bile]"


def test_create_batch_is_all_or_nothing(api: Api, instance: Instance) -> None:
    ok = api.post("identity/", {"identity": [{"003use_name": "a1", "003use_bez": "A"},
                                             {"003use_name": "a2", "003use_bez": "B"}]})
    assert ok.status_code == 201
    assert [u["003use_name"] for u in ok.json()["identity"]] == ["a1", "a2"]
    bad = api.post("identity/", {"identity": [{"003use_name": "a3", "003use_bez": "C"},
                                              {"003use_name": "a1", "003use_bez": "D"}]})
    assert error(bad) == (409, "LOGIN_EXISTS", "003use_name")
    assert instance.user("a3") is None


def test_extension_pool_lowest_free_and_uniqueness(api: Api, instance: Instance) -> None:
    # admin has 100; pool is 100-109
    assert api.create(login="u1", name="U1", extension="102").json()["identity"][0]["009ext_extension"] == "102"
    assert api.create(login="u2", name="U2").json()["identity"][0]["009ext_extension"] == "101"
    assert api.create(login="u3", name="U3").json()["identity"][0]["009ext_extension"] == "103"  # 102 skipped
    assert error(api.create(login="u4", name="U4", extension="101")) == (409, "EXTENSION_EXISTS", "009ext_extension")
    assert error(api.create(login="u1", name="again")) == (409, "LOGIN_EXISTS", "003use_name")
    assert api.delete("identity/u2").status_code == 204
    assert api.create(login="u5", name="U5").json()["identity"][0]["009ext_extension"] == "101"  # freed, reused
    # explicit numbers outside the pool are fine, and unique too
    assert api.create(login="u6", name="U6", extension=4711).json()["identity"][0]["009ext_extension"] == "4711"
    assert error(api.create(login="u7", name="U7", extension="4711"))[1] == "EXTENSION_EXISTS"


def test_pool_exhausted(api: Api) -> None:
    for i in range(9):  # 101..109
        assert api.create(login=f"p{i}", name=f"P{i}").status_code == 201
    assert error(api.create(login="p9", name="P9")) == (409, "EXTENSION_POOL_EXHAUSTED", "009ext_extension")
    assert api.create(login="p9", name="P9", extension="999").status_code == 201


def test_update_fields(api: Api, instance: Instance) -> None:
    instance.seed_user("jdoe", display_name="John Doe", extension="105", roles=["Users"])
    response = api.put("identity/jdoe", {
        "003use_bez": "John Q. Doe", "016voi_email": "john@contoso.com", "003use_enabled": False,
        "003use_auth_method": "SSO", "011acc_pin": "123456", "user_roles": ["Sales"], "009ext_extension": "106",
        "phonebook": [{"028pho_firstname": "John", "028pho_lastname": "Doe", "028pho_mobile": None}],
    })
    assert response.status_code == 200
    user = response.json()
    assert (user["003use_bez"], user["016voi_email"]) == ("John Q. Doe", "john@contoso.com")
    assert user["003use_enabled"] is False
    assert user["003use_auth_method"] == "SSO" and user["user_roles"] == ["Sales"]
    assert user["009ext_extension"] == "106"
    assert user["phonebook"] == [{"028pho_firstname": "John", "028pho_lastname": "Doe", "028pho_mobile": None}]
    stored = instance.user("jdoe")
    assert stored.pin == "123456" and stored.password is None  # SSO users keep no password
    assert "105" not in instance.extensions and "106" in instance.extensions
    # clearing the e-mail, and a partial PUT leaves the rest alone
    cleared = api.put("identity/jdoe", {"016voi_email": ""}).json()
    assert cleared["016voi_email"] is None and cleared["003use_bez"] == "John Q. Doe"
    assert api.get("identity/").json()[-1] == cleared  # the cached list follows writes


def test_update_conflicts_and_404(api: Api, instance: Instance) -> None:
    instance.seed_user("a", extension="105")
    instance.seed_user("b", extension="106")
    assert error(api.put("identity/a", {"009ext_extension": "106"})) == (409, "EXTENSION_EXISTS", "009ext_extension")
    assert error(api.put("identity/a", {"003use_name": "b"})) == (409, "LOGIN_EXISTS", "003use_name")
    assert error(api.put("identity/ghost", {"003use_bez": "x"})) == (404, "NOT_FOUND", None)
    assert api.put("identity/a", {"009ext_extension": "105"}).status_code == 200  # its own number


def test_rename_keeps_everything_but_the_mobile_pairing(api: Api, instance: Instance) -> None:
    seeded = instance.seed_user("mmustermann", display_name="Max Mustermann", roles=["Sales"], extension="107")
    before = api.get("identity/mmustermann").json()
    assert [s["kind"] for s in api.get("identity/mmustermann/sessions").json()] == ["desktop", "mobile"]

    response = api.put("identity/mmustermann", {"003use_name": "mmustermann@contoso.onmicrosoft.com",
                                                "003use_auth_method": "SSO"})
    assert response.status_code == 200
    after = response.json()
    assert after["003use_name"] == "mmustermann@contoso.onmicrosoft.com"
    assert after["003use_id"] == before["003use_id"] == seeded.id
    assert after["009ext_extension"] == "107" and after["user_roles"] == ["Sales"]
    assert [d["010dev_id"] for d in after["devices"]] == [d["010dev_id"] for d in before["devices"]]
    assert [(d["type"], d["paired"]) for d in after["devices"]] == [("softphone", False), ("mobile", False)]
    sessions = api.get("identity/mmustermann@contoso.onmicrosoft.com/sessions").json()
    assert [s["kind"] for s in sessions] == ["desktop"]  # the mobile session ended
    assert error(api.get("identity/mmustermann"))[0] == 404
    # the old login is free again
    assert api.create(login="mmustermann", name="Someone Else").status_code == 201


def test_update_without_rename_keeps_pairing(api: Api, instance: Instance) -> None:
    instance.seed_user("keep")
    after = api.put("identity/keep", {"003use_name": "keep", "003use_bez": "Kept"}).json()
    assert [d["paired"] for d in after["devices"] if d["type"] == "mobile"] == [True]


def test_delete(api: Api, instance: Instance) -> None:
    instance.seed_user("gone", extension="108")
    response = api.delete("identity/gone")
    assert response.status_code == 204 and response.content == b""
    assert error(api.get("identity/gone"))[0] == 404
    assert error(api.delete("identity/gone")) == (404, "NOT_FOUND", None)
    assert "108" not in instance.extensions
    assert "gone" not in [u["003use_name"] for u in api.get("identity/").json()]
