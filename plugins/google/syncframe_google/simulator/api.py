"""The Directory API endpoints the GOOGLE source uses, with Google's paging and errors.

Served under ``/admin/directory/v1``:

- ``GET /users`` (users.list): ``customer`` (``my_customer`` or the customer id) or
  ``domain``; ``maxResults`` 1..500 (default 100); ``pageToken``; ``projection``
  basic|custom|full (``customFieldMask`` with custom); ``orderBy`` email|givenName|familyName
  and ``sortOrder``; ``showDeleted``; ``viewType``; ``fields`` (partial response).
  ``query`` and ``event`` are refused (400): the simulator does not search or push.
- ``GET /groups/{groupKey}/members`` (members.list): ``groupKey`` = id, e-mail or
  alias; ``maxResults`` 1..200 (default 200); ``pageToken``; ``roles``;
  ``includeDerivedMembership``; ``fields``.

Both need a bearer token from the token endpoint with a fitting scope (else 403
``insufficientPermissions``) whose subject is an administrator (else 403
``forbidden`` "Not Authorized to access this resource/api"). Unknown query
parameters are refused with 400, as Google's ESF front end does. Errors have Google's
shape: ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Callable
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from . import fields as partial
from .switches import DROP
from .tokens import Grant
from .workspace import NotFound, Workspace, etag

PREFIX = "/admin/directory/v1"
USER_SCOPES = frozenset({
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/cloud-platform",
})
MEMBER_SCOPES = frozenset({
    "https://www.googleapis.com/auth/admin.directory.group",
    "https://www.googleapis.com/auth/admin.directory.group.member",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
})
#: parameters every Google API takes (the discovery document's top-level ``parameters``)
SYSTEM_PARAMETERS = frozenset({"$.xgafv", "access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "uploadType", "upload_protocol"})
USERS_LIST_PARAMETERS = frozenset({
    "customFieldMask", "customer", "domain", "event", "maxResults", "orderBy", "pageToken", "projection", "query", "showDeleted", "sortOrder", "viewType",
})
MEMBERS_LIST_PARAMETERS = frozenset({"groupKey", "includeDerivedMembership", "maxResults", "pageToken", "roles"})
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
ERROR_MESSAGES = {400: ("invalid", "Invalid Input: pageToken"), 404: ("notFound", "Resource Not Found"), 500: ("backendError", "Internal error encountered."), 502: ("backendError", "Bad Gateway"),
                  503: ("backendError", "The service is currently unavailable."), 504: ("backendError", "Deadline exceeded."),
                  429: ("rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'.")}
#: fields every user resource carries besides those the workspace stores
USER_DEFAULTS = {
    "isDelegatedAdmin": False, "lastLoginTime": "1970-01-01T00:00:00.000Z", "agreedToTerms": True, "changePasswordAtNextLogin": False,
    "ipWhitelisted": False, "isMailboxSetup": True, "isEnrolledIn2Sv": False, "isEnforcedIn2Sv": False, "includeInGlobalAddressList": True,
}


class ApiError(Exception):
    """An error answer in Google's shape."""

    def __init__(self, status: int, reason: str, message: str, headers: dict[str, str] | None = None, domain: str = "global"):
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": {"code": self.status, "message": self.message,
                          "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
                          "status": STATUS_NAMES.get(self.status, "UNKNOWN")}}
        response = Response(json.dumps(body), status=self.status, content_type="application/json; charset=UTF-8")
        response.headers.update(self.headers)
        return response


def encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise ApiError(400, "invalid", "Invalid Input: pageToken") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid", "Invalid Input: pageToken")
    return data


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, "invalid", f"Invalid value for {name}: {text}") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid", f"Invalid value for {name}: {text}")
    return value


def _bool(request: Request, name: str) -> bool:
    return str(request.args.get(name, "false")).lower() == "true"


