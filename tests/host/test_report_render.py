"""The people's report stays readable for a large import; --json keeps every item."""

from __future__ import annotations

import io

from rich.console import Console

from syncframe.engine.report import COUNT_KEYS, render_report


def report_with(creates: int, conflicts: int) -> dict:
    items = [{"kind": "create", "login": f"user{i}@contoso.com", "reason": "no matching account", "changes": {}} for i in range(creates)]
    items += [{"kind": "conflict", "login": f"dup{i}@contoso.com", "reason": "2 accounts match", "candidates": ["a", "b"]} for i in range(conflicts)]
    counts = {k: 0 for k in COUNT_KEYS} | {"create": creates, "conflict": conflicts}
    return {
        "kind": "plan", "name": "m365", "mode": "sync", "run_id": None, "counts": counts, "complete": True,
        "items": items, "notices": {}, "held": {"count": 0}, "errors": [], "status": "pending", "bookmark": False,
    }


def rendered(report: dict, **kwargs) -> str:
    out = io.StringIO()
    render_report(report, Console(file=out, width=200), **kwargs)
    return out.getvalue()


def test_large_import_lists_a_few_rows_per_kind_but_every_conflict():
    text = rendered(report_with(creates=40, conflicts=20))
    assert "user14@contoso.com" in text and "user15@contoso.com" not in text
    assert "… and 25 more create; --json lists every item." in text
    assert all(f"dup{i}@contoso.com" in text for i in range(20))


def test_every_row_on_request():
    text = rendered(report_with(creates=40, conflicts=0), rows_per_kind=None)
    assert "user39@contoso.com" in text and "more create" not in text
