"""HTTP plumbing shared by plugins: a session that always verifies against its CA
bundle, and retries that honour ``Retry-After``.

requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override ``Session.verify``
(the environment wins when a request passes ``verify=None``), which breaks msal and
any client pointed at a private CA. :class:`CASession` passes ``verify`` on every
request, so the bundle the profile names is the one used.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, retry_if_result, stop_after_attempt, stop_after_delay

log = logging.getLogger("syncframe.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CASession(requests.Session):
    """A ``requests.Session`` whose ``verify`` setting beats the environment.

    :param ca_bundle: Path of a PEM bundle, or None for the system store.
    """

    def __init__(self, ca_bundle: str | None = None, user_agent: str = "syncframe"):
        super().__init__()
        self.verify = ca_bundle or True
        self.headers["User-Agent"] = user_agent
        # never carry credentials across hosts on redirects (requests strips auth on
        # host change already; this keeps Basic auth from being re-derived from netrc)
        self.trust_env = False

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        return super().request(method, url, **kwargs)


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """The ``Retry-After`` header in seconds (only the delta-seconds form is used)."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class RetryPolicy:
    """How hard to try: attempts, a total time budget, and backoff when no Retry-After."""

    attempts: int = 6
    budget_seconds: float = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    statuses: frozenset[int] = RETRY_STATUSES
    #: injectable for tests and benchmarks that count waits
    sleep: Callable[[float], None] = time.sleep


class RetryStats:
    """What retries cost, for reports: retries made and seconds waited."""

    def __init__(self) -> None:
        self.retries = 0
        self.waited = 0.0


def send_with_retries(
    session: requests.Session,
    method: str,
    url: str,
    policy: RetryPolicy | None = None,
    stats: RetryStats | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send a request, retrying 429/5xx and connection errors within the policy.

    Waits what ``Retry-After`` says, else exponential backoff with full jitter. Returns
    the last response (which may still be a 429/5xx once the budget is spent); raises
    the last connection error when every attempt failed to connect.
    """
    policy = policy or RetryPolicy()

    def wait(state: RetryCallState) -> float:
        response = state.outcome.result() if state.outcome and not state.outcome.failed else None
        announced = retry_after_seconds(response)
        if announced is not None:
            return announced
        cap = min(policy.backoff_max, policy.backoff_base * (2 ** (state.attempt_number - 1)))
        return random.uniform(0, cap)

    def before_sleep(state: RetryCallState) -> None:
        seconds = state.next_action.sleep if state.next_action else 0.0
        if stats is not None:
            stats.retries += 1
            stats.waited += seconds
        outcome = state.outcome
        what = f"HTTP {outcome.result().status_code}" if outcome and not outcome.failed else repr(outcome.exception() if outcome else None)
        log.info("retrying %s %s after %s in %.2fs", method, _redact(url), what, seconds)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.budget_seconds),
        wait=wait,
        retry=retry_if_exception(_transient)
        | retry_if_result(lambda r: r.status_code in policy.statuses),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result(),
        reraise=True,
    )
    return retrying(session.request, method, url, **kwargs)


def _transient(exc: BaseException) -> bool:
    """Connection errors and timeouts are worth retrying; a failed certificate check is not
    (``SSLError`` is a ``ConnectionError`` too, but trying again cannot fix it)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def _redact(url: str) -> str:
    """Drop the query string from a URL for logging (tokens may ride in it)."""
    return url.split("?", 1)[0]