class DirectoryApi:
    """The Directory API of one simulated account.

    :param workspace: The account's data.
    :param grant_for: Token check (``Authorization`` header -> grant or None).
    :param page_fault: Armed faults (endpoint, page) -> status / "drop" / None.
    """

    def __init__(self, workspace: Workspace, grant_for: Callable[[str | None], Grant | None],
                 page_fault: Callable[[str, int], int | str | None]):
        self.workspace = workspace
        self.grant_for = grant_for
        self.page_fault = page_fault

    def handle(self, request: Request, path: str) -> Response:
        try:
            return self._route(request, path)
        except ApiError as exc:
            return exc.response()

    def _route(self, request: Request, path: str) -> Response:
        grant = self.grant_for(request.headers.get("Authorization"))
        if grant is None:
            raise ApiError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                                            "other valid authentication credential.", {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        if request.method != "GET":
            raise ApiError(405, "httpMethodNotAllowed", f"Method {request.method} is not supported by the simulator.")
        segments = [unquote(s) for s in path.strip("/").split("/")]
        if segments == ["users"]:
            self._authorize(grant, USER_SCOPES)
            return self._users_list(request)
        if len(segments) == 3 and segments[0] == "groups" and segments[2] == "members":
            self._authorize(grant, MEMBER_SCOPES)
            return self._members_list(request, segments[1])
        raise ApiError(404, "notFound", "Not Found")

    def _authorize(self, grant: Grant, scopes: frozenset[str]) -> None:
        if not grant.scopes & scopes:
            raise ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
        if grant.subject is None or grant.subject.lower() not in self.workspace.admins:
            raise ApiError(403, "forbidden", "Not Authorized to access this resource/api")

    @staticmethod
    def _check_parameters(request: Request, allowed: frozenset[str]) -> partial.Selection | None:
        unknown = sorted(set(request.args) - allowed - SYSTEM_PARAMETERS)
        if unknown:
            raise ApiError(400, "badRequest", f"Invalid JSON payload received. Unknown name \"{unknown[0]}\": Cannot bind query parameter.")
        text = request.args.get("fields")
        if not text:
            return None
        try:
            return partial.parse(text)
        except partial.FieldsError as exc:
            raise ApiError(400, "invalidParameter", str(exc)) from None

    def _fault(self, endpoint: str, page: int) -> None:
        action = self.page_fault(endpoint, page)
        if action is None:
            return
        if action == DROP:
            raise DroppedConnection()
        status = int(action)
        reason, message = ERROR_MESSAGES.get(status, ("backendError", "Error"))
        raise ApiError(status, reason, message, domain="usageLimits" if status == 429 else "global")

    # -- users.list ---------------------------------------------------------------------

    def _users_list(self, request: Request) -> Response:
        selection = self._check_parameters(request, USERS_LIST_PARAMETERS)
        customer, domain = request.args.get("customer"), request.args.get("domain")
        if not customer and not domain:
            raise ApiError(400, "badRequest", "Bad Request")
        if customer and customer not in ("my_customer", self.workspace.customer_id):
            raise ApiError(400, "badRequest", "Bad Request")
        if domain and domain.lower() != self.workspace.domain:
            raise ApiError(400, "badRequest", "Domain not found.")
        for name in ("query", "event"):
            if request.args.get(name):
                raise ApiError(400, "badRequest", f"{name} is not supported by the simulator")
        projection = request.args.get("projection", "basic")
        if projection not in ("basic", "custom", "full"):
            raise ApiError(400, "invalidParameter", f"Invalid value for projection: {projection}")
        if projection == "custom" and not request.args.get("customFieldMask"):
            raise ApiError(400, "invalidParameter", "Missing required field: customFieldMask")
        order = request.args.get("orderBy")
        if order not in (None, "email", "givenName", "familyName"):
            raise ApiError(400, "invalidParameter", f"Invalid value for orderBy: {order}")
        descending = request.args.get("sortOrder", "ASCENDING") == "DESCENDING"
        size = _int(request, "maxResults", 100, 1, 500)
        state = decode_token(request.args["pageToken"]) if request.args.get("pageToken") else {"page": 1, "after": None}
        page = int(state.get("page", 1))
        self._fault("users", page)
        if _bool(request, "showDeleted"):
            users: list[dict[str, Any]] = []  # deleted users are gone for good here
        else:
            users = self.workspace.users(copies=False)  # read only; the page served is copied below
        if domain:
            users = [u for u in users if u["primaryEmail"].lower().endswith("@" + domain.lower())]

        def key(user: dict[str, Any]) -> list[str]:
            name = user.get("name") or {}
            first = {"email": user["primaryEmail"].lower(), "givenName": str(name.get("givenName", "")).lower(),
                     "familyName": str(name.get("familyName", "")).lower()}.get(order or "", "")
            return [first, user["id"]]

        users.sort(key=key, reverse=descending)
        after = state.get("after")
        if after is not None:
            # keyset paging: a user renamed or added during the read is not served twice
            users = [u for u in users if (key(u) < after if descending else key(u) > after)]
        chunk, rest = [copy.deepcopy(u) for u in users[:size]], users[size:]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": etag([u["etag"] for u in chunk])}
        if chunk:
            body["users"] = [self._user_view(u, projection) for u in chunk]
        if rest:
            body["nextPageToken"] = encode_token({"page": page + 1, "after": key(chunk[-1])})
        return _json(partial.apply(body, selection))

    @staticmethod
    def _user_view(user: dict[str, Any], projection: str) -> dict[str, Any]:
        view = {**USER_DEFAULTS, **user}
        view["emails"] = [{"address": user["primaryEmail"], "primary": True}] + [{"address": a} for a in user.get("aliases", [])]
        if projection == "basic":
            view.pop("customSchemas", None)
        return view

    # -- members.list -------------------------------------------------------------------

    def _members_list(self, request: Request, group_key: str) -> Response:
        selection = self._check_parameters(request, MEMBERS_LIST_PARAMETERS)
        size = _int(request, "maxResults", 200, 1, 200)
        state = decode_token(request.args["pageToken"]) if request.args.get("pageToken") else {"page": 1, "after": None}
        page = int(state.get("page", 1))
        self._fault("members", page)
        try:
            members = self.workspace.members(group_key)
        except NotFound:
            raise ApiError(404, "notFound", "Resource Not Found: groupKey") from None
        if _bool(request, "includeDerivedMembership"):
            members = self._derived(group_key, members)
        roles = {r.strip().upper() for r in str(request.args.get("roles") or "").split(",") if r.strip()}
        if roles:
            members = [m for m in members if m.get("role") in roles]
        after = state.get("after")
        if after is not None:
            members = [m for m in members if m["id"] > after]
        chunk, rest = members[:size], members[size:]
        body: dict[str, Any] = {"kind": "admin#directory#members", "etag": etag([m["etag"] for m in chunk])}
        if chunk:
            body["members"] = chunk
        if rest:
            body["nextPageToken"] = encode_token({"page": page + 1, "after": chunk[-1]["id"]})
        return _json(partial.apply(body, selection))

    def _derived(self, group_key: str, direct: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Direct members plus the members of nested groups (each once), in id order."""
        found = {m["id"]: m for m in direct}
        seen = {group_key.lower()}
        pending = [m["id"] for m in direct if m["type"] == "GROUP"]
        while pending:
            key = pending.pop()
            if key.lower() in seen:
                continue
            seen.add(key.lower())
            for member in self.workspace.members(key):
                found.setdefault(member["id"], member)
                if member["type"] == "GROUP":
                    pending.append(member["id"])
        return [found[k] for k in sorted(found)]


class DroppedConnection(Exception):
    """The answer is a closed connection (a fault switch)."""


def _json(body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status=200, content_type="application/json; charset=UTF-8")
    response.headers["Vary"] = "Origin, X-Origin, Referer"
    response.headers["Cache-Control"] = "private"
    return response
