"""Wire fidelity (issue 13, item 15): assumptions about what pascom answers never turn into
a write on every run, and booleans are read strictly.

A real instance may answer a user without a field we assume it carries (``phonebook``,
``devices``, ...): such a field is unknown, not empty, and never compared. The simulator
reshapes its answers (``Instance.reshape_answers``) to play such an instance.
"""

from __future__ import annotations

import pytest

from syncframe import FatalSyncError, Identity
from syncframe_pascom import wire

from pascom_helpers import create_item

ANNA = Identity(
    source_id="a1",
    username="anna@contoso.onmicrosoft.com",
    display_name="Anna Berg",
    given_name="Anna",
    surname="Berg",
    email="anna@contoso.com",
    phones=("+49 30 1234567",),
    mobile_phone="+49 170 1234567",
)


def created(target) -> None:
    target.apply(create_item(target, ANNA))


@pytest.mark.parametrize("absent", ["phonebook", "devices", "016voi_email", "009ext_extension", "user_roles", "003use_auth_method"])
def test_a_field_the_answer_does_not_carry_is_not_compared(target, instance, absent: str) -> None:
    created(target)
    instance.reshape_answers(omit={absent})
    (account,) = [a for a in target.list_accounts() if a.login == "anna@contoso.onmicrosoft.com"]
    assert target.diff(account, target.desired(ANNA)) == {}


def test_an_answer_without_the_phonebook_still_shows_real_changes(target, instance) -> None:
    created(target)
    instance.reshape_answers(omit={"phonebook"})
    (account,) = [a for a in target.list_accounts() if a.login == "anna@contoso.onmicrosoft.com"]
    changed = target.desired(ANNA.replace(display_name="Anna Berg-Lind"))
    assert target.diff(account, changed) == {"display_name": ["Anna Berg", "Anna Berg-Lind"]}


def test_an_empty_phonebook_is_known_to_be_empty(target, instance) -> None:
    instance.seed_user("bert@contoso.onmicrosoft.com", display_name="Bert", auth_method="SSO")
    account = target.find("bert@contoso.onmicrosoft.com")
    assert account.fields["first_name"] is None and account.fields["mobile_phone"] is None


@pytest.mark.parametrize(("value", "enabled"), [(True, True), (False, False), ("true", True), ("false", False), ("0", False), (1, True), ("FALSE", False)])
def test_enabled_accepts_the_forms_of_true_and_false(value, enabled) -> None:
    assert wire.account_fields({wire.LOGIN: "x", wire.ENABLED: value})["enabled"] is enabled


@pytest.mark.parametrize("value", ["yes", "no", "maybe", "", 2, None, [], {"v": 1}])
def test_an_unknown_boolean_is_an_error_never_truthy(value) -> None:
    with pytest.raises(FatalSyncError, match="003use_enabled") as info:
        wire.account_fields({wire.LOGIN: "carla@contoso.onmicrosoft.com", wire.ENABLED: value})
    assert "carla@contoso.onmicrosoft.com" in str(info.value)


def test_an_unknown_paired_value_is_an_error(target, instance) -> None:
    created(target)
    instance.reshape_answers(device_paired="sometimes")
    with pytest.raises(FatalSyncError, match="paired"):
        target.list_accounts()


def test_an_unknown_enabled_value_stops_the_listing_with_one_line(target, instance) -> None:
    created(target)
    instance.reshape_answers(replace={"003use_enabled": "maybe"})
    with pytest.raises(FatalSyncError) as info:
        target.list_accounts()
    assert "\n" not in str(info.value) and "'maybe'" in str(info.value)
