"""A small Microsoft Graph client: JSON over requests, paging, retries, errors.

What it adds to ``requests``:

- every request through :func:`syncframe.http.send_with_retries` (429/5xx honour
  ``Retry-After``, else jittered backoff; connection errors retried);
- a body that is not valid JSON (cut off in transit) is fetched again;
- a 401 gets one fresh token and one more try; a persistent 401/403 becomes an
  :class:`AuthenticationError` naming the permission and the consent URL;
- an expired delta link raises :class:`DeltaExpired` so the caller can do a full read;
- ``@odata.nextLink`` is followed only on the Graph host the profile names, so the
  bearer token never goes anywhere else.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import requests

from syncframe import AuthenticationError, RetriableSyncError, SyncError
from syncframe.sdk import RetryPolicy, RetryStats, connection_problem, retry_after_seconds, send_with_retries

from .auth import GraphAuth, tls_failure

log = logging.getLogger("syncframe.msuser.graph")

#: delta error codes that mean "start again with a full round"
RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})


class GraphError(SyncError):
    """Graph answered with an error that retries did not cure."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class GraphUnavailable(RetriableSyncError):
    """Graph could not be reached or kept answering 429/5xx past the retry budget."""


class DeltaExpired(SyncError):
    """The saved delta link is no longer valid; a full read is needed."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class GraphStats:
    """What talking to Graph cost: requests sent (retries included), pages read, waits."""

    requests: int = 0
    pages: int = 0
    retry: RetryStats = field(default_factory=RetryStats)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "pages": self.pages, "retries": self.retry.retries, "waited": round(self.retry.waited, 3)}


def error_of(response: requests.Response) -> tuple[str, str]:
    """(code, message) of a Graph error answer, looking into nested ``innerError`` codes too."""
    try:
        body = response.json()
    except ValueError:
        return "", (response.text or "")[:200]
    return error_in(body)


def error_in(body: Any) -> tuple[str, str]:
    """(code, message) of a decoded Graph error body (also an item of a JSON batch)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("code") or "")
    inner = error.get("innerError") or error.get("innererror")
    while isinstance(inner, dict) and not code:
        code = str(inner.get("code") or "")
        inner = inner.get("innerError") or inner.get("innererror")
    return code, str(error.get("message") or "")[:300]


def path_of(url: str) -> str:
    """The path of a URL, for counting and messages (never the query: tokens ride in it)."""
    return urlsplit(url).path


