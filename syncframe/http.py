"""HTTP plumbing shared by plugins: a session that always verifies against its CA
bundle, and retries that honour ``Retry-After``.

requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override ``Session.verify``
(the environment wins when a request passes ``verify=None``), which breaks msal and
any client pointed at a private CA. :class:`CASession` passes ``verify`` on every
request, so the bundle the profile names is the one used.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    wait_exponential_jitter,
    wait_random_exponential,
)

from .backpressure import report_answer

log = logging.getLogger("syncframe.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: answers that mean "too much, slow down" to the adaptive write limit (with timeouts)
THROTTLED_STATUSES = frozenset({429, 503})


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
    """How hard to try.

    A ``Retry-After`` header is waited as it says. Without one, a 429 (the service is
    throttling: most directory throttling answers carry no header) backs off patiently,
    exponentially from ``throttle_base`` up to ``throttle_max`` seconds with jitter;
    a 5xx or a connection error backs off quickly (full jitter below
    ``backoff_base * 2**n``, at most ``backoff_max``).

    Budgets bound every wait, a long ``Retry-After`` included (it is not slept at all
    when it would overrun them): ``budget_seconds`` for one request, and
    ``total_budget_seconds`` for all requests counted in one :class:`RetryStats`
    (a source resets its stats per read, so that is the read's budget).
    """

    attempts: int = 6
    budget_seconds: float = 300.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: 429 without Retry-After: 2, 4, 8, ... seconds (plus jitter), at most 60, at most this many tries
    throttle_base: float = 2.0
    throttle_max: float = 60.0
    throttle_attempts: int = 10
    total_budget_seconds: float | None = None
    statuses: frozenset[int] = RETRY_STATUSES
    #: injectable for tests and benchmarks that count waits
    sleep: Callable[[float], None] = time.sleep


class RetryStats:
    """What retries cost, for reports: retries made and seconds waited."""

    def __init__(self) -> None:
        self.retries = 0
        self.waited = 0.0


def _throttled_without_hint(state: RetryCallState) -> bool:
    """The last answer was a 429 that did not say how long to wait."""
    outcome = state.outcome
    if outcome is None or outcome.failed:
        return False
    response = outcome.result()
    return response.status_code == 429 and retry_after_seconds(response) is None


def send_with_retries(
    session: requests.Session,
    method: str,
    url: str,
    policy: RetryPolicy | None = None,
    stats: RetryStats | None = None,
    *,
    idempotent: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """Send a request, retrying 429/5xx and connection errors within the policy.

    Returns the last response (which may still be a 429/5xx once the budget is spent,
    or when ``Retry-After`` asks for longer than the budget allows); raises the last
    connection error when every attempt failed to connect.

    ``idempotent=False`` (a POST that creates something): only answers that say the
    request was not carried out are retried (429, and a connection that could not be
    opened). After a 5xx, a dropped connection or a timeout the outcome is unknown: the
    answer is returned, or the error raised, for the caller to check before trying again.
    """
    policy = policy or RetryPolicy()
    statuses = policy.statuses if idempotent else policy.statuses & {429}
    # the first attempt goes out directly: most requests need no retry, and tenacity's
    # machinery cost more CPU than the request itself; only an answer to retry enters it
    started = time.monotonic()
    first_error: BaseException | None = None
    try:
        first = _reported(session, method, url, **kwargs)
    except requests.RequestException as exc:
        first_error = exc
    else:
        if first.status_code not in statuses:
            return first
    first_seconds = time.monotonic() - started
    replayed = False

    def attempt() -> requests.Response:
        nonlocal replayed
        if replayed:
            return _reported(session, method, url, **kwargs)
        replayed = True
        if first_error is not None:
            raise first_error
        return first

    quick = wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max)
    patient = wait_exponential_jitter(multiplier=policy.throttle_base, max=policy.throttle_max, jitter=policy.throttle_base)
    waited = 0.0  # by this request: with an injected sleep no wall-clock time passes

    def wait(state: RetryCallState) -> float:
        response = state.outcome.result() if state.outcome and not state.outcome.failed else None
        announced = retry_after_seconds(response)
        if announced is not None:
            return announced
        return float(patient(state) if _throttled_without_hint(state) else quick(state))

    def stop(state: RetryCallState) -> bool:
        limit = policy.throttle_attempts if _throttled_without_hint(state) else policy.attempts
        if state.attempt_number >= limit:
            return True
        upcoming = state.upcoming_sleep
        spent = max(waited, first_seconds + (state.seconds_since_start or 0.0))
        beyond = spent + upcoming > policy.budget_seconds
        if not beyond and policy.total_budget_seconds is not None and stats is not None:
            beyond = stats.waited + upcoming > policy.total_budget_seconds
        if beyond:
            log.warning("not waiting %.1fs more for %s %s: beyond the retry budget", upcoming, method, _redact(url))
        return beyond

    def before_sleep(state: RetryCallState) -> None:
        nonlocal waited
        seconds = state.next_action.sleep if state.next_action else 0.0
        waited += seconds
        if stats is not None:
            stats.retries += 1
            stats.waited += seconds
        outcome = state.outcome
        what = f"HTTP {outcome.result().status_code}" if outcome and not outcome.failed else repr(outcome.exception() if outcome else None)
        log.info("retrying %s %s after %s in %.2fs", method, _redact(url), what, seconds)

    retrying = Retrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(_transient if idempotent else _not_sent)
        | retry_if_result(lambda r: r.status_code in statuses),
        sleep=policy.sleep,
        before_sleep=before_sleep,
        retry_error_callback=lambda state: state.outcome.result(),
        reraise=True,
    )
    return retrying(attempt)


def _reported(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """One attempt, its round trip and any push-back reported (:mod:`syncframe.backpressure`)."""
    started = time.monotonic()
    try:
        response = session.request(method, url, **kwargs)
    except requests.Timeout:
        report_answer(time.monotonic() - started, throttled=True)
        raise
    report_answer(time.monotonic() - started, throttled=response.status_code in THROTTLED_STATUSES)
    return response


def _transient(exc: BaseException) -> bool:
    """Connection errors and timeouts are worth retrying; a failed certificate check is not
    (``SSLError`` is a ``ConnectionError`` too, but trying again cannot fix it)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def _not_sent(exc: BaseException) -> bool:
    """A connection that could not be opened: the request never left, so it is safe to repeat."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.exceptions.SSLError):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3's MaxRetryError
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _redact(url: str) -> str:
    """Drop the query string from a URL for logging (tokens may ride in it)."""
    return url.split("?", 1)[0]


def connection_problem(exc: BaseException) -> str:
    """What went wrong on the way to a service, in words an administrator can act on.

    The exception's class name alone ("ConnectionError") says nothing about whether the
    name did not resolve, nothing listened, or the answer was cut off.

    :param exc: A ``requests`` transport error (not a TLS failure: name those apart).
    """
    reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3's MaxRetryError
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "the host name does not resolve (DNS)"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return "no answer to the connection attempt (connect timeout)"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        if "refused" in str(reason).lower():
            return "connection refused (nothing listens at that address and port)"
        return "the connection could not be opened"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off"
    if isinstance(exc, requests.ConnectionError):
        return "the connection was closed or reset by the other side"
    return type(exc).__name__
