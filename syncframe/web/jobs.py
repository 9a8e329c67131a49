"""Work started from the console that outlives a request: runs and interactive sign-ins.

Each job runs in a thread of the web process; pages poll its state through htmx.
A run goes through :class:`~syncframe.engine.ConnectorRunner` under the connector's
lock, exactly as ``syncframe run`` does, so a run from the CLI, ``serve`` or another
console is reported as "locked" instead of running twice.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from ..connector import load_profile
from ..contracts import Progress
from ..errors import ConfigError, LockedError, SyncframeError

#: interactive lines a job keeps (a device-code sign-in prints a handful)
_MAX_LINES = 50


@dataclass
class Job:
    """One run or sign-in of one connector, as the console shows it."""

    connector: str
    kind: str  # "run" | "authenticate"
    operator: str
    state: str = "running"  # running | done | locked | failed
    phase: str = "starting"
    done: int = 0
    total: int | None = None
    lines: list[str] = field(default_factory=list)
    message: str | None = None
    report: dict[str, Any] | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def running(self) -> bool:
        return self.state == "running"

    def echo(self, line: str) -> None:
        self.lines = (self.lines + [str(line)])[-_MAX_LINES:]


class JobBoard:
    """The console's jobs, one per connector and kind at a time."""

    def __init__(self, store: Any, pm: Any):
        self.store = store
        self.pm = pm
        self._jobs: dict[tuple[str, str], Job] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        #: set when the console shuts down: runs stop between writes (as on SIGTERM in serve)
        self.stopping = threading.Event()

    def get(self, connector: str, kind: str) -> Job | None:
        with self._lock:
            return self._jobs.get((connector, kind))

    def start_run(self, name: str, operator: str) -> Job:
        """Start ``run`` of connector ``name`` in a thread (recorded with ``operator``)."""
        connector = self._connector(name)
        return self._start(name, "run", operator, lambda job: self._run(job, connector))

    def start_authenticate(self, name: str, operator: str) -> Job:
        """Start the source's interactive sign-in; its instructions appear as the job's lines."""
        connector = self._connector(name)
        return self._start(name, "authenticate", operator, lambda job: self._authenticate(job, connector))

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every thread started so far (shutdown, tests)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop runs between writes and wait for them (a sign-in waiting for a person is left)."""
        self.stopping.set()
        for (_, kind), job in list(self._jobs.items()):
            if kind == "run" and job.running:
                job.phase = "stopping: the console shuts down"
        for thread in list(self._threads):
            if thread.name.startswith("syncframe-web-run-"):
                thread.join(timeout)

    # --- internals -------------------------------------------------------------------

    def _connector(self, name: str) -> Any:
        row = self.store.get_connector(name)
        if row is None:
            raise ConfigError(f"no connector named {name!r}")
        return load_profile(row.profile_text, self.pm, name)

    def _start(self, name: str, kind: str, operator: str, work: Callable[[Job], None]) -> Job:
        with self._lock:
            current = self._jobs.get((name, kind))
            if current is not None and current.running:
                return current
            job = Job(name, kind, operator)
            self._jobs[(name, kind)] = job
        self.store.record_decision(name, kind, name, operator, {"via": "web"})
        thread = threading.Thread(target=self._guarded, args=(job, work), name=f"syncframe-web-{kind}-{name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    @staticmethod
    def _guarded(job: Job, work: Callable[[Job], None]) -> None:
        try:
            work(job)
        except LockedError as exc:
            job.state, job.message = "locked", str(exc)
        except SyncframeError as exc:
            job.state, job.message = "failed", str(exc)
        except Exception as exc:  # the console stays up; the page shows what broke
            job.state, job.message = "failed", f"{type(exc).__name__}: {exc}"

    def _run(self, job: Job, connector: Any) -> None:
        from ..engine import ConnectorRunner

        runner = ConnectorRunner(
            connector,
            self.pm,
            self.store,
            progress=_progress_into(job),
            echo=job.echo,
            stop=self.stopping,
            release=f"syncframe run {connector.name}",
        )
        outcome = runner.run(holder=f"syncframe web ({job.operator})", operator=job.operator)
        job.report = outcome.report.to_dict()
        job.phase = "finished"
        job.state, job.message = "done", f"run {outcome.report.run_id}: {outcome.status}"

    def _authenticate(self, job: Job, connector: Any) -> None:
        context = connector.context(token_store=self.store.token_store(f"{connector.name}:source"), echo=job.echo)
        source = connector.open_source(context)
        job.phase = "waiting for the sign-in"
        try:
            job.message = source.authenticate()
        finally:
            source.close()
        job.state, job.phase = "done", "finished"


def _progress_into(job: Job) -> Callable[[str, int | None], contextlib.AbstractContextManager[Progress]]:
    @contextlib.contextmanager
    def bar(description: str, total: int | None = None) -> Iterator[Progress]:
        job.phase, job.done, job.total = description, 0, total

        def advance(n: int, new_total: int | None = None) -> None:
            job.done += n
            if new_total is not None:
                job.total = new_total

        yield advance

    return bar
