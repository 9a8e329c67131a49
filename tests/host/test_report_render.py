"""The people's report stays readable for a large import; --json keeps every item.

Failures come one line per cause with a count and the first logins (a 3,000-user run
once printed 1,863 identical lines), and a run's summary says what was applied and
what failed, not only what was planned.
"""

from __future__ import annotations

import io

from rich.console import Console

from syncframe.cli import PIPE_WIDTH
from syncframe.cli.render import render_report
from syncframe.engine.report import COUNT_KEYS, Change, Report, group_errors
from syncframe.exit_codes import ExitCode
from syncframe.model import ItemKind, PlanItem


def item(kind: str, login: str, **kw) -> PlanItem:
    return PlanItem(ItemKind(kind), kw.pop("reason", "no matching account"), source_id=f"id-{login}", login=login, **kw)


def report_with(items: list[PlanItem], kind: str = "plan", **extra) -> Report:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for i in items:
        counts[i.kind.value] += 1
    counts["error"] = sum(1 for i in items if i.error)
    failed = [i for i in items if i.error]
    return Report(
        name="m365", title="m365", mode="sync", kind=kind, status="pending" if kind == "plan" else "failed",
        exit_code=ExitCode.PENDING, complete=True, counts=counts, items=items,
        changes=[Change(i.kind.value, i.login, i.rename_from, i.changes, i.applied) for i in items if i.writes],
        errors=[], error_groups=group_errors(failed), **extra,
    )


def rendered(report: Report, **kwargs) -> str:
    out = io.StringIO()
    render_report(report, Console(file=out, width=PIPE_WIDTH, soft_wrap=True), **kwargs)  # as in a pipe
    return out.getvalue()


def test_large_import_lists_a_few_rows_per_kind_but_every_conflict():
    items = [item("create", f"user{i}@contoso.com") for i in range(40)]
    items += [item("conflict", f"dup{i}@contoso.com", reason="2 accounts match", candidates=["a", "b"]) for i in range(20)]
    text = rendered(report_with(items))
    assert "user14@contoso.com" in text and "user15@contoso.com" not in text
    assert "… and 25 more create; --json lists every item." in text
    assert all(f"dup{i}@contoso.com" in text for i in range(20))


def test_every_row_on_request():
    text = rendered(report_with([item("create", f"user{i}@contoso.com") for i in range(40)]), rows_per_kind=None)
    assert "user39@contoso.com" in text and "more create" not in text


def test_failures_are_one_line_per_cause_with_a_count_and_the_first_logins():
    pool = "pascom refused POST identity: 409 EXTENSION_POOL_EXHAUSTED: no free extension left in the pool"
    items = [item("create", f"user{i}@contoso.com", error=pool) for i in range(1863)]
    # the same refusal naming each user's own id is still one cause
    items += [item("update", f"old{i}@contoso.com", target_id=str(40 + i), error=f"pascom refused PUT identity/{40 + i}: 409 LOGIN_EXISTS") for i in range(3)]
    text = rendered(report_with(items, kind="run", applied=1137, failed=1866))
    lines = [line for line in text.splitlines() if line.startswith("failed ")]
    assert lines == [
        f"failed 1863 × {pool} — user0@contoso.com, user1@contoso.com, user2@contoso.com, user3@contoso.com, user4@contoso.com and 1858 more",
        "failed 3 × pascom refused PUT identity/…: 409 LOGIN_EXISTS — old0@contoso.com, old1@contoso.com, old2@contoso.com",
    ]
    assert text.count("EXTENSION_POOL_EXHAUSTED") <= 16, "the table lists a few failed rows, the cause line says the rest"
    assert "applied 1137 of 1866 write(s) · failed 1866" in text


def test_refusals_for_good_are_told_apart_from_failures():
    refused = [item("create", f"r{i}@x", error="pascom refused POST identity/: 400 INVALID_PHONE", refused=True) for i in range(2)]
    failed = [item("create", "f@x", error="pascom kept answering 503")]
    text = rendered(report_with(refused + failed, kind="run", applied=3, failed=1, refused=2))
    assert "refused 2 × pascom refused POST identity/: 400 INVALID_PHONE — r0@x, r1@x" in text
    assert "failed 1 × pascom kept answering 503 — f@x" in text
    assert "failed 1 · refused 2" in text and "(refused)" in text


def test_a_doubtful_user_list_says_why_and_how_to_accept_it():
    from syncframe.engine.report import HeldRemovals

    doubt = "the target listed 1 accounts, and 200 of the 200 accounts this connector linked are missing from the list"
    held = HeldRemovals(count=3, reason=doubt, release="syncframe run m365 --allow-removals 200")
    text = rendered(report_with([], kind="run", held=held, listing_doubt=doubt))
    assert "3 write(s) held, the target's user list is in doubt:" in text and "200 of the 200" in text
    assert "If those accounts really were deleted: syncframe run m365 --allow-removals 200" in text


def test_a_cause_keeps_numbers_that_merely_contain_an_id():
    failed = [item("update", "a@x", target_id="40", error="pascom answered 409 for id 40")]
    assert group_errors(failed)[0].cause == "pascom answered 409 for id …"


def test_report_to_dict_is_the_json_shape():
    items = [item("create", "a@x", error="boom"), item("create", "b@x", error="boom")]
    data = report_with(items, kind="run").to_dict()
    assert data["exit_code"] == 3 and isinstance(data["exit_code"], int)
    assert data["error_groups"] == [{"cause": "boom", "count": 2, "logins": ["a@x", "b@x"], "permanent": False}]
    assert [i["login"] for i in data["items"]] == ["a@x", "b@x"]
    assert data["held"] == {"count": 0, "reason": None, "releasable": True, "release": None}
