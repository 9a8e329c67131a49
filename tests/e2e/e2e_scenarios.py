"""The product page's promises, one scenario each (see ``e2e_support`` for the lab).

Every scenario drives the ``syncframe`` CLI and returns a :class:`Result`. The
expectations below are literal and hold in every mode; what only the simulators can
show (SSO, devices, pairing, sessions) is checked on the phone system when it ran,
and on the pascom requests the cassette holds otherwise.
"""

from __future__ import annotations

from typing import Any

from e2e_support import DOMAIN, Lab, Result, logins, pascom_writes, person

ANNA = person(1, "anna.schmidt", "Anna Schmidt")
BEN = person(2, "ben.weber", "Ben Weber")
CARLA = person(4, "carla.fischer", "Carla Fischer", mobile_phone=None)
MAX = person(3, "mmustermann", "Max Mustermann", email=f"max.mustermann@{DOMAIN}")
ERIKA = person(5, "erika.schmidt", "Erika Schmidt")
#: a directory user out of scope (disabled) whose phone-system user an administrator made by hand
DORA = person(6, "dora.hand", "Dora Hand", enabled=False)
DORA_LOGIN = DORA.username

ZERO = {"create": 0, "update": 0, "rename": 0, "adopt": 0, "delete": 0, "disable": 0, "held": 0, "conflict": 0, "skip": 0, "error": 0}


def counts(report: dict[str, Any], **expected: int) -> None:
    """The report's counts are exactly ``expected`` (the rest zero; NOOPs not compared)."""
    got = {k: v for k, v in report["counts"].items() if k != "noop"}
    assert got == {**ZERO, **expected}, got


def sso_user_with_devices(account: dict[str, Any], identity: Any) -> None:
    """A user the connector made: login = UPN, SSO, a softphone and a mobile device."""
    assert account["login"] == identity.username
    assert account["auth"] == "SSO"
    assert account["email"] == identity.email and account["display_name"] == identity.display_name
    assert sorted(d["type"] for d in account["devices"]) == ["mobile", "softphone"]


# --- new users: imported with softphone and mobile device, SSO, login = UPN -----------------


def new_users_imported(lab: Lab) -> Result:
    lab.directory(ANNA, BEN)
    profile = lab.profile()
    preview = lab.plan(profile, expect=3)  # changes pending, nothing written
    first = lab.run(profile)
    again = lab.run(profile)
    return Result([preview, first, again], lab.accounts())


def expect_new_users_imported(result: Result, cassette: Any) -> None:
    preview, first, again = result.reports
    counts(preview, create=2)
    assert preview["kind"] == "plan" and preview["status"] == "pending"
    counts(first, create=2)
    assert first["status"] == "ok" and first["bookmark"] and first["applied"] == 2
    assert logins(first, "create") == [ANNA.username, BEN.username]
    assert first["notices"].get("repair_mobile", []) == []
    counts(again)
    assert again["status"] == "ok" and again["incremental"] and again["counts"]["noop"] == 2
    if result.accounts is not None:
        assert set(result.accounts) == {"admin", ANNA.username, BEN.username}
        for who in (ANNA, BEN):
            sso_user_with_devices(result.accounts[who.username], who)
    if cassette is not None:
        creates = [body for method, path, body in pascom_writes(cassette) if method == "POST" and path == "/identity/"]
        assert len(creates) == 2
        for body in creates:
            (user,) = body["identity"]
            assert user["003use_auth_method"] == "SSO"
            assert user["003use_name"] in (ANNA.username, BEN.username)
            assert user["post"]["ipdevice.mdsoftphone"] and user["post"]["ipdevice.mobile"]


# --- mmustermann: renamed to the UPN, mobile pairing removed and reported ------------------


def local_part_renamed(lab: Lab) -> Result:
    lab.existing("mmustermann", None, "Max Mustermann")
    before = lab.accounts()
    lab.directory(MAX)
    first = lab.run(lab.profile())
    result = Result([first], lab.accounts())
    if before is not None:
        result.extra["before"] = before["mmustermann"]
    return result


def expect_local_part_renamed(result: Result, cassette: Any) -> None:
    (first,) = result.reports
    counts(first, adopt=1, rename=1)
    assert first["status"] == "ok"
    (adopt,) = [i for i in first["items"] if i["kind"] == "adopt"]
    assert adopt["login"] == MAX.username and adopt["rename_from"] == "mmustermann"
    assert first["notices"].get("repair_mobile", []) == [MAX.username]
    if result.accounts is not None:
        before = result.extra["before"]
        assert any(d["paired"] for d in before["devices"]) and before["sessions"] and before["auth"] != "SSO"
        assert "mmustermann" not in result.accounts
        after = result.accounts[MAX.username]
        assert after["id"] == before["id"]  # the same user, renamed, not a new one
        assert after["auth"] == "SSO"
        assert not any(d["paired"] for d in after["devices"]) and after["sessions"] == []
    if cassette is not None:
        writes = pascom_writes(cassette)
        (rename,) = [body for method, path, body in writes if method == "PUT" and path == "/identity/mmustermann"]
        assert rename["003use_name"] == MAX.username and rename["003use_auth_method"] == "SSO"
        assert ("DELETE", f"/identity/{MAX.username}/sessions", None) in writes


