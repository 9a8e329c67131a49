"""The pascom target through its public API, against the pascom simulator over HTTPS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from syncframe import Account, AuthenticationError, Identity, ItemKind, PlanItem, RetriableSyncError, SkippableRecordError
from syncframe_pascom.client import PascomApiError

from pascom_helpers import PASSWORD_ENV, change_item, create_item, delete_item


def person(n: int = 1, **changes) -> Identity:
    base = Identity(
        source_id=f"id-{n}",
        username=f"User{n}@Contoso.onmicrosoft.com",
        display_name=f"User {n}",
        given_name="User",
        surname=str(n),
        email=f"user{n}@contoso.com",
        phones=(f"+49 30 555 0{n:03d}",),
        mobile_phone=f"+49170555{n:04d}",
    )
    return base.replace(**changes)


def create(target, identity: Identity) -> Account:
    return target.apply(create_item(target, identity))


# --- reading ----------------------------------------------------------------------------


def test_list_accounts_marks_protected_users(make_target, instance):
    instance.seed_user("moby", display_name="REST user")
    instance.seed_user("operator", display_name="Operator")
    instance.seed_user("jdoe", display_name="Jane Doe", email="jane@contoso.com", roles=["Users"])
    target = make_target(protected_logins=["Operator"])
    accounts = {a.login: a for a in target.list_accounts()}
    assert {login for login, a in accounts.items() if a.protected} == {"admin", "moby", "operator"}
    jane = accounts["jdoe"]
    assert jane.email == "jane@contoso.com" and jane.display_name == "Jane Doe" and jane.enabled
    assert jane.fields["auth"] == "mobydick" and jane.fields["roles"] == ["Users"]
    assert jane.fields["devices"] == ["mobile", "softphone"]
    assert jane.target_id == str(instance.user("jdoe").id)


def test_find(target, instance):
    instance.seed_user("jdoe", display_name="Jane Doe")
    assert target.find("JDoe").login == "jdoe"
    assert target.find("nobody") is None


def test_check_reports_sign_in(target, make_target, monkeypatch):
    (ok,) = target.check()
    assert ok.ok and "1 users, 1 protected" in ok.detail
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password-123")
    (bad,) = make_target().check()
    assert not bad.ok and "401" in bad.detail and "wrong-password-123" not in bad.detail


# --- create -----------------------------------------------------------------------------


def test_create_with_devices_sso_and_phonebook(target, instance):
    account = create(target, person(1))
    user = instance.user("user1@contoso.onmicrosoft.com")
    assert account.target_id == str(user.id) and account.login == user.login
    assert user.auth_method == "SSO" and user.password is None
    assert user.display_name == "User 1" and user.email == "user1@contoso.com"
    assert user.extension == "101"  # auto: the lowest free number of the pool (admin has 100)
    assert sorted(d.type for d in user.devices) == ["mobile", "softphone"]
    softphone = next(d for d in user.devices if d.type == "softphone")
    mobile = next(d for d in user.devices if d.type == "mobile")
    assert softphone.name == "pascom Softphone [User 1]"
    assert mobile.number == "+491705550001" and not mobile.paired
    assert user.phonebook[0]["028pho_firstname"] == "User" and user.phonebook[0]["028pho_phone"] == "+49 30 555 0001"
    # what was written reads back equal to what was desired: the next plan is a NOOP
    assert target.diff(target.find(user.login), target.desired(person(1))) == {}


def test_create_without_devices_when_the_profile_says_so(make_target, instance):
    target = make_target(create_softphone=False, create_mobile=False)
    create(target, person(1))
    assert instance.user("user1@contoso.onmicrosoft.com").devices == []


def test_create_with_roles(make_target, instance):
    target = make_target(roles=["Users"], group_roles={"Sales": "Sales Team"})
    create(target, person(1, groups=("Sales",)))
    assert instance.user("user1@contoso.onmicrosoft.com").roles == ["Sales Team", "Users"]


def test_extension_from_business_phone_with_collision_falls_back_to_auto(make_target, instance):
    target = make_target(extension="business_phone", extension_digits=3)
    create(target, person(1))  # business phone ...0001 -> extension 001
    assert instance.user("user1@contoso.onmicrosoft.com").extension == "001"
    # user 2's phone ends in the same three digits: pascom answers 409, the target lets pascom pick
    clash = person(2, phones=("+49 40 777 7001",))
    account = create(target, clash)
    assert instance.user("user2@contoso.onmicrosoft.com").extension == "101"  # admin has 100
    assert account.fields["extension"] == "101"


def test_update_changes_only_what_differs(target, instance):
    account = create(target, person(1))
    instance.update(account.login, {"011acc_pin": "4711"})  # set by hand; never in a body we send
    changed = person(1, display_name="User One", mobile_phone="+491709999999")
    item = change_item(target, changed, account)
    assert set(item.changes) == {"display_name", "mobile_phone"}
    after = target.apply(item)
    user = instance.user(account.login)
    assert user.display_name == "User One" and user.phonebook[0]["028pho_mobile"] == "+491709999999"
    assert user.pin == "4711" and user.extension == account.fields["extension"]
    assert after.display_name == "User One"
    assert target.diff(after, target.desired(changed)) == {}


def test_update_with_a_taken_extension_keeps_the_current_one(make_target, instance):
    instance.seed_user("other", display_name="Other", extension="777")
    target = make_target(extension="business_phone", extension_digits=3)
    account = create(target, person(1))
    changed = person(1, display_name="User One", phones=("+49 30 555 0777",))
    after = target.apply(change_item(target, changed, account))
    assert after.fields["extension"] == "001" and after.display_name == "User One"


# --- rename and adoption -------------------------------------------------------------------


def test_rename_keeps_everything_and_resets_the_pairing(simulator, make_target, instance):
    target = make_target(roles=["Users"])
    account = create(target, person(1))
    login = account.login
    instance.pair_mobile(login)
    instance.update(login, {"003use_bez": "User 1"})  # nothing else changed
    before = instance.user(login)
    ids, extension, devices = before.id, before.extension, sorted((d.id, d.type) for d in before.devices)
    assert any(d.paired for d in before.devices) and before.sessions

    renamed = person(1, username="user1.new@contoso.com")
    item = change_item(target, renamed, target.find(login), ItemKind.RENAME)
    assert item.rename_from == login
    after = target.apply(item)

    assert instance.user(login) is None
    user = instance.user("user1.new@contoso.com")
    assert after.login == user.login and after.target_id == str(ids)
    assert user.id == ids and user.extension == extension and user.roles == ["Users"]
    assert sorted((d.id, d.type) for d in user.devices) == devices
    assert not any(d.paired for d in user.devices if d.type == "mobile")
    assert user.sessions == []
    calls = [(r.method, r.path) for r in simulator.requests if r.instance == instance.name]
    assert ("DELETE", f"/{instance.name}/services/identity/user1.new@contoso.com/sessions") in calls


def test_adopt_renames_switches_to_sso_and_resets_pairing(target, instance):
    seeded = instance.seed_user("mmustermann", display_name="Max Mustermann", email="max@contoso.com",
                                extension="201", roles=["Users"])
    assert seeded.password and seeded.sessions
    entra = person(1, username="mmustermann@contoso.onmicrosoft.com", display_name="Max Mustermann",
                   email="max@contoso.com")
    account = target.find("mmustermann")
    after = target.apply(change_item(target, entra, account, ItemKind.ADOPT))
    user = instance.user("mmustermann@contoso.onmicrosoft.com")
    assert user.id == seeded.id and user.extension == "201" and user.roles == ["Users"]
    assert user.auth_method == "SSO" and user.password is None
    assert user.sessions == [] and not any(d.paired for d in user.devices)
    assert len(user.devices) == 2  # had both already: none added
    assert after.fields["auth"] == "SSO" and after.login == user.login


def test_adopt_adds_missing_devices_without_touching_sessions(target, instance):
    instance.seed_user("max@contoso.com", display_name="Max", email="max@contoso.com", mobile=False,
                       sessions=("desktop",))
    entra = person(1, username="max@contoso.com", display_name="Max", email="max@contoso.com")
    after = target.apply(change_item(target, entra, target.find("max@contoso.com"), ItemKind.ADOPT))
    user = instance.user("max@contoso.com")
    assert sorted(d.type for d in user.devices) == ["mobile", "softphone"]
    assert after.fields["devices"] == ["mobile", "softphone"]
    assert len(user.sessions) == 1  # no rename: the desktop session stays
    assert user.auth_method == "SSO"


def test_rename_onto_a_taken_login_is_a_per_user_error(target, instance):
    account = create(target, person(1))
    instance.seed_user("taken@contoso.com", display_name="Taken")
    item = change_item(target, person(1, username="taken@contoso.com"), account, ItemKind.RENAME)
    with pytest.raises(SkippableRecordError) as caught:
        target.apply(item)
    assert isinstance(caught.value, PascomApiError) and caught.value.code == "LOGIN_EXISTS"
    assert "409 LOGIN_EXISTS" in str(caught.value)
    assert instance.user(account.login) is not None


def test_rename_whose_answer_was_lost_is_finished_on_retry(simulator, target, instance):
    account = create(target, person(1))
    instance.pair_mobile(account.login)
    instance.switches.lose_write(1, "502")  # the PUT lands; its answer is a 502
    item = change_item(target, person(1, username="user1.new@contoso.com"), account, ItemKind.RENAME)
    after = target.apply(item)
    user = instance.user("user1.new@contoso.com")
    assert after.target_id == account.target_id and user.sessions == []
    assert len(instance.users) == 2  # admin and the renamed user


# --- removal -------------------------------------------------------------------------------


def test_removal_deletes_by_default(target, instance):
    account = create(target, person(1))
    assert target.apply(delete_item(account)) is None
    assert instance.user(account.login) is None
    # deleting again (a retried run) is not an error
    assert target.apply(delete_item(account)) is None


def test_disabling_keeps_the_user_and_its_devices(target, instance):
    assert target.can_disable
    account = create(target, person(1))
    devices = [d.id for d in instance.user(account.login).devices]
    disable = delete_item(account)
    disable.kind = ItemKind.DISABLE
    after = target.apply(disable)
    user = instance.user(account.login)
    assert user.enabled is False and after.enabled is False and after.target_id == account.target_id
    assert [d.id for d in user.devices] == devices and devices
    # the user comes back: the diff enables it again
    assert target.diff(after, target.desired(person(1))) == {"enabled": [False, True]}


def test_protected_users_are_never_touched(make_target, instance):
    instance.seed_user("operator", display_name="Operator")
    target = make_target(protected_logins=["operator"])
    accounts = {a.login: a for a in target.list_accounts()}
    for login in ("admin", "operator"):
        with pytest.raises(SkippableRecordError, match="protected"):
            target.apply(delete_item(accounts[login]))
        assert instance.user(login) is not None
    with pytest.raises(SkippableRecordError, match="protected"):
        target.apply(change_item(target, person(1, username="admin@contoso.com"), accounts["admin"], ItemKind.ADOPT))
    assert instance.user("admin").auth_method == "mobydick"


# --- errors ----------------------------------------------------------------------------------


def test_per_user_errors_while_other_writes_succeed(target, instance):
    """Eight threads; one duplicate (409) and one display name pascom cannot hold fail alone."""
    instance.seed_user("user3@contoso.onmicrosoft.com", display_name="Someone Else")
    people = [person(n) for n in range(1, 13)]
    people[5] = person(6, display_name="x" * 101)  # pascom allows 100 characters

    def attempt(identity):
        try:
            return create(target, identity)
        except SkippableRecordError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, people))
    failed = {people[i].source_id: r for i, r in enumerate(results) if isinstance(r, Exception)}
    assert set(failed) == {"id-3", "id-6"}
    assert failed["id-3"].code == "LOGIN_EXISTS" and failed["id-3"].status == 409
    # refused by the mapping before any request: the plan makes it a SKIP, never a 400 every run
    assert "longer than pascom's 100 characters" in str(failed["id-6"]) and not hasattr(failed["id-6"], "status")
    created = [r for r in results if isinstance(r, Account)]
    assert len(created) == 10
    assert len({a.fields["extension"] for a in created}) == 10
    assert instance.user("user3@contoso.onmicrosoft.com").display_name == "Someone Else"


def test_401_is_fatal_with_a_clear_message(make_target, monkeypatch, simulator, instance):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password-42")
    target = make_target()
    with pytest.raises(AuthenticationError) as caught:
        create(target, person(1))
    message = str(caught.value)
    assert "refused the REST credentials of user 'moby'" in message
    assert f"${PASSWORD_ENV}" in message and simulator.instance_url(instance.name) in message
    assert "not-the-password-42" not in message and instance.password not in message
    assert instance.user("user1@contoso.onmicrosoft.com") is None


def test_429_then_success_honours_retry_after(target, instance, sleeps):
    instance.switches.throttle_next(2, retry_after=3)
    account = create(target, person(1))
    assert account.login == "user1@contoso.onmicrosoft.com"
    assert sleeps == [3.0, 3.0]
    assert target.client.stats.retries == 2


def test_5xx_beyond_the_retry_budget(make_target, instance, sleeps):
    target = make_target(max_retries=2)
    instance.switches.outage(503, retry_after=1)
    with pytest.raises(RetriableSyncError, match="503 SERVICE_UNAVAILABLE"):
        create(target, person(1))
    assert sleeps == [1.0, 1.0]


@pytest.mark.parametrize("mode", ["502", "drop"])
def test_lost_create_answer_does_not_duplicate(make_target, instance, mode):
    # a short timeout: a dropped answer may show as a reset connection or as silence
    target = make_target(timeout=1)
    instance.switches.lose_write(1, mode)  # the POST lands; the answer is lost
    account = create(target, person(1))
    user = instance.user("user1@contoso.onmicrosoft.com")
    assert account.target_id == str(user.id)
    assert [u.login for u in instance.users.values()].count(user.login) == 1
    assert len(instance.users) == 2
    assert sorted(d.type for d in user.devices) == ["mobile", "softphone"]


def test_existing_login_on_create_without_retry_is_a_conflict(target, instance):
    """The same login from someone else is not adopted behind the plan's back."""
    instance.seed_user("user1@contoso.onmicrosoft.com", display_name="User 1", email="user1@contoso.com")
    with pytest.raises(PascomApiError) as caught:
        create(target, person(1))
    assert caught.value.code == "LOGIN_EXISTS" and not caught.value.retried
    assert instance.user("user1@contoso.onmicrosoft.com").auth_method == "mobydick"


def test_lost_create_of_someone_else_is_not_adopted(target, instance):
    """Retried create, 409, but the existing user is not the one we sent: a per-user error."""
    instance.seed_user("user1@contoso.onmicrosoft.com", display_name="Somebody", email="else@contoso.com")
    instance.switches.fail_write(1, status=503)  # the first POST fails unperformed, the retry gets 409
    with pytest.raises(PascomApiError) as caught:
        create(target, person(1))
    assert caught.value.retried and caught.value.code == "LOGIN_EXISTS"


def test_a_desired_field_pascom_lacks_is_a_per_user_error(target, instance):
    """A ``syncframe_map_identity`` hook may add keys; one pascom cannot store fails that user only."""
    identity = person(1)
    desired = {**target.desired(identity), "colour": "blue"}
    item = PlanItem(ItemKind.CREATE, "new", source_id=identity.source_id, login=desired["login"], identity=identity, desired=desired)
    with pytest.raises(SkippableRecordError, match="no field for colour"):
        target.apply(item)
    assert instance.user(desired["login"]) is None
