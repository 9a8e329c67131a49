"""Each pascom operation replayed from a scrubbed cassette (recorded against the simulator).

Recording (``--record-mode=once`` or ``rewrite``) starts the simulator and seeds it;
replaying (the default, ``none``) points the target at ``https://pascom.sim.invalid``
and never opens a socket. The assertions are on what the target returns, so they
hold in both modes; what only the simulator can show is checked while recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from syncframe import AuthenticationError, ConnectorContext, Identity, ItemKind, PlanItem
from syncframe_pascom.client import PascomApiError
from syncframe_pascom.schema import PascomTargetSchema
from syncframe_pascom.simulator import Instance, PascomSimulator
from syncframe_pascom.target import PascomTarget

from cassette_support import CASSETTE_ROOT, find_leaks
from pascom_helpers import change_item, create_item

PLACEHOLDER = "https://pascom.sim.invalid"
INSTANCE = "acme"
PASSWORD_ENV = "SYNCFRAME_CASSETTE_PASCOM_PASSWORD"
#: the simulator's REST password while recording; it must appear in no cassette
RECORDING_PASSWORD = "recording-only-password-1"

MAX = Identity(
    source_id="11111111-2222-3333-4444-555555555555",
    username="mmustermann@contoso.onmicrosoft.com",
    display_name="Max Mustermann",
    given_name="Max",
    surname="Mustermann",
    email="max.mustermann@contoso.com",
    phones=("+49 30 1234567",),
    mobile_phone="+491701234567",
)


@dataclass
class Pbx:
    """Where the target points, and the simulator behind it while recording."""

    target: PascomTarget
    sleeps: list[float]
    instance: Instance | None  # None while replaying


@pytest.fixture
def pbx(recording, host_map, monkeypatch):
    sleeps: list[float] = []
    simulator = PascomSimulator().start() if recording else None
    instance = None
    if simulator is not None:
        instance = simulator.add_instance(INSTANCE, password=RECORDING_PASSWORD)
        host_map.add(simulator.url, PLACEHOLDER)
        url, ca_bundle = simulator.instance_url(INSTANCE), simulator.ca_bundle
        monkeypatch.setenv(PASSWORD_ENV, instance.password)
    else:
        url, ca_bundle = f"{PLACEHOLDER}/{INSTANCE}", None
        monkeypatch.setenv(PASSWORD_ENV, "replay-password")
    config = PascomTargetSchema().load({"url": url, "password_env": PASSWORD_ENV, **({"ca_bundle": ca_bundle} if ca_bundle else {})})
    target = PascomTarget(config, ConnectorContext(name="cassettes", profile={"create_softphone": True, "create_mobile": True}), sleep=sleeps.append)
    yield Pbx(target, sleeps, instance)
    target.close()
    if simulator is not None:
        simulator.stop()


@pytest.mark.vcr
def test_create_with_devices(pbx):
    account = pbx.target.apply(create_item(pbx.target, MAX))
    assert account.login == "mmustermann@contoso.onmicrosoft.com"
    assert account.fields["auth"] == "SSO" and account.fields["devices"] == ["mobile", "softphone"]
    assert account.fields["extension"] == "101"
    assert pbx.target.diff(account, pbx.target.desired(MAX)) == {}


@pytest.mark.vcr
def test_update(pbx):
    if pbx.instance:
        pbx.instance.seed_user(MAX.username, display_name="Max Mustermann", email=MAX.email, auth_method="SSO")
    account = pbx.target.find(MAX.username)
    changed = MAX.replace(display_name="Max Mustermann-Meier", mobile_phone="+491709999999")
    item = change_item(pbx.target, changed, account, ItemKind.UPDATE)
    after = pbx.target.apply(item)
    assert after.display_name == "Max Mustermann-Meier" and after.fields["mobile_phone"] == "+491709999999"
    assert after.target_id == account.target_id


@pytest.mark.vcr
def test_rename_and_session_reset(pbx):
    if pbx.instance:
        pbx.instance.seed_user("mmustermann", display_name="Max Mustermann", email=MAX.email, extension="201", roles=["Users"])
    account = pbx.target.find("mmustermann")
    after = pbx.target.apply(change_item(pbx.target, MAX, account, ItemKind.ADOPT))
    assert after.login == MAX.username and after.target_id == account.target_id
    assert after.fields["auth"] == "SSO" and after.fields["extension"] == "201" and after.fields["roles"] == ["Users"]
    if pbx.instance:
        user = pbx.instance.user(MAX.username)
        assert user.sessions == [] and not any(d.paired for d in user.devices)


@pytest.mark.vcr
def test_delete(pbx):
    if pbx.instance:
        pbx.instance.seed_user(MAX.username, display_name="Max Mustermann", auth_method="SSO")
    account = pbx.target.find(MAX.username)
    item = PlanItem(ItemKind.DELETE, "gone", login=account.login, target_id=account.target_id, account=account)
    assert pbx.target.apply(item) is None
    assert pbx.target.find(MAX.username) is None


@pytest.mark.vcr
def test_409_duplicate_login(pbx):
    if pbx.instance:
        pbx.instance.seed_user(MAX.username, display_name="Someone Else")
    with pytest.raises(PascomApiError) as caught:
        pbx.target.apply(create_item(pbx.target, MAX))
    assert caught.value.status == 409 and caught.value.code == "LOGIN_EXISTS"


@pytest.mark.vcr
def test_429_then_success(pbx):
    if pbx.instance:
        pbx.instance.switches.throttle_next(2, retry_after=2)
    accounts = pbx.target.list_accounts()
    assert [a.login for a in accounts] == ["admin"] and accounts[0].protected
    assert pbx.sleeps == [2.0, 2.0]


@pytest.mark.vcr
def test_401(pbx):
    if pbx.instance:
        pbx.instance.switches.reject_credentials = True
    with pytest.raises(AuthenticationError) as caught:
        pbx.target.list_accounts()
    assert "refused the REST credentials of user 'moby'" in str(caught.value)
    assert f"${PASSWORD_ENV}" in str(caught.value)


def test_cassettes_hold_no_secret():
    """Every operation has its cassette, and none holds the password, in clear or as Basic."""
    folder = CASSETTE_ROOT / "test_pascom_cassettes"
    names = {p.stem for p in folder.glob("*.yaml")}
    assert names >= {"test_create_with_devices", "test_update", "test_rename_and_session_reset", "test_delete",
                     "test_409_duplicate_login", "test_429_then_success", "test_401"}
    for path in folder.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert find_leaks(text, secrets=(RECORDING_PASSWORD,)) == [], path.name
        assert "127.0.0.1" not in text and "Authorization:\n      - REDACTED" in text