class GraphClient:
    """JSON requests to one Graph root with one sign-in.

    :param graph_url: ``https://graph.microsoft.com/v1.0`` or a simulator's.
    :param auth: Gives and renews access tokens.
    :param session: A :class:`syncframe.http.CASession`.
    :param policy: Retries and their budget (tests inject a recording ``sleep``).
    """

    def __init__(
        self,
        graph_url: str,
        auth: GraphAuth,
        session: requests.Session,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
    ):
        self.graph_url = graph_url.rstrip("/")
        self.auth = auth
        self.session = session
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.stats = GraphStats()
        self.auth.http.stats = self.stats.retry
        origin = urlsplit(self.graph_url)
        self._origin = (origin.scheme, origin.netloc.lower())

    def reset_stats(self) -> GraphStats:
        self.stats = GraphStats()
        self.auth.http.stats = self.stats.retry  # login retries count in the read's stats too
        return self.stats

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith("https://") or path_or_url.startswith("http://"):
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise GraphError(f"Graph sent a link to another host ({parts.scheme}://{parts.netloc}); refusing to follow it")
            return path_or_url
        return f"{self.graph_url}/{path_or_url.lstrip('/')}"

    # -- one request ------------------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        permission: str = "User.Read.All",
    ) -> dict[str, Any]:
        """Send one request and return its JSON body.

        :raises DeltaExpired: 410, or 400 ``syncStateNotFound`` / ``resyncRequired``.
        :raises AuthenticationError: a 401 after renewing the token, or a 403.
        :raises GraphUnavailable: unreachable, or 429/5xx past the retry budget.
        :raises GraphError: any other error answer.
        """
        url = self.url(path_or_url)
        renewed = False
        decode_failures = 0
        while True:
            response = self._send(method, url, params, headers, json_body)
            status = response.status_code
            if status == 401 and not renewed:
                # the token expired or was revoked mid-run: one fresh token, one more try
                code, _ = error_of(response)
                log.info("Graph answered 401 %s for %s; renewing the token once", code or "", path_of(url))
                self.auth.renew()
                renewed = True
                continue
            if status >= 400:
                raise self._error(method, url, response, permission)
            if status == 204 or not response.content:
                return {}
            try:
                body = response.json()
            except ValueError:
                # a body cut off in transit: the request is safe to repeat
                decode_failures += 1
                if decode_failures >= self.policy.attempts:
                    raise GraphUnavailable(
                        f"Graph kept sending bodies that are not valid JSON for {method} {path_of(url)} ({decode_failures} tries)"
                    ) from None
                wait = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (decode_failures - 1))
                self.stats.retry.retries += 1
                self.stats.retry.waited += wait
                log.info("truncated JSON from %s; retrying in %.2fs", path_of(url), wait)
                self.policy.sleep(wait)
                continue
            if not isinstance(body, dict):
                raise GraphError(f"Graph answered {method} {path_of(url)} with JSON that is not an object")
            return body

    def _send(
        self, method: str, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None, json_body: Any
    ) -> requests.Response:
        token = self.auth.access_token()
        all_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "client-request-id": str(uuid.uuid4()),
            **(headers or {}),
        }
        before = self.stats.retry.retries
        try:
            response = send_with_retries(
                self.session, method, url, self.policy, self.stats.retry,
                params=params, headers=all_headers, json=json_body, timeout=self.timeout,
            )
        except requests.exceptions.SSLError as exc:
            self.stats.requests += 1 + self.stats.retry.retries - before
            raise tls_failure(_origin(url), exc) from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            self.stats.requests += 1 + self.stats.retry.retries - before
            raise GraphUnavailable(f"cannot reach Microsoft Graph at {_origin(url)}{path_of(url)}: {connection_problem(exc)}") from None
        self.stats.requests += 1 + self.stats.retry.retries - before
        if response.status_code >= 400:
            log.debug("Graph %s %s -> %s request-id=%s", method, path_of(url), response.status_code, response.headers.get("request-id"))
        return response

    def _error(self, method: str, url: str, response: requests.Response, permission: str) -> SyncError:
        status = response.status_code
        code, message = error_of(response)
        where = f"{method} {path_of(url)}"
        if status == 410 or code.lower() in RESYNC_CODES:
            return DeltaExpired(f"the delta link expired ({status} {code or 'Gone'}); a full read is needed")
        if status == 401:
            return AuthenticationError(
                self.auth.redact(f"Microsoft Graph refused the access token for {where} (401 {code}) even after renewing it; {self.auth.grant_hint()}")
            )
        if status == 403:
            return AuthenticationError(
                self.auth.redact(
                    f"Microsoft Graph denied {where} (403 {code or 'Forbidden'}): the app {self.auth.client_id} is missing the "
                    f"permission {self.auth.permission_text([permission])} or its admin consent; "
                    f"an administrator grants it at: {self.auth.consent_url}"
                )
            )
        if status == 429 or status >= 500:
            announced = retry_after_seconds(response)
            if announced is not None and announced > self.policy.throttle_max:
                return GraphUnavailable(
                    f"Microsoft Graph answered {status} {code} for {where} and asked to wait {announced:g}s (Retry-After), "
                    f"longer than the retry budget allows; the next run tries again"
                )
            return GraphUnavailable(f"Microsoft Graph kept answering {status} {code} for {where} past the retry budget")
        return GraphError(f"Microsoft Graph answered {where} with {status} {code}: {message}", status=status, code=code)

    # -- collections ------------------------------------------------------------

    def pages(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        permission: str = "User.Read.All",
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink`` until there is none.

        An empty page with a next link is not the end. ``headers`` (such as
        ``ConsistencyLevel``) are sent again on every page: Graph does not carry them
        into next links.
        """
        url, query = path_or_url, params
        while True:
            page = self.request("GET", url, params=query, headers=headers, permission=permission)
            self.stats.pages += 1
            yield page
            link = page.get("@odata.nextLink")
            if not link:
                return
            url, query = str(link), None

