"""The pages and actions through Starlette's TestClient against a real state store
and the MEMORY/memory test plugins: what they show, and what the actions change."""

from __future__ import annotations

import re

from syncframe.testing import target_accounts
from web_support import ADMIN, NAME, csrf_of


def test_the_connectors_page_summarizes_each_connector(admin_client):
    page = admin_client.get("/").text
    row = re.search(r'<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert "Contoso users" in row and "MEMORY → memory" in row
    assert '<span class="badge ok">ok</span>' in row  # the last run's status
    assert "create 4" in row and "adopt 1" in row  # its counts
    assert "UTC" in row.split("#1", 1)[1]  # next due: an hour after the last run


def test_the_connector_page_shows_the_history_chart_notices_and_actions(admin_client):
    page = admin_client.get(f"/connectors/{NAME}").text
    assert "Run now" in page and "Authenticate" in page
    assert '<svg class="chart"' in page and "run #1: 4 created" in page
    # the target's notice from the first run: user6 was adopted and renamed
    assert "renamed: tell them their new login" in page and "<li>user6@contoso.com</li>" in page
    assert 'href="/connectors/contoso/runs/1"' in page


def test_the_plan_preview_shows_diffs_reasons_held_removals_and_conflicts(admin_client):
    plan = admin_client.get(f"/connectors/{NAME}/plan").text
    assert 'class="item-create"' in plan and "user5@contoso.com" in plan
    assert plan.count('class="item-held"') == 2 and plan.count('class="release"') == 2
    assert 'class="item-conflict"' in plan and "2 accounts match" in plan
    assert re.search(r"<option>m\.meier</option>\s*<option>mmeier</option>", plan)
    only_held = admin_client.get(f"/connectors/{NAME}/plan", params={"kind": "held"}).text
    assert 'class="item-create"' not in only_held and only_held.count('class="item-held"') == 2


def test_the_plan_preview_shows_field_diffs(admin_client, world):
    from web_support import ident

    world.users([ident(1, display_name="Ulla Neu"), ident(2), ident(5), ident(6), ident(7, "mmeier@contoso.com")])
    plan = admin_client.get(f"/connectors/{NAME}/plan", params={"kind": "update"}).text
    assert re.search(r"display_name: <del>User 1</del> → <ins>Ulla Neu</ins>", plan), plan


def test_release_one_held_removal_records_it_with_the_account_name(admin_client, world):
    token = csrf_of(admin_client.get(f"/connectors/{NAME}").text)
    response = admin_client.post(f"/connectors/{NAME}/release", data={"login": "user3@contoso.com", "csrf_token": token})
    assert response.status_code == 200 and "Released the removal of user3@contoso.com" in response.text
    assert list(world.store.pending_releases(NAME)) == ["user3@contoso.com"]
    decision = world.store.decisions(NAME)[0]
    assert (decision.kind, decision.subject, decision.operator) == ("release", "user3@contoso.com", ADMIN)
    plan = admin_client.get(f"/connectors/{NAME}/plan").text
    # released, the removal is planned as a removal again (by the next run)
    assert plan.count('class="release"') == 1
    assert re.search(r'<tr class="item-delete">\s*<td class="kind kind-delete">delete</td>\s*<td>user3@contoso.com', plan)


def test_releasing_a_login_that_is_not_held_is_refused_and_records_nothing(admin_client, world):
    token = csrf_of(admin_client.get("/").text)
    response = admin_client.post(f"/connectors/{NAME}/release", data={"login": "user1@contoso.com", "csrf_token": token})
    assert response.status_code == 400 and "not a held removal" in response.text and "user3@contoso.com, user4@contoso.com" in response.text
    assert world.store.decisions(NAME) == []


def test_link_settles_a_conflict_and_a_second_link_is_refused(admin_client, world):
    token = csrf_of(admin_client.get("/").text)
    response = admin_client.post(f"/connectors/{NAME}/link", data={"source_id": "id-7", "login": "mmeier", "csrf_token": token})
    assert response.status_code == 200 and "Linked id-7 to &#39;mmeier&#39;" in response.text
    assert world.store.links(NAME)["id-7"].login == "mmeier"
    assert world.store.decisions(NAME)[0].operator == ADMIN
    again = admin_client.post(f"/connectors/{NAME}/link", data={"source_id": "id-7", "login": "m.meier", "csrf_token": token})
    assert again.status_code == 400 and "linked already" in again.text
    assert 'class="item-conflict"' not in admin_client.get(f"/connectors/{NAME}/plan").text


def test_run_now_runs_in_the_background_and_the_history_shows_it(app, admin_client, world):
    token = csrf_of(admin_client.get(f"/connectors/{NAME}").text)
    admin_client.post(f"/connectors/{NAME}/release", data={"login": "user4@contoso.com", "csrf_token": token})
    started = admin_client.post(f"/connectors/{NAME}/run", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert started.status_code == 200 and 'id="run-job"' in started.text
    app.state.jobs.wait(60)
    progress = admin_client.get(f"/connectors/{NAME}/progress").text
    assert "Finished: run 2: held" in progress and "create 1" in progress and "delete 1" in progress
    assert 'hx-swap-oob="true"' in progress and 'href="/connectors/contoso/runs/2"' in progress
    run = world.store.runs(NAME, limit=1)[0]
    assert (run.id, run.status) == (2, "held")  # user3 is still held; user4 was released and removed
    assert "user4@contoso.com" not in [a["login"] for a in target_accounts(world.root / "accounts.db")]
    assert [(d.kind, d.operator) for d in world.store.decisions(NAME)][:2] == [("run", ADMIN), ("release", ADMIN)]
    journal = admin_client.get(f"/connectors/{NAME}/runs/2").text
    assert "user5@contoso.com" in journal and "user4@contoso.com" in journal


def test_a_run_that_finds_the_connector_locked_says_so(app, admin_client, world):
    token = csrf_of(admin_client.get("/").text)
    with world.store.lock(NAME, holder="syncframe run (pid 1)"):
        admin_client.post(f"/connectors/{NAME}/run", data={"csrf_token": token})
        app.state.jobs.wait(60)
    progress = admin_client.get(f"/connectors/{NAME}/progress").text
    assert "Locked:" in progress and "locked by another run: syncframe run (pid 1)" in progress
    assert len(world.store.runs(NAME)) == 1


def test_one_run_s_journal_page(admin_client):
    page = admin_client.get(f"/connectors/{NAME}/runs/1").text
    assert "Run #1 of contoso" in page and page.count('class="kind kind-create"') == 4
    assert admin_client.get(f"/connectors/{NAME}/runs/99").status_code == 404
    assert admin_client.get("/connectors/nope").status_code == 404


def test_a_connector_whose_profile_does_not_load_is_shown_not_crashed(admin_client, world):
    world.store.add_connector("broken", '[source]\ntype = "MEMORY"\n[target]\ntype = "nothing"\n')
    assert "The profile does not load" in admin_client.get("/").text
    assert "The profile does not load" in admin_client.get("/connectors/broken").text
    assert "no plugin provides the target" in admin_client.get("/connectors/broken/plan").text


def test_the_re_pair_list_keeps_an_earlier_run_s_people_after_a_quiet_run(admin_client, world):
    # run 2 renames nobody: the people run 1 left to tell stay listed, with the run that renamed them
    assert world.run()["status"] == "held"
    assert not (world.store.get_run(2).summary or {}).get("notices")
    page = admin_client.get(f"/connectors/{NAME}").text
    notices = re.search(r'<section class="card" id="notices">(.*?)</section>', page, re.S).group(1)
    assert "renamed: tell them their new login" in notices and "<li>user6@contoso.com</li>" in notices
    assert 'href="/connectors/contoso/runs/1">run #1</a>' in notices
