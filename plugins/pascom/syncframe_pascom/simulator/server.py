"""The simulator: several instances behind one loopback HTTPS server."""

from __future__ import annotations

import threading
from typing import Any

from syncframe.sdk import LoopbackServer

from .app import RestApp
from .instance import DEFAULT_ROLES, Instance
from .log import RequestLog, RequestRecord
from .switches import Switches


class PascomSimulator:
    """A local pascom REST API. See the package docstring for the whole API.

    :param keep_log: Keep every request record (counters are kept either way).
    :param threads: Requests answered at the same time (more wait to be accepted).
    """

    def __init__(self, keep_log: bool = True, threads: int = 16):
        self.threads = threads
        self.instances: dict[str, Instance] = {}
        self.switches = Switches()
        self.log = RequestLog(keep=keep_log)
        self.app = RestApp(self.instances, self.switches, self.log)
        self._server: LoopbackServer | None = None
        self._lock = threading.Lock()

    # --- instances ---------------------------------------------------------------

    def add_instance(
        self,
        name: str = "acme",
        password: str | None = None,
        pool: range = range(100, 1000),
        username: str = "moby",
        roles: tuple[str, ...] = DEFAULT_ROLES,
        strict_roles: bool = False,
        seed_admin: bool = True,
    ) -> Instance:
        """Add an instance served at ``/<name>/services/``; see :class:`Instance`."""
        with self._lock:
            if name in self.instances:
                raise ValueError(f"instance {name} exists")
            instance = Instance(name, password=password, pool=pool, username=username, roles=roles,
                                strict_roles=strict_roles, seed_admin=seed_admin)
            self.instances[name] = instance
            return instance

    def copy_instance(self, source: str, name: str) -> Instance:
        """Add instance ``name`` as a copy of instance ``source`` (see :meth:`Instance.copy_as`)."""
        with self._lock:
            if name in self.instances:
                raise ValueError(f"instance {name} exists")
            twin = self.instances[name] = self.instances[source].copy_as(name)
            return twin

    def instance(self, name: str) -> Instance:
        return self.instances[name]

    # --- server ------------------------------------------------------------------

    def start(self) -> "PascomSimulator":
        if self._server is None:
            self._server = LoopbackServer(self.app, threads=self.threads).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "PascomSimulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` (no instance)."""
        assert self._server is not None, "simulator not started"
        return self._server.url

    @property
    def ca_bundle(self) -> str:
        assert self._server is not None, "simulator not started"
        return self._server.ca_bundle

    def instance_url(self, name: str) -> str:
        """``https://127.0.0.1:<port>/<name>`` (what a profile's ``url`` holds)."""
        return f"{self.url}/{name}"

    def services_url(self, name: str) -> str:
        """``https://127.0.0.1:<port>/<name>/services/`` (the REST base URL)."""
        return f"{self.url}/{name}/services/"

    # --- counters ----------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, in order (when ``keep_log``)."""
        return list(self.log.records)

    def counters(self, instance: str | None = None) -> dict[str, Any]:
        """``{"requests", "writes", "by_method", "by_status"}`` for all instances or one."""
        return self.log.counters(instance)

    def reset_counters(self) -> None:
        self.log.clear()
