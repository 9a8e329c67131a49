"""A loopback TCP proxy a test can cut and restore: a database server going away and
coming back without stopping the shared server other tests use."""

from __future__ import annotations

import socket
import threading


class CuttableProxy:
    """Forwards TCP connections from a loopback port to ``upstream``.

    :meth:`cut` drops every open connection and closes new ones at once (as while a
    server restarts); :meth:`restore` lets them through again; :meth:`close` ends it.
    """

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.closing = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                if not self.up.is_set():  # cut while connecting: this one goes too
                    client.close()
                    server.close()
                    continue
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> int:
        """Drop every open connection and close new ones; how many were dropped."""
        with self.lock:
            self.up.clear()
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        return len(pairs)

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.closing = True
        self.cut()
        self.listener.close()
