"""Adding and editing connectors in the console: a form from a template (or the
stored profile), validated as any profile, every error beside its field; and the
source's interactive sign-in started from the console."""

from __future__ import annotations

import re

from syncframe.plugins import templates
from syncframe.web.forms import form_for
from web_support import ADMIN, NAME, csrf_of


def _values(text: str, **changes: str) -> dict[str, str]:
    values = {f.path: f.value for f in form_for(text).fields}
    values.update(changes)
    return values


def _error_beside(page: str, path: str) -> str:
    found = re.search(rf'<ul class="errors" id="errors-{re.escape(path)}">(.*?)</ul>', page, re.S)
    assert found, f"no error beside {path}"
    return found.group(1)


def test_the_template_list_and_its_form(admin_client):
    chooser = admin_client.get("/connectors/new").text
    assert 'href="/connectors/new?template=microsoft365"' in chooser
    form = admin_client.get("/connectors/new", params={"template": "microsoft365"}).text
    for field in ("title", "mode", "guard.max_percent", "source.type", "source.tenant", "target.url", "target.password_env", "target.create_mobile"):
        assert f'name="{field}"' in form, field
    assert 'value="SYNCFRAME_PASCOM_PASSWORD"' in form  # the secret's variable name, never a value


def test_every_error_is_shown_beside_its_field_and_nothing_is_saved(admin_client, world):
    text = templates(world.pm)["microsoft365"].text
    token = csrf_of(admin_client.get("/").text)
    data = _values(text, **{"mode": "sometimes", "guard.max_percent": "lots", "source.cloud": "mars", "target.url": "not a url", "csrf_token": token, "template": "microsoft365", "name": "Bad Name"})
    page = admin_client.post("/connectors/new", data=data)
    assert page.status_code == 400
    assert "lower-case letters" in _error_beside(page.text, "name")
    assert "must be a number" in _error_beside(page.text, "guard.max_percent")
    # the typed values stay in the form, so nothing has to be typed twice
    assert 'value="sometimes"' in page.text and 'value="mars"' in page.text
    fixed = {**data, "guard.max_percent": "10", "name": "m365"}
    page = admin_client.post("/connectors/new", data=fixed)
    assert page.status_code == 400
    assert "Must be one of" in _error_beside(page.text, "mode")
    assert _error_beside(page.text, "source.cloud")
    assert _error_beside(page.text, "target.url")
    assert world.store.get_connector("m365") is None


