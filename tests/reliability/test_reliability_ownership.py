"""Two connectors on one phone system (issue 20, item 2).

Connector ``rel`` imports the directory (the Graph simulator) into the pascom simulator.
A second connector, ``sales``, reads another directory (the ``MEMORY`` source of
``syncframe.testing``: an HR list of the sales team, with its own ids) into the same
pascom instance, and keeps its state in the same state store. Its users have the same
logins as three of ``rel``'s. It must never match, adopt or remove an account ``rel``
manages: each is a conflict naming ``rel``, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from syncframe import Identity
from syncframe.cli.sandbox import render_profile
from syncframe.testing import write_identities

from reliability_lab import CONNECTOR, Lab, person

SALES = "sales"
TESTING = {"SYNCFRAME_PLUGIN_MODULES": "syncframe.testing"}


def hr_record(n: int) -> Identity:
    """User ``n`` as the HR list knows them: another id, the same sign-in name."""
    return person(n).replace(source_id=f"hr-{n}")


def sales_profile(lab: Lab, *members: int) -> Path:
    people = lab.root / "sales.json"
    write_identities(people, [hr_record(n) for n in members])
    target = {**lab.pascom.profile_section(), "create_softphone": True, "create_mobile": True}
    path = lab.root / "sales.toml"
    path.write_text(render_profile("MEMORY", "pascom", {"path": str(people)}, target, title="sales team", extra={"mode": "sync"}), encoding="utf-8")
    return path


def ids(lab: Lab) -> dict[str, object]:
    return {a["login"]: a["id"] for a in lab.pascom.accounts()}


def test_a_second_connector_never_adopts_or_removes_the_first_ones_accounts(lab: Lab) -> None:
    lab.directory(*[person(n) for n in range(1, 7)])
    first = lab.run(lab.profile())
    assert first["counts"]["create"] == 6
    before = ids(lab)
    lab.pascom.simulator.reset_counters()

    sales = sales_profile(lab, 1, 2, 3)
    report = lab.run(sales, name=SALES, env=TESTING)
    assert report["counts"]["adopt"] == 0 and report["counts"]["conflict"] == 3, report["items"]
    for conflict in report["conflicts"]:
        assert f"connector {CONNECTOR!r}" in conflict["reason"], conflict
    assert lab.links(SALES) == {}
    assert lab.pascom_writes() == [], "the second connector wrote to accounts it does not manage"

    # user 2 leaves the sales team: the second connector has nothing of theirs to remove
    sales = sales_profile(lab, 1, 3)
    lab.run(sales, name=SALES, env=TESTING)
    assert lab.pascom_writes() == []
    assert ids(lab) == before

    # and the first connector finds everything as it left it: no account re-created
    again = lab.run(lab.profile())
    assert again["counts"]["noop"] == 6 and again["counts"]["create"] == 0
    assert ids(lab) == before


def test_an_account_both_connectors_linked_stays_with_the_first_and_is_never_removed_by_the_second(lab: Lab) -> None:
    """A store from before the fix: ``sales`` had adopted ``rel``'s accounts. The older link
    wins; the second connector reports a conflict and removes nothing."""
    lab.directory(*[person(n) for n in range(1, 4)])
    lab.run(lab.profile())
    with lab.store() as store:
        for source_id, link in store.links(CONNECTOR).items():
            n = int(source_id.rsplit("-", 1)[1])
            run_id = store.start_run(SALES, "sync", "run")
            journal_id = store.journal_intent(run_id, SALES, {"kind": "adopt", "source_id": f"hr-{n}", "login": link.login})
            store.journal_outcome(journal_id, ok=True, link=(f"hr-{n}", link.target_id, link.login, "adopted"))
            store.finish_run(run_id, "ok", {})
    before = ids(lab)
    lab.pascom.simulator.reset_counters()

    sales = sales_profile(lab, 1)  # users 2 and 3 left the sales team
    report = lab.run(sales, name=SALES, env=TESTING)
    assert report["counts"]["delete"] == 0 and report["counts"]["conflict"] == 3, report["items"]
    assert all(f"connector {CONNECTOR!r}" in c["reason"] for c in report["conflicts"])
    assert lab.pascom_writes() == [] and ids(lab) == before
    assert lab.run(lab.profile())["counts"]["noop"] == 3
