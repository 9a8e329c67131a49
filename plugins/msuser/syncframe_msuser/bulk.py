"""Many users by id, 20 per JSON batch (``POST /$batch``), instead of one GET each.

A delta round leaves out the properties a new user never had, so such users are
completed with ``GET /users/{id}?$select=...``; a bulk onboarding brings hundreds of
them. Graph takes at most 20 requests per batch and answers each on its own: a 404
means the user is gone since the round was recorded, a 429/5xx is tried again in a
later batch (waiting what its ``Retry-After`` says), anything else stops the read.
(``$filter=id in (...)`` takes only 15 ids without advanced query parameters.)
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from .auth import READ_USERS
from .graph import GraphClient, GraphError, GraphUnavailable, error_in
from .presence import batches

log = logging.getLogger("syncframe.msuser.bulk")

#: Graph's limit of requests per JSON batch
MAX_BATCH = 20


def fetch_users(client: GraphClient, user_ids: Iterable[str], select: str) -> dict[str, dict[str, Any] | None]:
    """Each user as ``GET /users/{id}?$select=`` answers it, or None when Graph has no such user.

    :raises GraphUnavailable: items still throttled or failing once the retry policy is spent.
    :raises GraphError: an item answered with another error.
    """
    found: dict[str, dict[str, Any] | None] = {}
    pending = list(dict.fromkeys(user_ids))
    policy = client.policy
    for attempt in range(1, policy.attempts + 1):
        retry: list[str] = []
        waits: list[float] = []
        for chunk in batches(pending, MAX_BATCH):
            for user_id, status, headers, body in _one_batch(client, chunk, select):
                if status == 200 and isinstance(body, Mapping):
                    found[user_id] = dict(body)
                elif status == 404:
                    found[user_id] = None
                elif status in policy.statuses:
                    retry.append(user_id)
                    waits.append(_retry_after(headers))
                else:
                    code, message = error_in(body)
                    raise GraphError(f"Microsoft Graph answered GET users/{user_id} (in a batch) with {status} {code}: {message}", status, code)
        if not retry:
            return found
        if attempt == policy.attempts:
            break
        wait = max(waits) or min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        spent = client.stats.retry.waited
        if wait > policy.budget_seconds or (policy.total_budget_seconds is not None and spent + wait > policy.total_budget_seconds):
            break  # a wait the budgets do not allow is not slept
        log.info("%d users of a batch were throttled or failed; trying them again in %.2fs", len(retry), wait)
        client.stats.retry.retries += 1
        client.stats.retry.waited += wait
        policy.sleep(wait)
        pending = retry
    raise GraphUnavailable(f"Microsoft Graph kept refusing {len(retry)} users of a batch past the retry budget")


def _one_batch(client: GraphClient, user_ids: list[str], select: str) -> list[tuple[str, int, Mapping[str, Any], Any]]:
    """(user id, status, headers, body) per item of one ``POST /$batch``."""
    requests = [{"id": str(n), "method": "GET", "url": f"/users/{user_id}?$select={select}"} for n, user_id in enumerate(user_ids, 1)]
    body = client.request("POST", "$batch", json_body={"requests": requests}, permission=READ_USERS)
    by_id = {str(r.get("id")): r for r in body.get("responses") or () if isinstance(r, Mapping)}
    answers = []
    for n, user_id in enumerate(user_ids, 1):
        item = by_id.get(str(n))
        if item is None:  # an answer Graph left out: ask again
            answers.append((user_id, 503, {}, None))
            continue
        answers.append((user_id, int(item.get("status") or 0), item.get("headers") or {}, item.get("body")))
    return answers


def _retry_after(headers: Mapping[str, Any]) -> float:
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0

