"""A WSGI app served over TLS on 127.0.0.1 with a throwaway CA (trustme).

The simulators run on this: real HTTPS servers, so msal and requests talk to them
exactly as they would to the real services, verifying certificates against the CA
bundle this server writes.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import trustme
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Gateway_10 as WSGIGateway_10

_CA_LOCK = threading.Lock()
_CA: trustme.CA | None = None


def throwaway_ca() -> trustme.CA:
    """One CA per process, so several simulators share a bundle."""
    global _CA
    with _CA_LOCK:
        if _CA is None:
            _CA = trustme.CA()
        return _CA


class _Gateway(WSGIGateway_10):
    """cheroot's WSGI gateway, also handing the app its connection's socket under the
    key werkzeug uses, so a simulator can drop a connection mid-answer (a fault switch)."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["werkzeug.socket"] = self.req.conn.socket
        return environ


class LoopbackServer:
    """Serve ``app`` on ``https://127.0.0.1:<port>`` until :meth:`stop`.

    cheroot keeps HTTP/1.1 connections alive (werkzeug's development server closes
    every one), so clients pay the TLS handshake once per connection, as they do
    with the real services.

    :param app: A WSGI application.
    :param port: 0 picks a free port.
    :param threads: Worker threads answering requests at the same time.
    """

    def __init__(self, app: Callable[..., Any], port: int = 0, host: str = "127.0.0.1", threads: int = 16):
        self.app = app
        self.host = host
        self._port = port
        self._threads = threads
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="syncframe-tls-")
        self.ca_bundle = str(Path(self._dir.name) / "ca.pem")

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> "LoopbackServer":
        ca = throwaway_ca()
        ca.cert_pem.write_to_path(self.ca_bundle)
        os.chmod(self.ca_bundle, 0o644)
        server_cert = ca.issue_cert(self.host, "localhost")
        cert_path = Path(self._dir.name) / "server.pem"
        key_path = Path(self._dir.name) / "server.key"
        server_cert.cert_chain_pems[0].write_to_path(str(cert_path))
        server_cert.private_key_pem.write_to_path(str(key_path))
        os.chmod(key_path, 0o600)
        server = wsgi.Server((self.host, self._port), self.app, numthreads=self._threads, server_name="loopback", timeout=30, accepted_queue_timeout=1)
        server.gateway = _Gateway
        # the serving loop checks for stop() this often; cheroot's 0.5 s makes every
        # simulator shutdown (one per test) cost half a second
        server.expiration_interval = 0.02
        server.shutdown_timeout = 2
        server.ssl_adapter = BuiltinSSLAdapter(str(cert_path), str(key_path))
        server.prepare()  # binds, so the port is known before serving
        self._server = server
        self._thread = threading.Thread(target=server.serve, name=f"loopback-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._dir.cleanup()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
