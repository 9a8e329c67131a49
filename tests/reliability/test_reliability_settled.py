"""Two questions issue 20 asked to settle, through the real CLI and simulators.

1. After a partial ``--allow-removals``, the removals still held **wait for a release**:
   they are not applied by a later run just because the rest now fits under the limit
   (an administrator reviewed the held removals and released only *some* of them). A
   held user who comes back in the directory is no longer a removal at all. (Held
   removals nobody released any of are judged afresh each run: see
   ``test_reliability_source.py::test_a_held_drop_does_not_become_the_baseline_of_the_next_read``.)
2. In mode ``upsert``, a user disabled in the directory is kept as it is by default
   (``upsert_disabled = "keep"``): upsert never removes. ``upsert_disabled = "disable"``
   disables the phone account instead (and enables it again when the directory does);
   the account, its devices and its extension stay.
"""

from __future__ import annotations

from reliability_lab import Lab, person

USERS = 30


def test_removals_held_after_a_partial_release_wait_for_a_release(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile()
    lab.run(profile)
    leavers = list(range(1, 13))  # 12 removals; the guard allows max(5, 10 % of 30) = 5
    for n in leavers:
        lab.graph.remove_identity(person(n).source_id)

    held = lab.run(profile, expect=4)
    assert held["held"]["count"] == 12 and held["counts"]["delete"] == 0

    partial = lab.run(profile, "--allow-removals", "8", expect=4)
    assert partial["counts"]["delete"] == 8 and partial["held"]["count"] == 4
    remaining = sorted(i["login"] for i in partial["items"] if i["kind"] == "held")

    # 4 removals fit under the limit now (max(5, 10 % of 22)), but nobody released them
    later = lab.run(profile, expect=4)
    assert later["counts"]["delete"] == 0 and later["held"]["count"] == 4
    assert "released" in later["held"]["reason"] and later["held"]["release"].endswith("--allow-removals 4")
    assert all(login in lab.logins() for login in remaining)

    # one of them comes back in the directory: no longer a removal, the others still wait
    back = next(n for n in leavers if person(n).username == remaining[0])
    lab.directory(person(back))
    assert lab.run(profile, expect=4)["held"]["count"] == 3

    released = lab.run(profile, "--allow-removals", "3")
    assert released["status"] == "ok" and released["counts"]["delete"] == 3
    assert sorted(lab.links()) == sorted([person(back).source_id] + [person(n).source_id for n in range(13, USERS + 1)])


def test_new_removals_under_the_limit_apply_while_earlier_held_ones_wait(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile()
    lab.run(profile)
    for n in range(1, 7):  # 6 > 5: held
        lab.graph.remove_identity(person(n).source_id)
    lab.run(profile, expect=4)
    lab.run(profile, "--allow-removals", "3", expect=4)  # 3 removed, 3 wait
    lab.graph.remove_identity(person(30).source_id)  # a new leaver: 3 waiting + 1 new = 4, under the limit
    report = lab.run(profile, expect=4)
    assert [i["login"] for i in report["items"] if i["kind"] == "delete"] == [person(30).username]
    assert report["held"]["count"] == 3


def test_upsert_keeps_a_disabled_user_by_default(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, 6)])
    profile = lab.profile(mode="upsert")
    lab.run(profile)
    lab.directory(person(2, enabled=False))
    report = lab.run(profile)
    assert report["status"] == "ok" and report["counts"]["update"] == 0
    item = next(i for i in report["items"] if i["source_id"] == person(2).source_id)
    assert item["kind"] == "skip" and "upsert_disabled" in item["reason"], item
    assert lab.accounts()[person(2).username]["enabled"] is True


def test_upsert_disables_a_disabled_user_when_the_profile_says_so(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, 6)])
    profile = lab.profile(mode="upsert", extra={"upsert_disabled": "disable"})
    lab.run(profile)
    before = lab.accounts()[person(2).username]
    lab.directory(person(2, enabled=False), person(6, enabled=False))  # 6 was never imported

    report = lab.run(profile)
    assert report["status"] == "ok"
    assert [(c["kind"], c["login"], c["changes"].get("enabled")) for c in report["changes"]] == [("update", person(2).username, [True, False])]
    after = lab.accounts()[person(2).username]
    assert after["enabled"] is False and after["id"] == before["id"] and after["extension"] == before["extension"]
    assert after["devices"] == before["devices"]
    assert person(6).username not in lab.logins(), "a disabled user is not created"
    assert person(2).source_id in lab.links()

    lab.directory(person(2))  # enabled again in the directory
    again = lab.run(profile)
    assert again["counts"]["update"] == 1 and lab.accounts()[person(2).username]["enabled"] is True


def test_upsert_disabled_is_checked_with_the_profile(lab: Lab) -> None:
    profile = lab.profile(mode="upsert", extra={"upsert_disabled": "remove"})
    result = lab.invoke("plan", "rel", "--profile", str(profile))
    assert result.exit_code == 2 and "upsert_disabled" in result.output + result.stderr
