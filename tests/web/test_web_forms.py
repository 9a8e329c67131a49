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
