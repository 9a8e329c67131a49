"""The simulated Microsoft Graph v1.0 (the parts a user sync reads).

``/users`` (``$select``, ``$top``, ``$filter``, ``$count``, ``$skiptoken`` paging),
``/users/{id|upn}``, ``/users/delta`` (rounds, deltaLinks, ``@removed``,
``$deltatoken=latest``, 410 ``syncStateNotFound``), ``/groups`` (``$filter`` by name),
``/groups/{id}/members|transitiveMembers[/microsoft.graph.user]``, presence
(``/users/{id}/presence``, ``POST /communications/getPresencesByUserId``) and
``POST /$batch``. Answers carry
the service's envelope, annotations and headers; tokens are checked for expiry and
roles like the real service does.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import quote

import jwt
from werkzeug.wrappers import Request, Response

from .batch import run_batch
from .odata import (
    Filter,
    GraphError,
    StateTokens,
    bad_request,
    delta_filter_ids,
    parse_orderby,
    parse_search,
    parse_select,
    parse_top,
    unsupported_query,
)
from .schema import (
    DEFAULT_GROUP_SELECT,
    DEFAULT_USER_SELECT,
    GROUP_PROPERTIES,
    SINGLE_USER_ONLY,
    USER_PROPERTIES,
    unset_value,
)
from .switches import BAD_JSON, SHORT, TRUNCATE, DROP
from .tenant import FULL, PARTIAL, RESTORED_FULL, DeltaEntry
from .tokens import GRAPH_APP_ID, GRAPH_RESOURCE, signing_key

if TYPE_CHECKING:  # pragma: no cover
    from .server import GraphSimulator

ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

#: Permissions (application roles or delegated scopes) that allow each kind of read.
USER_READ = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.ReadBasic.All"})
GROUP_READ = frozenset({"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
MEMBER_READ = GROUP_READ | {"GroupMember.Read.All", "GroupMember.ReadWrite.All"}
PRESENCE_READ = frozenset({"Presence.Read.All", "Presence.ReadWrite.All"})

MAX_PRESENCE_IDS = 650

_USERS_SKIP = b"DSpt\x02\x00"   # real users skiptokens start with "RFNwdAIA"
_DELTA_SKIP = b"\xa0\x40\x70"
_DELTA_TOKEN = b"\xa1\xc7\x0e"

_KEY_SYNTAX = re.compile(r"^\('(.+)'\)$")


def _quote(value: str) -> str:
    return quote(value, safe="")


class GraphService:
    """The Graph half of the simulator; the tenant and switches live on the simulator."""

    def __init__(self, sim: "GraphSimulator"):
        self.sim = sim
        self.tokens = StateTokens(secrets.token_bytes(32))
        self.users_page_size = 100
        self.delta_page_size = 200
        #: deltaLinks older than this (seconds, simulator clock) answer 410 syncStateNotFound
        self.delta_token_retention = 7 * 24 * 3600.0
        #: listing skip tokens older than this answer 400 Directory_ExpiredPageToken (the
        #: service's lifetime is unpublished: "minutes"; 10 is assumed)
        self.skiptoken_lifetime = 600.0
        self._delta_epoch = 0
        self._snap_lock = threading.Lock()
        self._snapshots: OrderedDict[str, Sequence[Any]] = OrderedDict()
        self.max_snapshots = 512

    # ------------------------------------------------------------------ plumbing

    @property
    def base(self) -> str:
        return self.sim.url

    def invalidate_delta_tokens(self) -> None:
        """Every deltaLink and delta nextLink handed out so far becomes 410 Gone."""
        with self._snap_lock:
            self._delta_epoch += 1

    def forget_listings(self) -> None:
        """Drop every listing snapshot: their next links answer ``Directory_ExpiredPageToken``."""
        with self._snap_lock:
            self._snapshots.clear()

    def _remember(self, items: Sequence[Any]) -> str:
        key = secrets.token_hex(6)
        with self._snap_lock:
            self._snapshots[key] = items
            while len(self._snapshots) > self.max_snapshots:
                self._snapshots.popitem(last=False)
        return key

    def _recall(self, key: str) -> Sequence[Any] | None:
        with self._snap_lock:
            return self._snapshots.get(key)

    def json(self, request: Request, body: Any, status: int = 200, headers: dict[str, str] | None = None,
             fault: Any = None, resource_unit: int | None = None) -> Response:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if fault == BAD_JSON:
            data = data[: len(data) // 2]
        response = Response(data, status=status, content_type=ODATA_JSON)
        response.headers["OData-Version"] = "4.0"
        if resource_unit is not None:
            response.headers["x-ms-resource-unit"] = str(resource_unit)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        if fault in (TRUNCATE, DROP):
            response.sim_fault = fault  # type: ignore[attr-defined]
        return response

    def error(self, request: Request, error: GraphError) -> Response:
        body = {
            "error": {
                "code": error.code,
                "message": error.message,
                "innerError": {
                    "date": self.sim.clock.iso()[:-1],
                    "request-id": request.environ["sim.request_id"],
                    "client-request-id": request.environ["sim.client_request_id"],
                },
            }
        }
        return self.json(request, body, error.status, error.headers)

    def _arg(self, request: Request, name: str) -> str | None:
        """A query option, with or without its ``$`` (the service accepts both)."""
        value = request.args.get("$" + name)
        return value if value is not None else request.args.get(name)

    def _count_requested(self, request: Request) -> bool:
        """Whether this is an advanced query: ``$count=true`` *and* ``ConsistencyLevel: eventual``.

        Without the header the service silently ignores ``$count=true`` (no
        ``@odata.count``, no advanced operators), as Microsoft documents it.
        """
        raw = self._arg(request, "count")
        if raw is not None and raw.lower() not in ("true", "false"):
            raise bad_request(f"Invalid value '{raw}' for $count query option found. The $count query option requires a Boolean value.")
        return (raw or "").lower() == "true" and self._eventual(request)

    @staticmethod
    def _eventual(request: Request) -> bool:
        return request.headers.get("ConsistencyLevel", "").lower() == "eventual"

    # ------------------------------------------------------------------ auth

    def authenticate(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header or not token.strip():
            raise self._unauthorized("Access token is empty.")
        if scheme.lower() != "bearer":
            raise self._unauthorized("CompactToken parsing failed with error code: 80049217")
        audiences = [GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID, self.base]
        try:
            claims = jwt.decode(
                token.strip(), signing_key().public_key, algorithms=["RS256"], audience=audiences,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise self._unauthorized("Access token validation failure. Invalid audience.") from None
        except jwt.InvalidSignatureError:
            raise self._unauthorized("CompactToken validation failed with reason code: 80049228.") from None
        except jwt.PyJWTError:
            raise self._unauthorized("CompactToken parsing failed with error code: 80049217") from None
        now = self.sim.clock.now()
        if claims.get("exp", 0) <= now or claims.get("nbf", 0) > now + 300 or self.sim.token_revoked(claims):
            raise self._unauthorized("Access token has expired or is not yet valid.")
        if claims.get("tid") != self.sim.tenant.tenant_id:
            raise self._unauthorized("Access token validation failure. Invalid issuer.")
        return claims

    def _unauthorized(self, message: str) -> GraphError:
        challenge = (f'Bearer realm="", authorization_uri="{self.base}/common/oauth2/authorize", '
                     f'client_id="{GRAPH_APP_ID}"')
        return GraphError(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge})

    @staticmethod
    def require(claims: dict[str, Any], allowed: frozenset[str]) -> None:
        granted = set(claims.get("roles") or ()) | set((claims.get("scp") or "").split())
        if not granted & allowed:
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

    # ------------------------------------------------------------------ routing

    def handle(self, request: Request, path: str) -> Response:
        try:
            claims = self.authenticate(request)
            return self._route(request, path, claims)
        except GraphError as error:
            return self.error(request, error)

    def _route(self, request: Request, path: str, claims: dict[str, Any]) -> Response:
        path = path.rstrip("/") or "/"
        parts = path.strip("/").split("/")
        method = request.method
        if parts[0] == "users" or parts[0].startswith("users("):
            head = parts[0]
            if head.startswith("users("):  # users('key')[/presence]
                match = _KEY_SYNTAX.match(head[len("users"):])
                if not match:
                    raise bad_request(f"Invalid object identifier '{head[6:]}'.")
                parts = ["users", match.group(1).replace("''", "'")] + parts[1:]
            if method != "GET":
                raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
            if len(parts) == 1:
                return self.list_users(request, claims)
            if len(parts) == 2 and parts[1] == "$count":
                return self.count_users(request, claims)
            if len(parts) == 2 and parts[1] in ("delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()"):
                return self.users_delta(request, claims)
            if len(parts) == 2:
                return self.get_user(request, claims, parts[1])
            if len(parts) == 3 and parts[2] == "presence":
                return self.user_presence(request, claims, parts[1])
        elif parts[0] == "groups":
            if method != "GET":
                raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
            if len(parts) == 1:
                return self.list_groups(request, claims)
            if len(parts) == 2:
                return self.get_group(request, claims, parts[1])
            if parts[2] in ("members", "transitiveMembers") and len(parts) in (3, 4):
                cast = parts[3] if len(parts) == 4 else None
                if cast not in (None, "microsoft.graph.user"):
                    raise bad_request(f"Resource not found for the segment '{cast}'.", code="BadRequest")
                return self.list_members(request, claims, parts[1], parts[2] == "transitiveMembers", cast is not None)
        elif parts == ["$batch"]:
            if method != "POST":
                raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
            return run_batch(self, request)
        elif parts[0] == "communications" and len(parts) >= 2:
            if parts[1] == "getPresencesByUserId" and len(parts) == 2:
                if method != "POST":
                    raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
                return self.presences_by_user_id(request, claims)
            if parts[1] == "presences" and len(parts) == 3 and method == "GET":
                return self.user_presence(request, claims, parts[2])
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{parts[0]}'.")

    # ------------------------------------------------------------------ shaping

    def odata_id(self, user_id: str) -> str:
        return f"{self.base}/v2/{self.sim.tenant.tenant_id}/directoryObjects/{user_id}/Microsoft.DirectoryServices.User"

    def project_user(self, user: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
        """A user as ``$select`` asks (default set without); ``@odata.id`` when id is not selected."""
        names = select or DEFAULT_USER_SELECT
        out: dict[str, Any] = {}
        if "id" not in names:
            out["@odata.id"] = self.odata_id(user["id"])
        for name in names:
            if name in USER_PROPERTIES:
                out[name] = user[name] if name in user else unset_value(USER_PROPERTIES, name)
        return out

    @staticmethod
    def project_group(group: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
        names = select or DEFAULT_GROUP_SELECT
        return {n: group.get(n, unset_value(GROUP_PROPERTIES, n)) for n in names if n in GROUP_PROPERTIES}

    def context(self, entity_set: str, select: Sequence[str] | None, suffix: str = "") -> str:
        selected = f"({','.join(select)})" if select else ""
        return f"{self.base}/v1.0/$metadata#{entity_set}{selected}{suffix}"

    def link(self, path: str, params: list[tuple[str, str]]) -> str:
        query = "&".join(f"{name}={_quote(value)}" for name, value in params)
        return f"{self.base}/v1.0/{path}?{query}"

    def _page_fault(self, endpoint: str, page: int) -> int | str | None:
        fault = self.sim.switches.page_fault(endpoint, page)
        if isinstance(fault, int):
            messages = {500: ("generalException", "General exception while processing."),
                        502: ("BadGateway", "Bad Gateway."),
                        503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
                        504: ("UnknownError", "The operation has timed out.")}
            code, message = messages.get(fault, ("UnknownError", "An error occurred."))
            raise GraphError(fault, code, message)
        return fault

    # ------------------------------------------------------------------ listings

    def _listing(self, request: Request, endpoint: str, first_page: Callable[[], Sequence[Any]],
                 top: int, link_path: str, link_params: list[tuple[str, str]]) -> tuple[Sequence[Any], int, int, Any, str | None, int]:
        """Common paging: returns (chunk, total, page, fault, nextLink, offset)."""
        skiptoken = self._arg(request, "skiptoken")
        if skiptoken is not None:
            state = self.tokens.decode(_USERS_SKIP, skiptoken)
            if state is None or state.get("e") != endpoint:
                raise bad_request("Invalid skip token.", code="Request_BadRequest")
            items = self._recall(state["s"])
            if items is None or self.sim.clock.now() - float(state.get("t", 0)) > self.skiptoken_lifetime:
                raise GraphError(400, "Directory_ExpiredPageToken",
                                 "The specified page token value has expired and can no longer be included in your request.")
            key, offset, page = state["s"], int(state["o"]), int(state["p"])
        else:
            items = first_page()
            key, offset, page = self._remember(items), 0, 1
        fault = self._page_fault(endpoint, page)
        chunk = items[offset: offset + top]
        next_link = None
        if offset + top < len(items) and fault != SHORT:
            token = self.tokens.encode(_USERS_SKIP, {"e": endpoint, "s": key, "o": offset + top, "p": page + 1,
                                                    "t": self.sim.clock.now()})
            next_link = self.link(link_path, link_params + [("$skiptoken", token)])
        return chunk, len(items), page, fault, next_link, offset

    def _user_query(self, request: Request, collection: bool = True) -> tuple[list[str] | None, Filter | None, bool, bool, list[tuple[str, str]]]:
        """$select/$filter/$count of a user listing, validated; plus the params a nextLink keeps."""
        raw_select = self._arg(request, "select")
        select = parse_select(raw_select)
        if collection and select and SINGLE_USER_ONLY.intersection(select):
            raise GraphError(501, "NotImplemented", "This operation target is not yet supported.")
        advanced = self._count_requested(request)
        count = advanced
        raw_filter = self._arg(request, "filter")
        flt = Filter(raw_filter) if raw_filter else None
        if flt is not None:
            flt.require_allowed(advanced)
        if self._arg(request, "search") is not None and not self._eventual(request):
            raise unsupported_query("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
        if self._arg(request, "skip") is not None:
            raise unsupported_query("'$skip' is not supported by the service.")
        params: list[tuple[str, str]] = []
        if advanced:  # next links keep every query option; the client sends the header again
            params.append(("$count", "true"))
        if raw_select is not None:
            params.append(("$select", raw_select))
        if raw_filter is not None:
            params.append(("$filter", raw_filter))
        return select, flt, count, advanced, params

    def list_users(self, request: Request, claims: dict[str, Any]) -> Response:
        self.require(claims, USER_READ)
        select, flt, count, advanced, params = self._user_query(request)
        raw_top = self._arg(request, "top")
        top = parse_top(raw_top, self.users_page_size)
        if raw_top is not None:
            params.append(("$top", raw_top))
        raw_search, raw_order = self._arg(request, "search"), self._arg(request, "orderby")
        search = parse_search(raw_search) if raw_search is not None else None
        order = parse_orderby(raw_order) if raw_order is not None else None
        if order and order[0] not in ("displayName", "userPrincipalName") and not advanced:
            raise unsupported_query(f"Sorting by property '{order[0]}' is not supported without advanced query parameters.")
        if order and (flt or search) and not advanced:
            raise unsupported_query("Sorting not supported for current query.")
        params += [(name, value) for name, value in (("$search", raw_search), ("$orderby", raw_order)) if value is not None]
        tenant = self.sim.tenant
        chunk, total, page, fault, next_link, _ = self._listing(
            request, "users", lambda: self._user_ids(flt, search, order, raw_search), top, "users", params)
        value = [self.project_user(u, select) for u in tenant.get_many(chunk)]
        body: dict[str, Any] = {"@odata.context": self.context("users", select)}
        if count and self._arg(request, "skiptoken") is None:
            body["@odata.count"] = total
        if next_link:
            body["@odata.nextLink"] = next_link
        body["value"] = value
        return self.json(request, body, fault=fault, resource_unit=1 if select else 2)

    def _user_ids(self, flt: Filter | None, search: Callable[[dict], bool] | None,
                  order: tuple[str, bool] | None, raw_search: str | None) -> list[str]:
        """Ids of the live users a listing shows, filtered, searched and sorted (cached per tenant generation)."""
        tenant = self.sim.tenant
        base = (lambda: tenant.filtered_ids(flt.text, flt.matches)) if flt else tenant.live_ids
        if search is None and order is None:
            return base()

        def compute() -> list[str]:
            ids = base()
            users = tenant.lookup(ids)
            chosen = [i for i in ids if search is None or search(users[i])]
            if order is not None:
                name, descending = order
                chosen.sort(key=lambda i: str(users[i].get(name) or "").lower(), reverse=descending)
            return chosen

        return tenant.cached(("users", flt.text if flt else None, raw_search, order), compute)

    def count_users(self, request: Request, claims: dict[str, Any]) -> Response:
        self.require(claims, USER_READ)
        if not self._eventual(request):
            raise bad_request("$count is not currently supported.")
        raw_filter = self._arg(request, "filter")
        tenant = self.sim.tenant
        if raw_filter:
            flt = Filter(raw_filter)
            number = len(tenant.filtered_ids(flt.text, flt.matches))
        else:
            number = tenant.user_count()
        response = Response(str(number), content_type="text/plain;charset=utf-8")
        response.headers["OData-Version"] = "4.0"
        return response

    def get_user(self, request: Request, claims: dict[str, Any], key: str) -> Response:
        self.require(claims, USER_READ)
        select = parse_select(self._arg(request, "select"))
        user = self.sim.tenant.get_user(key)
        if user is None:
            raise GraphError(404, "Request_ResourceNotFound",
                             f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")
        body = {"@odata.context": self.context("users", select, "/$entity"), **self.project_user(user, select)}
        return self.json(request, body, resource_unit=1)

    # ------------------------------------------------------------------ delta

    def _gone(self, select: Sequence[str] | None) -> GraphError:
        location = f"{self.base}/v1.0/users/delta"
        if select:
            location += "?$select=" + _quote(",".join(select))
        return GraphError(410, "syncStateNotFound",
                          "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
                          {"Location": location})

    def users_delta(self, request: Request, claims: dict[str, Any]) -> Response:
        self.require(claims, USER_READ)
        for option in ("expand", "orderby"):
            if self._arg(request, option) is not None:
                raise unsupported_query()
        tenant = self.sim.tenant
        now = self.sim.clock.now()
        delta_token = self._arg(request, "deltatoken")
        skip_token = self._arg(request, "skiptoken")
        context_select: list[str] | None = None
        if delta_token is not None:
            if delta_token == "latest":
                select = parse_select(self._arg(request, "select"))
                raw_filter = self._arg(request, "filter")
                ids = delta_filter_ids(raw_filter) if raw_filter else None
                state = {"q": tenant.sequence, "sel": select, "ids": ids}
                return self._delta_page(request, [], 0, 1, state, mode="changes", context_select=select)
            state = self.tokens.decode(_DELTA_TOKEN, delta_token)
            if state is None:
                raise self._gone(None)
            select, ids = state.get("sel"), state.get("ids")
            if state.get("e") != self._delta_epoch or now - state["t"] > self.delta_token_retention or state["q"] > tenant.sequence:
                raise self._gone(select)
            until, entries = tenant.changes_since(state["q"])
            items = self._tracked(entries, select, set(ids) if ids else None)
            state = {"q": until, "sel": select, "ids": ids}
            key, offset, page, mode = self._remember(items), 0, 1, "changes"
        elif skip_token is not None:
            state = self.tokens.decode(_DELTA_SKIP, skip_token)
            if state is None or state.get("e") != self._delta_epoch:
                raise self._gone(state.get("sel") if state else None)
            snapshot = self._recall(state["s"])
            if snapshot is None:
                raise self._gone(state.get("sel"))
            items, key, offset, page, mode = snapshot, state["s"], int(state["o"]), int(state["p"]), state["m"]
        else:
            select = parse_select(self._arg(request, "select"))
            raw_filter = self._arg(request, "filter")
            ids = delta_filter_ids(raw_filter) if raw_filter else None
            until = tenant.sequence  # read before listing: later changes replay next round
            if ids:
                live = tenant.lookup(ids)
                items = [i for i in ids if i in live]
            else:
                items = tenant.live_ids()
            state = {"q": until, "sel": select, "ids": ids}
            key, offset, page, mode = self._remember(items), 0, 1, "initial"
            context_select = select
        return self._delta_page(request, items, offset, page, state, mode, context_select, key)

    @staticmethod
    def _tracked(entries: Sequence[DeltaEntry], select: Sequence[str] | None, wanted: set[str] | None) -> list[DeltaEntry]:
        """The changes a round reports: with ``$select`` only changes to selected properties,
        and a restore is no such change (microsoftgraph/microsoft-graph-docs#5821)."""
        tracked = set(select or DEFAULT_USER_SELECT)
        items = []
        for entry in entries:
            if wanted is not None and entry.user_id not in wanted:
                continue
            if entry.state == RESTORED_FULL and select:
                if not tracked & entry.properties:
                    continue
                entry = DeltaEntry(entry.user_id, PARTIAL, entry.properties)
            elif entry.state == PARTIAL and not tracked & entry.properties:
                continue
            items.append(entry)
        return items

    def _delta_page(self, request: Request, items: Sequence[Any], offset: int, page: int, state: dict[str, Any],
                    mode: str, context_select: Sequence[str] | None, key: str | None = None) -> Response:
        size = self.delta_page_size
        prefer = request.headers.get("Prefer", "")
        match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        if match:
            size = max(1, min(size, int(match.group(1))))
        fault = self._page_fault("delta", page)
        chunk = items[offset: offset + size]
        select = state.get("sel")
        value = self._render_delta(chunk, mode, select)
        body: dict[str, Any] = {"@odata.context": self.context("users", context_select)}
        if fault != SHORT:
            if offset + size < len(items):
                token = self.tokens.encode(_DELTA_SKIP, {**state, "s": key, "o": offset + size, "p": page + 1,
                                                         "m": mode, "e": self._delta_epoch})
                body["@odata.nextLink"] = f"{self.base}/v1.0/users/delta?$skiptoken={token}"
            else:
                token = self.tokens.encode(_DELTA_TOKEN, {"q": state["q"], "sel": select, "ids": state.get("ids"),
                                                          "t": self.sim.clock.now(), "e": self._delta_epoch})
                body["@odata.deltaLink"] = f"{self.base}/v1.0/users/delta?$deltatoken={token}"
        body["value"] = value
        return self.json(request, body, fault=fault, resource_unit=5)

    def _render_delta(self, chunk: Sequence[Any], mode: str, select: Sequence[str] | None) -> list[dict[str, Any]]:
        tenant = self.sim.tenant
        names = [n for n in (select or DEFAULT_USER_SELECT) if n != "id" and n in USER_PROPERTIES]
        if mode == "initial":
            users = tenant.lookup(chunk)
            return [self._delta_user(users[i], names) for i in chunk if i in users]
        entries: Sequence[DeltaEntry] = chunk
        users = tenant.lookup([e.user_id for e in entries if e.state in (FULL, RESTORED_FULL, PARTIAL)])
        out = []
        for entry in entries:
            if entry.state in (FULL, RESTORED_FULL, PARTIAL):
                user = users.get(entry.user_id)
                if user is None:  # removed since the round began
                    reason = "changed" if tenant.is_deleted(entry.user_id) else "deleted"
                    out.append({"id": entry.user_id, "@removed": {"reason": reason}})
                elif entry.state in (FULL, RESTORED_FULL):
                    out.append(self._delta_user(user, names))
                else:
                    out.append(self._delta_user(user, [n for n in names if n in entry.properties]))
            else:
                out.append({"id": entry.user_id, "@removed": {"reason": entry.state}})
        return out

    @staticmethod
    def _delta_user(user: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
        # "If the property has never been set before it will not be included in the response at all"
        out = {n: user[n] for n in names if n in user}
        out["id"] = user["id"]
        return out

    # ------------------------------------------------------------------ groups

    def list_groups(self, request: Request, claims: dict[str, Any]) -> Response:
        self.require(claims, GROUP_READ | {"GroupMember.Read.All"})
        raw_select = self._arg(request, "select")
        select = parse_select(raw_select, GROUP_PROPERTIES, "microsoft.graph.group")
        raw_filter = self._arg(request, "filter")
        advanced = self._count_requested(request)
        flt = Filter(raw_filter, GROUP_PROPERTIES) if raw_filter else None
        if flt is not None:
            flt.require_allowed(advanced)
        raw_top = self._arg(request, "top")
        top = parse_top(raw_top, 100)
        params = [(n, v) for n, v in (("$select", raw_select), ("$filter", raw_filter), ("$top", raw_top)) if v is not None]
        tenant = self.sim.tenant
        groups = [g for g in tenant.groups() if flt is None or flt.matches(g)]
        chunk, _, _, fault, next_link, _ = self._listing(request, "groups", lambda: groups, top, "groups", params)
        body: dict[str, Any] = {"@odata.context": self.context("groups", select)}
        if next_link:
            body["@odata.nextLink"] = next_link
        body["value"] = [self.project_group(g, select) for g in chunk]
        return self.json(request, body, fault=fault, resource_unit=2)

    def get_group(self, request: Request, claims: dict[str, Any], group_id: str) -> Response:
        self.require(claims, GROUP_READ | {"GroupMember.Read.All"})
        select = parse_select(self._arg(request, "select"), GROUP_PROPERTIES, "microsoft.graph.group")
        group = self.sim.tenant.group(group_id)
        if group is None:
            raise self._not_found(group_id)
        body = {"@odata.context": self.context("groups", select, "/$entity"), **self.project_group(group, select)}
        return self.json(request, body, resource_unit=1)

    @staticmethod
    def _not_found(key: str) -> GraphError:
        return GraphError(404, "Request_ResourceNotFound",
                          f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")

    def list_members(self, request: Request, claims: dict[str, Any], group_id: str, transitive: bool, users_only: bool) -> Response:
        self.require(claims, MEMBER_READ)
        select, flt, count, advanced, params = self._user_query(request)
        if users_only and not advanced:
            # an OData cast on a directory relationship is an advanced query
            raise unsupported_query(
                "The cast to 'microsoft.graph.user' is supported only with advanced query parameters. Try adding "
                "$count=true query parameter and ConsistencyLevel:eventual header. "
                "Refer to https://aka.ms/graph-docs/advanced-queries for more information"
            )
        raw_top = self._arg(request, "top")
        top = parse_top(raw_top, 100)
        if raw_top is not None:
            params.append(("$top", raw_top))
        tenant = self.sim.tenant
        if tenant.group(group_id) is None:
            raise self._not_found(group_id)

        def first() -> Sequence[tuple[str, str]]:
            members = tenant.members(group_id, transitive)
            if users_only or flt is not None:
                members = [m for m in members if m[0] == "user"]
            if flt is not None:
                users = tenant.lookup(i for _, i in members)
                members = [m for m in members if m[1] in users and flt.matches(users[m[1]])]
            return members

        chunk, total, _, fault, next_link, _ = self._listing(
            request, "members", first, top, f"groups/{group_id}/{'transitiveMembers' if transitive else 'members'}"
            + ("/microsoft.graph.user" if users_only else ""), params)
        users = tenant.lookup(i for kind, i in chunk if kind == "user")
        value = []
        for kind, object_id in chunk:
            if kind == "user" and object_id in users:
                value.append({"@odata.type": "#microsoft.graph.user", **self.project_user(users[object_id], select)})
            elif kind == "group":
                group = tenant.group(object_id)
                if group is not None:
                    group_select = [n for n in select if n in GROUP_PROPERTIES] if select else None
                    value.append({"@odata.type": "#microsoft.graph.group", **self.project_group(group, group_select)})
        body: dict[str, Any] = {"@odata.context": self.context("users" if users_only else "directoryObjects", select)}
        if count and self._arg(request, "skiptoken") is None:
            body["@odata.count"] = total
        if next_link:
            body["@odata.nextLink"] = next_link
        body["value"] = value
        return self.json(request, body, fault=fault, resource_unit=5 if transitive else 3)

    # ------------------------------------------------------------------ presence

    def user_presence(self, request: Request, claims: dict[str, Any], key: str) -> Response:
        self.require(claims, PRESENCE_READ)
        user = self.sim.tenant.get_user(key)
        if user is None:
            raise GraphError(404, "NotFound", f"The requested user '{key}' is invalid.")
        body = {"@odata.context": f"{self.base}/v1.0/$metadata#users('{user['id']}')/presence/$entity",
                **self.sim.tenant.presence(user["id"])}
        return self.json(request, body)

    def presences_by_user_id(self, request: Request, claims: dict[str, Any]) -> Response:
        self.require(claims, PRESENCE_READ)
        try:
            payload = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.") from None
        ids = payload.get("ids") if isinstance(payload, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise GraphError(400, "BadRequest", "The request body must contain 'ids', an array of user object ids.")
        if not ids:
            raise GraphError(400, "BadRequest", "At least one user id must be specified.")
        if len(ids) > MAX_PRESENCE_IDS:
            raise GraphError(400, "BadRequest", f"Too many ids in the request: {len(ids)}. The maximum number of ids is {MAX_PRESENCE_IDS}.")
        for user_id in ids:
            try:
                uuid.UUID(user_id)
            except ValueError:
                raise GraphError(400, "BadRequest", f"Invalid user id '{user_id}'. User ids must be GUIDs.") from None
        tenant = self.sim.tenant
        body = {"@odata.context": f"{self.base}/v1.0/$metadata#Collection(microsoft.graph.presence)",
                "value": [tenant.presence(user_id) for user_id in dict.fromkeys(ids)]}
        return self.json(request, body)
