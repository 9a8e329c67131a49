"""Every JSON shape the guide shows (section 13) is the shape the commands print.

The guide's examples are marked ``<!-- json: NAME -->``; each is compared with a real
document from the CLI: the same keys at every level, and the same JSON type for every value
(a ``null`` on either side stands for a value that may be absent, so it matches any type).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import Workspace, ident

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def documented() -> dict[str, Any]:
    text = GUIDE.read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in re.findall(r"<!-- json: ([\w-]+) -->\s*```json\n(.*?)```", text, re.DOTALL)}


#: dicts whose keys are data, not shape (a user's desired fields and changes, a source's read
#: statistics, notice codes, a decision's detail, a plugin's settings): their type is compared,
#: their keys not. A name here frees a dict only: the report's ``changes`` and an item's
#: ``notices`` are lists and are compared element by element.
FREE_FORM = {"desired", "changes", "fields", "read_stats", "notices", "notice_messages", "detail", "environment", "source", "target"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a bool is an int in Python, not in JSON
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def assert_same_shape(doc: Any, real: Any, where: str = "") -> None:
    """The documented example ``doc`` and the real document ``real`` have the same keys at
    every level and the same JSON type for each value; ``"…"`` in a documented dict stands
    for the rest of its keys. A list's elements are compared with its documented elements:
    each real element must have the shape of one of them (history mixes runs and decisions)."""
    if doc is None or real is None:
        return
    assert json_type(doc) == json_type(real), (where, json_type(doc), json_type(real), real)
    if isinstance(doc, dict):
        if where.rsplit(".", 1)[-1] in FREE_FORM:
            return
        if "…" not in doc:
            assert set(doc) == set(real), (where, "keys only documented:", sorted(set(doc) - set(real)), "keys only printed:", sorted(set(real) - set(doc)))
        for key in set(doc) & set(real):
            assert_same_shape(doc[key], real[key], f"{where}.{key}")
    elif isinstance(doc, list) and doc:
        for element in real:
            failures = []
            for example in doc:
                try:
                    assert_same_shape(example, element, f"{where}[]")
                    break
                except AssertionError as exc:
                    failures.append(exc)
            else:
                raise AssertionError(where, "an element matches no documented example", failures)


#: the name the worker and sandbox tests import
assert_same_keys = assert_same_shape


@pytest.fixture
def used(ws: Workspace) -> Workspace:
    """A connector with one run in which one user failed, and a person's decision."""
    ws.target_extra = {"fail_logins": ["user2@contoso.com"]}
    ws.write_profile(interval="1h")
    ws.set_users([ident(1), ident(2)])
    assert ws.cli("connector", "add", "contoso", "--profile", str(ws.profile)).exit_code == 0
    assert ws.cli("run", "contoso", "--yes").exit_code == 1
    # two decisions that leave the links as they were
    assert ws.cli("unlink", "contoso", "user1@contoso.com").exit_code == 0
    assert ws.cli("link", "contoso", "--source-id", "id-1", "--login", "user1@contoso.com").exit_code == 0
    return ws


def test_every_shape_is_documented_with_an_example() -> None:
    assert set(documented()) >= {
        "error", "report", "history", "history-run", "check", "serve-run", "serve-skipped", "serve-invalid",
        "serve-stopping", "connector-list", "connector-show", "sandbox", "sandbox-user", "jobs",
    }


def test_the_comparison_sees_a_missing_key_a_wrong_type_and_an_undocumented_element() -> None:
    """The check itself can fail (each case is a real drift it must catch)."""
    doc = {"a": 1, "b": [{"c": "x"}], "d": None}
    assert_same_shape(doc, {"a": 2, "b": [{"c": "y"}], "d": {"any": 1}})
    for drifted in ({"a": 2, "b": []}, {"a": "2", "b": [], "d": None}, {"a": True, "b": [], "d": None},
                    {"a": 2, "b": [{"c": "y"}, {"c": 1}], "d": None}, {"a": 2, "b": [{"c": "y", "e": 1}], "d": None}):
        with pytest.raises(AssertionError):
            assert_same_shape(doc, drifted)


def test_reports_history_and_errors_have_the_documented_shape(used: Workspace) -> None:
    docs = documented()
    plan, run = used.cli("plan", "contoso").json, used.cli("run", "contoso", "--yes").json
    assert run["error_groups"] and run["errors"] and run["items"], "the run shows the parts the example documents"
    for report in (plan, run):
        assert_same_shape(docs["report"], report)
    history = used.cli("history").json
    assert {e["entry"] for e in history} == {"run", "decision"}
    assert_same_shape(docs["history"], history)
    # a stored summary is the report without its items and changes
    summary_doc = {k: v for k, v in docs["report"].items() if k not in ("items", "changes")}
    runs = [e for e in history if e["entry"] == "run"]
    assert_same_shape(summary_doc, runs[0]["summary"], ".summary")
    detail = used.cli("history", "--run", str(runs[-1]["id"])).json
    assert detail["journal"], "the first run wrote"
    assert_same_shape(docs["history-run"], detail)
    assert_same_shape(summary_doc, detail["summary"], ".summary")
    for entry in detail["journal"]:  # a journal's intent is a plan item as the report shows it
        assert_same_shape(docs["report"]["items"][0], entry["item"], ".journal[].item")
    assert_same_shape(docs["error"], used.cli("plan", "nope").json)
    assert_same_shape(docs["error"], used.cli("run", "contoso", "--yes", "--plan", str(used.root / "none.json")).json)


def test_connectors_have_the_documented_shape(used: Workspace) -> None:
    """(``check`` is compared in tests/msuser/test_msuser_cli.py, against the Graph and pascom
    simulators: the test doubles here have nothing to check.)"""
    docs = documented()
    used.store().add_connector("broken", 'mode = "mirror"\n[source]\ntype = "MEMORY"\n[target]\ntype = "memory"\n')
    listed = used.cli("connector", "list").json
    assert {c["valid"] for c in listed} == {True, False}
    assert_same_shape(docs["connector-list"], listed)
    assert_same_shape(docs["connector-show"], used.cli("connector", "show", "contoso").json)


@pytest.mark.slow  # serve in a child process, stopped with SIGTERM
def test_every_serve_event_has_the_documented_shape(used: Workspace) -> None:
    docs = documented()
    used.store().add_connector("manual", 'title = "m"\n[source]\ntype = "MEMORY"\npath = "x"\n[target]\ntype = "memory"\npath = "y"\n')
    used.store().add_connector("broken", 'mode = "mirror"\n[source]\ntype = "MEMORY"\n[target]\ntype = "memory"\n')
    serve = subprocess.Popen(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "--json", "serve"],
        env={**os.environ, **used.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    events: dict[str, dict[str, Any]] = {}
    try:
        assert serve.stdout is not None
        for line in serve.stdout:  # every event is one JSON document on its own line
            event = json.loads(line)
            events.setdefault(event["event"], event)
            if {"run", "skipped", "invalid"} <= set(events) and "stopping" not in events:
                serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
    assert set(events) == {"run", "skipped", "invalid", "stopping"}, (events, serve.stderr.read() if serve.stderr else "")
    for kind, event in events.items():
        assert_same_shape(docs[f"serve-{kind}"], event)
