"""Bad input from the source (issue 9, item 5): each bad record gets a clear per-user
reason in the report; the rest of the run is applied; nobody else is touched."""

from __future__ import annotations

import unicodedata

from pathlib import Path
from typing import Any

from reliability_lab import DOMAIN, Lab, person

GOOD = (1, 2, 3)


def items_by_principal(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["username"]: i for i in report["items"] if i["username"]}


def imported(lab: Lab) -> Path:
    lab.directory(*[person(i) for i in GOOD])
    profile = lab.profile()
    assert lab.run(profile)["counts"]["create"] == len(GOOD)
    return profile


BAD_RECORDS = {
    # number: (identity, expected kind, words the reason must contain)
    10: (person(10, local="guest_fabrikam.com#EXT#", extra={"guest": True}, email="guest@fabrikam.com"), "skip", "guest"),
    11: (person(11, local="member_fabrikam.com#EXT#", email="member@fabrikam.com"), "skip", "external"),
    # usernames the host accepts but pascom cannot hold: SKIPs naming the characters (the target's rule)
    12: (person(12, local="u\u0455er12", email=None), "skip", "pascom does not allow in a login: 'ѕ'"),  # Cyrillic dze
    13: (person(13, local="\uff55ser13", email=None), "skip", "pascom does not allow in a login: 'ｕ'"),  # full-width u
    19: (person(19, local="j\u00fcrgen", email=None), "skip", "pascom does not allow in a login: 'ü'"),  # NFC
    22: (person(22, local="ju\u0308rgen22", email=None), "skip", "pascom does not allow in a login: 'ü'"),  # NFD, normalised to NFC
    23: (person(23, local="o'brien+phone"), "skip", "pascom does not allow in a login: \"'\" '+'"),
    24: (person(24, local="a$b#c!d~e"), "skip", "'!' '#' '$' '~'"),
    25: (person(25, local="_leading"), "skip", "must start with a letter or digit"),
    26: (person(26, local="l" * 130, email=None), "skip", "longer than 128 characters"),
    27: (person(27, local="wide", display_name="W" * 101), "skip", "longer than pascom's 100 characters"),
    14: (person(14, local="bidi", display_name="Invoice\u202egpj.exe"), "skip", "U+202E"),
    15: (person(15, local="ctrl", display_name="Line\nBreak\x00"), "skip", "U+0000, U+000A"),
    16: (person(16, local="long", display_name="x" * 10_000), "skip", "longer than 256"),
    17: (person(17, local="letters", phones=("+49 89 CALL-ME",)), "skip", "is not a phone number"),
    18: (person(18, local="dialplan", phones=("1234&DAHDI/g1/5",)), "skip", "is not a phone number"),
}


def test_each_bad_record_is_skipped_with_its_reason_and_the_rest_applied(lab: Lab) -> None:
    profile = imported(lab)
    fine = [person(20, local="nomail", email=None), person(21, local="fine21")]
    lab.directory(*[identity for identity, _k, _w in BAD_RECORDS.values()], *fine)
    report = lab.run(profile)
    assert report["status"] == "ok"
    items = items_by_principal(report)
    for n, (identity, kind, words) in BAD_RECORDS.items():
        item = items[unicodedata.normalize("NFC", identity.username)]  # validation normalises to NFC
        assert item["kind"] == kind and words in item["reason"], (n, item["reason"])
    # no account for any of them; the good ones (missing mail included) were created
    logins = set(lab.logins())
    assert not any(identity.username.lower() in logins for identity, _k, _w in BAD_RECORDS.values())
    assert {i.username for i in fine} <= logins
    assert report["counts"]["create"] == 2 and report["counts"]["skip"] == len(BAD_RECORDS)
    assert len(lab.links()) == len(GOOD) + 2


