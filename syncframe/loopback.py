"""A WSGI app served over TLS on 127.0.0.1 with a throwaway CA (trustme).

The simulators run on this: real HTTPS servers, so msal and requests talk to them
exactly as they would to the real services, verifying certificates against the CA
bundle this server writes.
"""

from __future__ import annotations

import os
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import trustme
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

_CA_LOCK = threading.Lock()
_CA: trustme.CA | None = None


def throwaway_ca() -> trustme.CA:
    """One CA per process, so several simulators share a bundle."""
    global _CA
    with _CA_LOCK:
        if _CA is None:
            _CA = trustme.CA()
        return _CA


class _QuietHandler(WSGIRequestHandler):
    """Simulators count requests themselves; no access log on the terminal."""

    # werkzeug writes headers and body separately and closes every connection; with
    # Nagle's algorithm each request then waits on a delayed ACK (~4x slower)
    disable_nagle_algorithm = True
    # HTTP/1.1 keeps connections alive (the server is threaded), so clients pay the TLS
    # handshake once per connection, as with the real services, not once per request
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LoopbackServer:
    """Serve ``app`` on ``https://127.0.0.1:<port>`` until :meth:`stop`.

    :param app: A WSGI application.
    :param port: 0 picks a free port.
    """

    def __init__(self, app: Callable[..., Any], port: int = 0, host: str = "127.0.0.1"):
        self.app = app
        self.host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="syncframe-tls-")
        self.ca_bundle = str(Path(self._dir.name) / "ca.pem")

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> "LoopbackServer":
        ca = throwaway_ca()
        ca.cert_pem.write_to_path(self.ca_bundle)
        os.chmod(self.ca_bundle, 0o644)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(self.host, "localhost").configure_cert(context)
        self._server = make_server(
            self.host, self._port, self.app, threaded=True, ssl_context=context, request_handler=_QuietHandler
        )
        # a short poll interval: stop() waits at most this long for the serving loop
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"loopback-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._dir.cleanup()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
