"""The vendored htmx file, the static files, and the runs chart."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from starlette.testclient import TestClient

import syncframe.web
from syncframe.state import RunRow
from syncframe.web.chart import runs_chart
from web_support import csrf_of

STATIC = Path(syncframe.web.__file__).parent / "static"


def test_the_vendored_htmx_keeps_its_licence_header():
    head = (STATIC / "htmx.min.js").read_text(encoding="utf-8")[:400]
    assert head.startswith("/*! htmx 2.")
    assert "Zero-Clause BSD" in head and "npm package htmx.org@" in head


def test_static_files_are_served_without_signing_in(app):
    client = TestClient(app)
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/static/style.css").status_code == 200


def test_every_page_sends_its_csrf_token_with_htmx_requests(admin_client):
    page = admin_client.get("/").text
    assert f"hx-headers='{{\"X-CSRF-Token\": \"{csrf_of(page)}\"}}'" in page


def _run(run_id: int, kind: str = "run", **counts: int) -> RunRow:
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    return RunRow(run_id, "c", "sync", kind, "ok", now, now, counts)


def test_the_chart_draws_one_line_per_series_oldest_run_first():
    runs = [_run(3, create=1, error=2), _run(2, kind="plan", create=50), _run(1, create=4, update=2, delete=1)]
    svg = str(runs_chart(runs))  # newest first, as the store lists them
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    lines = dict(re.findall(r'<polyline class="series-(\w+)"[^>]* points="([^"]+)"', svg))
    assert set(lines) == {"create", "update", "delete", "error"}
    # plans are not runs: two points per line; the top of the scale is the largest count (4)
    created = [tuple(map(float, p.split(","))) for p in lines["create"].split()]
    assert len(created) == 2 and created[0][0] < created[1][0]
    assert created[0][1] < created[1][1]  # 4 created in run 1 is drawn higher than 1 in run 3
    assert ">4</text>" in svg and "run #1: 4 created" in svg and "run #3: 2 failed" in svg


def test_the_chart_without_runs_says_so():
    assert "No runs yet" in str(runs_chart([_run(1, kind="plan")]))
