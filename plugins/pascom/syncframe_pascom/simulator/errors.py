"""The simulator's one error type and its wire form.

Assumed (A) by the contract: every failure answers
``{"error": {"code": "<UPPER_SNAKE>", "message": "<text>", "field": "<field or null>"}}``.
"""

from __future__ import annotations

import json


class ApiError(Exception):
    """A failure to answer as JSON error body with an HTTP status.

    :param status: HTTP status code (400, 401, 404, 405, 409, 429, 5xx).
    :param code: UPPER_SNAKE error code, e.g. ``LOGIN_EXISTS``.
    :param message: Human text (never contains secrets).
    :param field: The offending field name, or None.
    :param headers: Extra response headers (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message, "field": self.field}}).encode()


def bad_request(code: str, message: str, field: str | None = None) -> ApiError:
    """A 400 validation error."""
    return ApiError(400, code, message, field)


def not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found")


def conflict(code: str, message: str, field: str) -> ApiError:
    return ApiError(409, code, message, field)


#: status -> (code, message) for injected server faults
FAULT_CODES = {
    500: ("INTERNAL_ERROR", "internal server error"),
    502: ("BAD_GATEWAY", "bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "service unavailable"),
    504: ("GATEWAY_TIMEOUT", "gateway timeout"),
}


def server_fault(status: int, retry_after: float | None = None) -> ApiError:
    """An injected 5xx answer."""
    code, message = FAULT_CODES.get(status, ("SERVER_ERROR", "server error"))
    headers = {"Retry-After": format_seconds(retry_after)} if retry_after is not None else None
    return ApiError(status, code, message, None, headers)


def format_seconds(seconds: float) -> str:
    """Retry-After as delta-seconds: an integer when whole, else a short decimal."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0")
