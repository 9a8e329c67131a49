"""The WSGI application: instance lookup, switches, Basic auth, routing, JSON in and out.

Order per request: hidden capacity (429 at once, or a wait for a free place) -> latency
-> unknown instance (404) -> outage / throttling (5xx / 429) -> credentials (401)
-> route (404 / 405) -> write fault -> operation.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import time
from typing import Any, Callable, Iterable, Mapping

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .errors import ApiError, bad_request, server_fault
from .instance import Instance
from .log import WRITE_METHODS, RequestLog, RequestRecord
from .switches import Switches

URLS = Map(
    [
        Rule("/<instance>/services/identity/", endpoint="identities", methods=["GET", "POST"]),
        Rule("/<instance>/services/identity/<login>", endpoint="identity", methods=["GET", "PUT", "DELETE"]),
        Rule("/<instance>/services/identity/<login>/devices", endpoint="devices", methods=["POST"]),
        Rule("/<instance>/services/identity/<login>/devices/<int:device_id>", endpoint="device", methods=["DELETE"]),
        Rule("/<instance>/services/identity/<login>/sessions", endpoint="sessions", methods=["GET", "DELETE"]),
    ],
    strict_slashes=False,  # "identity" and "identity/" both list; no redirects
)

log = logging.getLogger("syncframe.pascom.simulator")

JSON = "application/json"
#: answer of a write whose response is lost by closing the connection
DROP = Response(status=599)


class RestApp:
    """The pascom REST API of several instances behind one server.

    :param instances: Instance name -> :class:`Instance` (shared, may grow while serving).
    :param switches: Switches for every instance (each instance has its own too).
    :param log: Where requests are counted.
    """

    def __init__(self, instances: Mapping[str, Instance], switches: Switches, log: RequestLog,
                 sleep: Callable[[float], None] = time.sleep):
        self.instances = instances
        self.switches = switches
        self.log = log
        self.sleep = sleep

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        name = request.path.lstrip("/").split("/", 1)[0] or None
        instance = self.instances.get(name) if name else None
        response = self._handle(request, instance)
        status = 0 if response is DROP else response.status_code
        # logged before answering, so a client that saw the answer finds it in the log
        self.log.add(RequestRecord(instance.name if instance else name, request.method, request.path, status))
        if response is DROP:
            _drop_connection(request)
        return response(environ, start_response)

    def _handle(self, request: Request, instance: Instance | None) -> Response:
        """The answer, or :data:`DROP`; requests past the hidden capacity are refused or queued."""
        switch_sets = (self.switches,) if instance is None else (self.switches, instance.switches)
        entered: list[Switches] = []
        try:
            for switches in switch_sets:
                entered.append(switches)
                refusal = switches.enter()
                if refusal is not None:
                    return _error_response(refusal)
            return self._serve(request, instance, switch_sets)
        finally:
            for switches in entered:
                switches.leave()

    def _serve(self, request: Request, instance: Instance | None, switch_sets: tuple[Switches, ...]) -> Response:
        is_write = request.method in WRITE_METHODS
        delay = sum(s.delay(is_write) for s in switch_sets)
        if delay > 0:
            self.sleep(delay)
        try:
            if instance is None:
                raise ApiError(404, "NOT_FOUND", "no such instance")
            for switches in switch_sets:
                refusal = switches.admit()
                if refusal is not None:
                    raise refusal
            self._authenticate(request, instance, switch_sets)
            try:
                endpoint, args = URLS.bind_to_environ(request.environ).match()
            except MethodNotAllowed:
                raise ApiError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
            except HTTPException:
                raise ApiError(404, "NOT_FOUND", "no such resource")
            fault = None
            if is_write:
                # every switch set counts the write, whichever fault wins
                fault = next((f for f in [s.write_fault() for s in switch_sets] if f is not None), None)
                if fault is not None and fault.lost is None:
                    raise server_fault(fault.status, fault.retry_after)
            response = self._dispatch(request, instance, endpoint, args.get("login"), args.get("device_id"))
            if fault is not None:  # the write happened; its answer is lost
                if fault.lost == "drop":
                    return DROP
                raise server_fault(502)
            return response
        except ApiError as error:
            return _error_response(error)
        except Exception:  # a simulator bug: answer like a server would, keep serving
            log.exception("pascom simulator failed on %s %s", request.method, request.path)
            return _error_response(server_fault(500))

    def _authenticate(self, request: Request, instance: Instance, switch_sets: tuple[Switches, ...]) -> None:
        auth = request.authorization
        ok = (
            auth is not None
            and auth.type == "basic"
            and hmac.compare_digest((auth.username or "").encode(), instance.username.encode())
            and hmac.compare_digest((auth.password or "").encode(), instance.password.encode())
            and not any(s.reject_credentials for s in switch_sets)
        )
        if not ok:
            raise ApiError(401, "UNAUTHORIZED", "valid Basic credentials required", None,
                           {"WWW-Authenticate": f'Basic realm="pascom {instance.name}"'})

    def _dispatch(self, request: Request, instance: Instance, endpoint: str, login: str | None,
                  device_id: int | None = None) -> Response:
        method = request.method
        if endpoint == "identities":
            if method == "POST":
                return _identities(instance, instance.create(_json_body(request)), 201)
            return _identities(instance, instance.list_json(), 200)
        assert login is not None
        if endpoint == "identity":
            if method == "PUT":
                return _identities(instance, instance.update(login, _json_body(request)), 200)
            if method == "DELETE":
                instance.delete(login)
                return Response(status=204)
            return _identities(instance, instance.get_json(login), 200)
        if endpoint == "devices":
            return _json(instance.add_device(login, _json_body(request)), 201)
        if endpoint == "device":
            assert device_id is not None
            instance.remove_device(login, device_id)
            return Response(status=204)
        if method == "DELETE":
            instance.end_sessions(login)
            return Response(status=204)
        return _json(instance.sessions(login), 200)


def _error_response(error: ApiError) -> Response:
    response = Response(error.body(), error.status, mimetype=JSON)
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def _drop_connection(request: Request) -> None:
    """Close the TCP connection without an answer (the client sees a connection error)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("simulated lost response")


def _json_body(request: Request) -> Any:
    if request.mimetype != JSON:
        raise bad_request("INVALID_CONTENT_TYPE", "send the body as Content-Type: application/json")
    try:
        return json.loads(request.get_data())
    except ValueError:
        raise bad_request("INVALID_JSON", "the body is not valid JSON")


def _identities(instance: Instance, body: bytes, status: int) -> Response:
    """An answer holding identity objects, reshaped when a test plays another instance."""
    return Response(instance.reshaped(body), status, mimetype=JSON)


def _json(value: Any, status: int) -> Response:
    return Response(json.dumps(value, separators=(",", ":")), status, mimetype=JSON)