def test_a_valid_form_adds_the_connector_with_the_template_s_comments(admin_client, world):
    text = templates(world.pm)["microsoft365"].text
    token = csrf_of(admin_client.get("/").text)
    data = _values(text, **{"title": "Head office", "source.tenant": "fabrikam.onmicrosoft.com", "target.create_mobile": "false", "csrf_token": token, "template": "microsoft365", "name": "m365"})
    response = admin_client.post("/connectors/new", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/connectors/m365"
    saved = world.store.get_connector("m365").profile_text
    assert 'title = "Head office"' in saved and 'tenant = "fabrikam.onmicrosoft.com"' in saved
    assert "create_mobile = false" in saved and "# the pascom instance" in saved
    decision = world.store.decisions("m365")[0]
    assert (decision.kind, decision.operator) == ("connector_add", ADMIN)
    # the name is taken now
    again = admin_client.post("/connectors/new", data=data)
    assert again.status_code == 400 and "exists already" in _error_beside(again.text, "name")


def test_editing_a_connector_validates_and_keeps_the_old_profile_on_error(admin_client, world):
    before = world.store.get_connector(NAME).profile_text
    form = admin_client.get(f"/connectors/{NAME}/edit").text
    assert 'name="guard.max_per_run" value="0"' in form and 'name="source.path"' in form
    token = csrf_of(form)
    bad = admin_client.post(f"/connectors/{NAME}/edit", data=_values(before, **{"guard.max_per_run": "-1", "csrf_token": token}))
    assert bad.status_code == 400 and _error_beside(bad.text, "guard.max_per_run")
    assert world.store.get_connector(NAME).profile_text == before
    good = admin_client.post(f"/connectors/{NAME}/edit", data=_values(before, **{"title": "Contoso staff", "guard.max_per_run": "10", "csrf_token": token}), follow_redirects=False)
    assert good.status_code == 303
    after = world.store.get_connector(NAME).profile_text
    assert 'title = "Contoso staff"' in after and "max_per_run = 10" in after and "# every removal is held" in after
    assert world.store.decisions(NAME)[0].kind == "connector_edit"
    assert "Contoso staff" in admin_client.get("/").text


def test_authenticate_runs_the_source_s_sign_in_and_shows_what_it_says(app, admin_client, world):
    page = admin_client.get(f"/connectors/{NAME}/authenticate").text
    assert "Start the sign-in" in page
    started = admin_client.post(f"/connectors/{NAME}/authenticate", data={"csrf_token": csrf_of(page)})
    assert started.status_code == 200 and 'id="authenticate-job"' in started.text
    app.state.jobs.wait(60)
    done = admin_client.get(f"/connectors/{NAME}/progress", params={"kind": "authenticate"}).text
    assert "Finished: this source needs no interactive sign-in" in done
    assert (world.store.decisions(NAME)[0].kind, world.store.decisions(NAME)[0].operator) == ("authenticate", ADMIN)


def _form_values(page: str) -> dict[str, str]:
    """What a browser would submit from the form page: each input's value, each select's selected option."""
    values = {m.group(1): m.group(2) for m in re.finditer(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', page)}
    for m in re.finditer(r'<select id="f-[^"]+" name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', m.group(2))
        values[m.group(1)] = chosen.group(1) if chosen else ""
    return values


def test_the_template_form_offers_every_setting_of_the_schemas(admin_client):
    form = admin_client.get("/connectors/new", params={"template": "microsoft365"}).text
    # commented out in the template, still one field away: automation, protection, the secret's name, groups
    for field in ("interval", "protected_logins", "concurrency", "source.client_secret_env", "source.client_secret_file", "source.groups", "removal", "target.extension", "target.ca_bundle"):
        assert f'name="{field}"' in form, field
    # choices of the schema are a select, with the default named
    mode = re.search(r'<select id="f-mode" name="mode">(.*?)</select>', form, re.S).group(1)
    assert '<option value="sync" selected>' in mode and '<option value="upsert">' in mode and "(default: sync)" in mode
    assert 'placeholder="default: 8"' in form  # concurrency left empty keeps the default
    assert 'name="interval" value="" placeholder="default: none (e.g. 1h, 30m)"' in form
    # a setting that would hold a secret's value is never a field
    assert not re.search(r'name="(source|target)\.(password|client_secret)"', form)


def test_a_new_connector_sets_interval_mode_guard_and_a_secret_by_name(admin_client, world):
    page = admin_client.get("/connectors/new", params={"template": "microsoft365"}).text
    data = {**_form_values(page), "csrf_token": csrf_of(page), "template": "microsoft365", "name": "m365-app"}
    data.update({"interval": "soon", "mode": "upsert", "guard.max_per_run": "20", "source.auth": "client_secret", "source.client_secret_env": "M365_SECRET", "removal": "disable, delete after 30d"})
    bad = admin_client.post("/connectors/new", data=data)
    assert bad.status_code == 400 and "is not a duration" in _error_beside(bad.text, "interval")
    assert world.store.get_connector("m365-app") is None
    saved = admin_client.post("/connectors/new", data={**data, "interval": "2h"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    from syncframe.connector import load_profile

    text = world.store.get_connector("m365-app").profile_text
    connector = load_profile(text, world.pm, "m365-app")
    assert (connector.interval, connector.mode, connector.profile["guard"]["max_per_run"]) == (7200, "upsert", 20)
    assert connector.source_config["client_secret_env"] == "M365_SECRET" and str(connector.removal) == "disable, delete after 30d"
    # fields left empty stay out of the profile (their defaults hold)
    assert "concurrency" not in text and "ca_bundle" not in text


def test_a_source_without_its_own_template_gets_one_from_its_schema(admin_client, world):
    chooser = admin_client.get("/connectors/new").text
    assert 'href="/connectors/new?template=memory-memory"' in chooser
    page = admin_client.get("/connectors/new", params={"template": "memory-memory"}).text
    for field in ("title", "mode", "interval", "guard.max_per_run", "source.path", "target.path", "target.latency"):
        assert f'name="{field}"' in page, field
    data = {**_form_values(page), "csrf_token": csrf_of(page), "template": "memory-memory", "name": "files"}
    missing = admin_client.post("/connectors/new", data=data)
    assert missing.status_code == 400 and _error_beside(missing.text, "source.path")
    data.update({"title": "Files", "source.path": str(world.root / "users.json"), "target.path": str(world.root / "other.db"), "interval": "30m"})
    assert admin_client.post("/connectors/new", data=data, follow_redirects=False).status_code == 303
    assert world.store.get_connector("files") is not None


def test_a_secret_value_in_a_stored_profile_is_never_shown_and_is_refused(admin_client, world):
    text = world.store.get_connector(NAME).profile_text.replace("[target]\n", '[target]\npassword = "s3cr3t-value-42"\n')
    world.store.add_connector(NAME, text, replace=True)
    form = admin_client.get(f"/connectors/{NAME}/edit").text
    assert "s3cr3t-value-42" not in form
    refused = admin_client.post(f"/connectors/{NAME}/edit", data={**_form_values(form), "csrf_token": csrf_of(form)})
    assert refused.status_code == 400 and "target.password" in refused.text and "s3cr3t-value-42" not in refused.text