# --- a user whose e-mail is the UPN: renamed -------------------------------------------------


def email_renamed(lab: Lab) -> Result:
    lab.existing("eschmidt", ERIKA.username, "Erika Schmidt")
    lab.existing("reception", "reception@example.org", "Reception desk")
    lab.directory(ERIKA)
    first = lab.run(lab.profile())
    return Result([first], lab.accounts())


def expect_email_renamed(result: Result, cassette: Any) -> None:
    (first,) = result.reports
    counts(first, adopt=1, rename=1)
    (adopt,) = [i for i in first["items"] if i["kind"] == "adopt"]
    assert adopt["login"] == ERIKA.username and adopt["rename_from"] == "eschmidt"
    assert first["notices"].get("repair_mobile", []) == [ERIKA.username]
    if result.accounts is not None:
        assert set(result.accounts) == {"admin", "reception", ERIKA.username}
        assert result.accounts[ERIKA.username]["auth"] == "SSO"
        assert result.accounts["reception"]["auth"] != "SSO"  # nobody's: untouched
    if cassette is not None:
        writes = pascom_writes(cassette)
        assert [(m, p) for m, p, _ in writes] == [("PUT", "/identity/eschmidt"), ("DELETE", f"/identity/{ERIKA.username}/sessions")]


# --- mode sync: removes the user deleted in Entra that it created, never another ---------------


def removal_scenario(lab: Lab, mode: str) -> Result:
    lab.directory(ANNA, BEN, CARLA, DORA)
    lab.existing(DORA_LOGIN, DORA_LOGIN, "Dora Hand")
    lab.existing("reception", "reception@example.org", "Reception desk")
    profile = lab.profile(mode=mode)
    first = lab.run(profile)
    lab.remove(BEN)  # deleted in Entra: imported by the first run
    lab.remove(DORA)  # deleted in Entra: never imported
    second = lab.run(profile)
    return Result([first, second], lab.accounts())


def sync_removes_only_its_own(lab: Lab) -> Result:
    return removal_scenario(lab, "sync")


def upsert_removes_nobody(lab: Lab) -> Result:
    return removal_scenario(lab, "upsert")


def _expect_first_import(first: dict[str, Any], mode: str) -> None:
    counts(first, create=3, skip=1)
    assert first["mode"] == mode and first["status"] == "ok"
    assert logins(first, "create") == sorted(p.username for p in (ANNA, BEN, CARLA))
    (skip,) = [i for i in first["items"] if i["kind"] == "skip"]
    assert skip["username"] == DORA_LOGIN and "disabled" in skip["reason"]


def _untouched(result: Result) -> None:
    """Users no import of this connector created never appear as a change."""
    for report in result.reports:
        assert not [i for i in report["items"] if i["login"] in (DORA_LOGIN, "reception", "admin") and i["kind"] != "skip"]


def expect_sync_removes_only_its_own(result: Result, cassette: Any) -> None:
    first, second = result.reports
    _expect_first_import(first, "sync")
    counts(second, delete=1)
    assert second["status"] == "ok" and second["incremental"] and second["counts"]["noop"] == 2
    (delete,) = second["items"]
    assert delete["login"] == BEN.username and "linked by an earlier import" in delete["reason"]
    _untouched(result)
    if result.accounts is not None:
        assert set(result.accounts) == {"admin", "reception", DORA_LOGIN, ANNA.username, CARLA.username}
        assert result.accounts[DORA_LOGIN]["auth"] != "SSO"  # made by hand, never adopted
    if cassette is not None:
        writes = pascom_writes(cassette)
        assert [m for m, _, _ in writes] == ["POST"] * 3 + ["DELETE"]
        assert writes[-1][1] == f"/identity/{BEN.username}"


def expect_upsert_removes_nobody(result: Result, cassette: Any) -> None:
    first, second = result.reports
    _expect_first_import(first, "upsert")
    counts(second, skip=1)
    assert second["status"] == "ok" and second["counts"]["noop"] == 2
    (skip,) = second["items"]
    assert skip["login"] == BEN.username and "mode upsert never removes" in skip["reason"]
    _untouched(result)
    if result.accounts is not None:
        assert set(result.accounts) == {"admin", "reception", DORA_LOGIN, ANNA.username, BEN.username, CARLA.username}
    if cassette is not None:
        assert [m for m, _, _ in pascom_writes(cassette)] == ["POST"] * 3


#: name -> (scenario, expectations)
SCENARIOS = {
    "new_users_imported": (new_users_imported, expect_new_users_imported),
    "local_part_renamed": (local_part_renamed, expect_local_part_renamed),
    "email_renamed": (email_renamed, expect_email_renamed),
    "sync_removes_only_its_own": (sync_removes_only_its_own, expect_sync_removes_only_its_own),
    "upsert_removes_nobody": (upsert_removes_nobody, expect_upsert_removes_nobody),
}
