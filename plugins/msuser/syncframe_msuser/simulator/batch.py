"""``POST /v1.0/$batch``: JSON batching as Graph does it (at most 20 requests, unique ids,
``dependsOn`` with 424 Failed Dependency, each inner request throttled on its own)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from .odata import GraphError

if TYPE_CHECKING:  # pragma: no cover
    from .graph import GraphService

MAX_REQUESTS = 20


def run_batch(service: "GraphService", request: Request) -> Response:
    try:
        payload = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise GraphError(400, "BadRequest", "Invalid batch payload format.") from None
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise GraphError(400, "BadRequest", "Invalid batch payload format.")
    if len(items) > MAX_REQUESTS:
        raise GraphError(400, "BadRequest", f"The number of requests in a batch exceeds the limit of {MAX_REQUESTS}.")
    ids = [str(item.get("id")) for item in items if isinstance(item, dict)]
    if len(ids) != len(items) or len(set(ids)) != len(ids):
        raise GraphError(400, "BadRequest", "Batch request ids must be unique and present.")
    statuses: dict[str, int] = {}
    responses = []
    for item in items:
        inner_id = str(item["id"])
        failed = [d for d in item.get("dependsOn") or [] if statuses.get(str(d), 0) >= 400 or str(d) not in statuses]
        if failed:
            statuses[inner_id] = 424
            responses.append({"id": inner_id, "status": 424, "headers": {},
                              "body": {"error": {"code": "Request_FailedDependency", "message": "Failed dependency."}}})
            continue
        status, headers, body = _run_one(service, request, item)
        statuses[inner_id] = status
        responses.append({"id": inner_id, "status": status, "headers": headers, "body": body})
    return service.json(request, {"responses": responses})


def _run_one(service: "GraphService", outer: Request, item: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    url = str(item.get("url") or "")
    method = str(item.get("method") or "GET").upper()
    if not url.startswith("/"):
        url = "/" + url
    headers = {"Authorization": outer.headers.get("Authorization", "")}
    headers.update({str(k): str(v) for k, v in (item.get("headers") or {}).items()})
    body = item.get("body")
    builder = EnvironBuilder(path="/v1.0" + url.split("?", 1)[0], query_string=url.partition("?")[2], method=method,
                             headers=headers, data=json.dumps(body) if body is not None else None)
    environ = builder.get_environ()
    environ["sim.request_id"] = str(uuid.uuid4())
    environ["sim.client_request_id"] = outer.environ["sim.client_request_id"]
    inner = Request(environ)
    throttled, retry_after = service.sim.switches.throttle_now("graph")
    if throttled:
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        response = service.error(inner, GraphError(429, "TooManyRequests", "Too many requests.", extra))
    else:
        response = service.handle(inner, inner.path[len("/v1.0"):])
    kept = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after", "location", "odata-version", "x-ms-resource-unit")}
    data = response.get_data(as_text=True)
    try:
        parsed: Any = json.loads(data) if data else None
    except ValueError:
        parsed = data
    return response.status_code, kept, parsed
