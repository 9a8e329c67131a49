"""A user the target refuses for good does not block removals (issue 20, item 4).

Users the target's rules exclude are skipped while planning (``Target.desired``; see
``tests/pascom/test_pascom_mapping.py``). What is left is a refusal only the phone
system knows: here a directory user whose mobile number is two digits long, which the
host accepts as a phone number and pascom refuses (``400 INVALID_PHONE``) on every
create. That answer is definite: nothing was written, and asking again gets the same
answer. The run lists the user, and still removes a leaver and advances its bookmark.
"""

from __future__ import annotations

from reliability_lab import Lab, person

USERS = 10


def test_a_permanent_refusal_is_reported_and_blocks_neither_removals_nor_the_bookmark(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile()
    assert lab.run(profile)["counts"]["create"] == USERS
    lab.graph.remove_identity(person(4).source_id)  # a leaver
    refused = person(11, mobile_phone="12")  # pascom: 400 INVALID_PHONE on every create
    lab.directory(refused)

    for _attempt in (1, 2):  # and the same on the next run: no run is blocked by it
        lab.pascom.simulator.reset_counters()
        report = lab.run(profile, expect=0)
        assert report["status"] == "ok"
        assert [(e["login"], e["permanent"]) for e in report["errors"]] == [(refused.username, True)], report["errors"]
        assert "400 INVALID_PHONE" in report["errors"][0]["error"]
        assert report["refused"] == 1
        assert report["removals_withheld"] is None
        assert report["bookmark"] is True
        posts = [w for w in lab.pascom_writes() if w[0] == "POST"]
        assert posts == [("POST", "/rel/services/identity/", 400)], "refused once, not retried"

    assert person(4).username not in lab.logins(), "the leaver was not removed"
    assert refused.username not in lab.logins()
    assert sorted(lab.links()) == sorted(person(n).source_id for n in range(1, USERS + 1) if n != 4)


def test_a_transient_failure_still_withholds_removals_and_the_bookmark(lab: Lab) -> None:
    """The control: an outcome the run cannot know (pascom kept answering 503) is a failure."""
    lab.directory(*[person(n) for n in range(1, USERS + 1)])
    profile = lab.profile(target={"max_retries": 1})
    lab.run(profile)
    lab.graph.remove_identity(person(4).source_id)
    lab.directory(person(11))
    lab.instance.switches.fail_write(1, 503)
    lab.instance.switches.fail_write(2, 503)
    report = lab.run(profile, expect=1)
    assert report["status"] == "failed" and report["bookmark"] is False
    assert [e["permanent"] for e in report["errors"]] == [False]
    assert report["removals_withheld"] and person(4).username in lab.logins()
