"""Work started from the console that outlives a request: runs and interactive sign-ins.

Each job runs in a thread of the web process; pages poll its state through htmx.
A run goes through :class:`~syncframe.engine.ConnectorRunner` under the connector's
lock, exactly as ``syncframe run`` does, so a run from the CLI, ``serve`` or another
console is reported as "locked" instead of running twice. When workers are in use
(:mod:`.queue`), a run is deferred to them instead and its job followed: queued,
running (with the writes its run journaled so far), then the run's outcome.
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
    #: the queue's job id, when a worker runs it
    queue_job: int | None = None
    #: the connector's newest run before this job: the job's run is the next one
    after_run: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def running(self) -> bool:
        return self.state == "running"

    def echo(self, line: str) -> None:
        self.lines = (self.lines + [str(line)])[-_MAX_LINES:]


class JobBoard:
    """The console's jobs, one per connector and kind at a time."""

    def __init__(self, store: Any, pm: Any, queue: Any = None):
        self.store = store
        self.pm = pm
        #: a :class:`~.queue.RunQueue`: runs go to the workers when it is in use
        self.queue = queue
        self._jobs: dict[tuple[str, str], Job] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        #: set when the console shuts down: runs stop between writes (as on SIGTERM in serve)
        self.stopping = threading.Event()

    def get(self, connector: str, kind: str) -> Job | None:
        with self._lock:
            job = self._jobs.get((connector, kind))
        if kind == "run" and self.queue is not None and (job is None or not job.running):
            job = self._adopt(connector, known=job.queue_job if job is not None else None) or job
        if job is not None and job.queue_job is not None and job.running:
            self._follow(job)
        return job

    def start_run(self, name: str, operator: str) -> Job:
        """Start ``run`` of connector ``name`` (recorded with ``operator``): deferred to
        the workers when they are in use, else in a thread of this process."""
        connector = self._connector(name)
        if self.queue is not None and self.queue.in_use():
            return self._defer(name, operator)
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

    def _defer(self, name: str, operator: str) -> Job:
        with self._lock:
            current = self._jobs.get((name, "run"))
        if current is not None and current.running:
            return current
        newest = [r.id for r in self.store.runs(name, limit=1)]
        job = Job(name, "run", operator, after_run=newest[0] if newest else 0)
        job.queue_job = self.queue.defer(name)
        job.phase = f"queued as job {job.queue_job}: waiting for a worker"
        with self._lock:
            self._jobs[(name, "run")] = job
        self.store.record_decision(name, "run", name, operator, {"via": "web", "queue_job": job.queue_job})
        return job

    def _adopt(self, name: str, known: int | None) -> Job | None:
        """A run of ``name`` the workers have waiting or running, queued elsewhere (the
        schedule, the CLI, another console): followed here as if started here.

        :param known: The job this console followed to its end already: its run can
            finish a moment before the queue marks the job done; it is not adopted again.
        """
        job_id = self.queue.active_job(name)
        if job_id is None or job_id == known:
            return None
        newest = self.store.runs(name, limit=1)
        # a run that has not finished yet is (most likely) this job's own
        after_run = (newest[0].id - (1 if newest[0].finished_at is None else 0)) if newest else 0
        asked = next((d.operator for d in self.store.decisions(name, limit=20) if d.kind == "run" and (d.detail or {}).get("queue_job") == job_id), None)
        job = Job(name, "run", asked or "the schedule or the CLI", phase=f"queued as job {job_id}", queue_job=job_id, after_run=after_run)
        with self._lock:
            self._jobs[(name, "run")] = job
        return job

    def _follow(self, job: Job) -> None:
        """Bring a queued job's state up to date from the queue and the run it started."""
        status = self.queue.job(job.queue_job).status
        runs = [r for r in self.store.runs(job.connector, limit=20) if r.id > job.after_run and r.kind == "run"]
        run = min(runs, key=lambda r: r.id) if runs else None
        if status == "todo":
            job.phase = f"queued as job {job.queue_job}: waiting for a worker"
        elif status == "doing":
            job.phase = f"a worker runs job {job.queue_job}"
            if run is not None:
                job.phase += f" (run {run.id})"
                job.done = len(self.store.journal(run.id))  # the writes journaled so far
        elif status in ("gone", "succeeded", "failed", "cancelled", "aborted"):
            if run is not None and run.finished_at is not None:
                job.report = {"run_id": run.id, "status": run.status, "counts": dict(run.counts or {}), "error": run.error}
                job.phase = "finished"
                job.state = "failed" if run.status == "failed" else "done"
                job.message = f"run {run.id}: {run.status}" + (f": {run.error}" if run.error and run.status == "failed" else "")
            elif status in ("gone", "succeeded"):  # the worker found it locked or the connector gone
                job.state, job.message = "locked", f"job {job.queue_job} ran no run: another run of {job.connector} held its lock"
            else:
                job.state, job.message = "failed", f"job {job.queue_job} ended {status} before its run finished"

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