def test_a_upn_changed_to_a_login_another_user_holds_is_a_conflict_and_the_other_is_untouched(lab: Lab) -> None:
    profile = imported(lab)
    lab.existing(f"taken@{DOMAIN}", email=f"taken@{DOMAIN}", display_name="Made By Hand")
    other_before = lab.accounts()[f"taken@{DOMAIN}"]
    lab.directory(person(1, local="taken"), person(2, display_name="Still Synced"))
    report = lab.run(profile)
    item = items_by_principal(report)[f"taken@{DOMAIN}"]
    assert item["kind"] == "conflict" and "already held by another account" in item["reason"]
    assert [c["username"] for c in report["conflicts"]] == [f"taken@{DOMAIN}"]
    accounts = lab.accounts()
    assert accounts[f"taken@{DOMAIN}"] == other_before  # untouched
    assert person(1).username in accounts  # user 1 keeps its old login until resolved
    assert accounts[person(2).username]["display_name"] == "Still Synced"  # the rest applied


def test_look_alike_logins_fold_together_and_their_collision_is_a_conflict(lab: Lab) -> None:
    """Phone-system users made by hand: 'user30' (the local part of user 30's UPN) and one
    whose e-mail is the full-width form of the UPN; NFKC + case folding makes both match,
    so it is a conflict, never a guess. Likewise 'user31' beside an account whose e-mail
    is user 31's UPN in capitals. (pascom logins and UPNs are ASCII; non-ASCII and
    NFC/NFD usernames are SKIPs by the target's login rule, see the test above.)"""
    profile = imported(lab)
    lab.existing("user30", email=None, display_name="Plain")
    lab.existing("someone-else", email="\uff55\uff53\uff45\uff52\uff13\uff10@contoso.onmicrosoft.com", display_name="Full-width e-mail")
    lab.existing("user31", email=None, display_name="Plain 31")
    lab.existing("other31", email=f"USER31@{DOMAIN.upper()}", display_name="Capital e-mail 31")
    before = lab.accounts()
    lab.directory(person(30), person(31), person(32))
    report = lab.run(profile)
    items = items_by_principal(report)
    for n in (30, 31):
        item = items[person(n).username]
        assert item["kind"] == "conflict", item
        assert len(report_conflict(report, n)["candidates"]) == 2
    assert items[person(32).username]["kind"] == "create"
    after = lab.accounts()
    for login in ("user30", "someone-else", "user31", "other31"):
        assert after[login] == before[login]


def report_conflict(report: dict[str, Any], n: int) -> dict[str, Any]:
    return next(c for c in report["conflicts"] if c["username"] == person(n).username)


def test_a_upn_held_by_two_objects_in_one_read_is_a_conflict_not_two_accounts(lab: Lab) -> None:
    """Two directory objects with one UPN (Graph forbids it, but a read that spans a
    rename can show it; the Graph simulator's paging is snapshot-consistent, so the
    directory here is the ``MEMORY`` test source, registered as a plugin, writing to
    the real pascom simulator): neither gets an account, both say why, the rest applies."""
    from syncframe.cli.sandbox import render_profile
    from syncframe.testing import write_identities

    users = lab.root / "users.json"
    twins = [person(40, local="twin"), person(41, local="TWIN"), person(42, local="single")]
    write_identities(users, twins)
    text = render_profile("MEMORY", "pascom", {"path": str(users)}, lab.pascom.profile_section(), title="twins")
    profile = lab.root / "twins.toml"
    profile.write_text(text, encoding="utf-8")
    report = lab.run(profile, env={"SYNCFRAME_PLUGIN_MODULES": "syncframe.testing"})
    kinds = {i["source_id"]: i for i in report["items"]}
    for twin in twins[:2]:
        item = kinds[twin.source_id]
        assert item["kind"] in ("conflict", "skip") and "twin@" in item["reason"].lower(), item
    assert kinds[twins[2].source_id]["kind"] == "create"
    assert f"twin@{DOMAIN}" not in lab.logins() and f"single@{DOMAIN}" in lab.logins()
