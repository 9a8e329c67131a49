"""A small Admin SDK Directory API client: JSON over requests, paging, backoff, errors.

What it adds to ``requests``:

- connection errors retried through :func:`syncframe.sdk.send_with_retries`;
- throttling and server trouble retried with Google's documented exponential backoff
  (wait ``2**n`` seconds plus up to one second of jitter, at most ``backoff_max``),
  or what ``Retry-After`` says when Google sends it (rarely): 429, 5xx, and a 403
  whose reason is ``rateLimitExceeded``, ``userRateLimitExceeded`` or ``quotaExceeded``;
- a 401 gets one fresh token and one more try; a 403 that is not throttling becomes an
  :class:`AuthenticationError` naming the missing privilege or delegation;
- ``nextPageToken`` paging, with the same parameters on every page.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import requests

from syncframe import AuthenticationError, RetriableSyncError, SyncError
from syncframe.sdk import RetryPolicy, RetryStats, connection_problem, retry_after_seconds, send_with_retries

from .auth import DELEGATION_PATH, GoogleAuth

log = logging.getLogger("syncframe.google.directory")

#: 403 reasons that mean "slow down", not "not allowed"
THROTTLE_REASONS = frozenset({"ratelimitexceeded", "userratelimitexceeded", "quotaexceeded"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def google_policy(sleep: Any = time.sleep) -> RetryPolicy:
    """Google's backoff: 1, 2, 4, 8 ... seconds (+ jitter) up to 64, within five minutes."""
    return RetryPolicy(attempts=7, budget_seconds=300.0, backoff_base=1.0, backoff_max=64.0, sleep=sleep)


class DirectoryError(SyncError):
    """The Directory API answered with an error that retries did not cure."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class DirectoryUnavailable(RetriableSyncError):
    """Unreachable, or throttled / failing past the retry budget."""


@dataclass
class DirectoryStats:
    """What a read cost: requests (retries included), pages, retries and seconds waited."""

    requests: int = 0
    pages: int = 0
    retry: RetryStats = field(default_factory=RetryStats)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "pages": self.pages, "retries": self.retry.retries, "waited": round(self.retry.waited, 3)}


def error_of(response: requests.Response) -> tuple[str, str]:
    """(reason, message) of a Google error body ``{"error": {"errors": [{"reason"}], "message"}}``."""
    try:
        body = response.json()
    except ValueError:
        return "", (response.text or "")[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", str(error or "")[:200]
    details = error.get("errors") if isinstance(error.get("errors"), list) else []
    reason = next((str(d.get("reason")) for d in details if isinstance(d, dict) and d.get("reason")), "")
    return reason or str(error.get("status") or ""), str(error.get("message") or "")[:300]


def is_throttled(response: requests.Response) -> bool:
    """429/5xx, or a 403 whose reason says a rate limit or quota was hit."""
    if response.status_code in RETRY_STATUSES:
        return True
    if response.status_code == 403:
        return error_of(response)[0].lower() in THROTTLE_REASONS
    return False


class DirectoryClient:
    """GET requests to ``{api_url}/admin/directory/v1/`` with one service account's tokens.

    :param api_url: ``https://admin.googleapis.com`` or a lab's / the simulator's.
    :param auth: Gives and renews access tokens.
    :param session: A :class:`syncframe.sdk.CASession`.
    :param policy: Retries and their budget (tests inject a ``sleep`` that records waits).
    """

    def __init__(self, api_url: str, auth: GoogleAuth, session: requests.Session, policy: RetryPolicy | None = None, timeout: float = 60.0):
        self.base = api_url.rstrip("/") + "/admin/directory/v1"
        self.auth = auth
        self.session = session
        self.policy = policy or google_policy()
        # connection errors only: throttling answers are ours to retry (Google's backoff, 403 reasons)
        self._connect_policy = dataclasses.replace(self.policy, statuses=frozenset())
        self.timeout = timeout
        self.stats = DirectoryStats()

    def reset_stats(self) -> DirectoryStats:
        self.stats = DirectoryStats()
        return self.stats

    def get(self, path: str, params: Mapping[str, Any] | None = None, scope: str = "") -> dict[str, Any]:
        """One GET; its JSON object.

        :raises AuthenticationError: a 401 after renewing the token, or a 403 that is not throttling.
        :raises DirectoryUnavailable: unreachable, or throttled / 5xx past the retry budget.
        :raises DirectoryError: any other error answer (404, 400 ...).
        """
        url = f"{self.base}/{path.lstrip('/')}"
        renewed = False
        attempt = 0
        started = time.monotonic()
        while True:
            response = self._send(url, params)
            if response.status_code == 401 and not renewed:
                log.info("the Directory API answered 401 for %s; renewing the token once", path)
                self.auth.renew()
                renewed = True
                continue
            if is_throttled(response) or (response.status_code == 200 and not _json_object(response)):
                attempt += 1
                wait = retry_after_seconds(response)
                if wait is None:
                    wait = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempt - 1) + random.uniform(0, 1))
                if attempt >= self.policy.attempts or time.monotonic() - started + wait > self.policy.budget_seconds:
                    raise self._error(path, response)
                self.stats.retry.retries += 1
                self.stats.retry.waited += wait
                log.info("Directory API %s for %s; retrying in %.2fs", _what(response), path, wait)
                self.policy.sleep(wait)
                continue
            if response.status_code >= 400:
                raise self._error(path, response, scope)
            return response.json()

    def _send(self, url: str, params: Mapping[str, Any] | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.auth.access_token()}", "Accept": "application/json"}
        before = self.stats.retry.retries
        try:
            response = send_with_retries(
                self.session, "GET", url, self._connect_policy, self.stats.retry, params=params, headers=headers, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            self.stats.requests += 1 + self.stats.retry.retries - before
            raise DirectoryUnavailable(f"cannot reach the Directory API at {self.base}: {connection_problem(exc)}") from None
        self.stats.requests += 1 + self.stats.retry.retries - before
        return response

    def _error(self, path: str, response: requests.Response, scope: str = "") -> SyncError:
        status = response.status_code
        reason, message = error_of(response)
        where = f"GET {path.split('?', 1)[0]}"
        if is_throttled(response) or status == 200:
            return DirectoryUnavailable(f"the Directory API kept answering {_what(response)} for {where} past the retry budget")
        if status == 401:
            return AuthenticationError(f"the Directory API refused the access token for {where} (401 {reason}) even after renewing it")
        if status == 403:
            needed = scope or self.auth.scopes[0]
            return AuthenticationError(
                f"the Directory API denied {where} (403 {reason or 'forbidden'}: {message}); the subject {self.auth.subject} "
                f"must be an administrator allowed to read users and groups, and client id {self.auth.client_id or '?'} must "
                f"hold {needed} in the {DELEGATION_PATH}"
            )
        return DirectoryError(f"the Directory API answered {where} with {status} {reason}: {message}", status=status, reason=reason)

    def pages(self, path: str, params: Mapping[str, Any], scope: str = "") -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``nextPageToken`` until there is none."""
        token: str | None = None
        while True:
            query = dict(params)
            if token:
                query["pageToken"] = token
            page = self.get(path, query, scope)
            self.stats.pages += 1
            yield page
            token = page.get("nextPageToken")
            if not token:
                return


def _json_object(response: requests.Response) -> bool:
    """Whether a 200 carries a whole JSON object (a body cut off in transit does not)."""
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def _what(response: requests.Response) -> str:
    if response.status_code == 200:
        return "a body that is not JSON"
    reason, _ = error_of(response)
    return f"{response.status_code} {reason}".strip()
