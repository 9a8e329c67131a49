"""Run one child process and measure it: wall time, CPU seconds, peak RSS.

Peak RSS comes from ``os.wait4`` on that one child (``ru_maxrss``), taken by a
small launcher process (:mod:`harness.launch`), so the figure belongs to the
measured process alone: not to the harness (whose memory image a child forked
straight from it would carry in its high-water mark) nor to earlier children
(``RUSAGE_CHILDREN`` would report the largest child so far).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent


@dataclass
class Measured:
    """What one child process cost."""

    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def json(self) -> Any:
        """The child's stdout as JSON (workers and ``--json`` commands print one document)."""
        text = self.stdout.strip()
        if not text:
            raise ValueError(f"{self.argv[:3]} printed nothing (exit {self.returncode}); stderr: {self.stderr[-2000:]}")
        return json.loads(text)

    def summary(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "exit_code": self.returncode,
        }


def run_measured(argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 1800, cwd: str | None = None) -> Measured:
    """Run ``argv`` to the end, through :mod:`harness.launch`, and measure it.

    The launcher (a small ``python -S`` process) forks and execs ``argv`` and
    reads its resources with ``wait4``, so the peak RSS is the command's own and
    not the harness's (see launch.py). Output goes to temporary files (a pipe
    could fill and stall the child).
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        result_file = os.path.join(tmp, "usage.json")
        launcher = [sys.executable, "-S", str(HERE / "launch.py"), result_file, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(launcher, stdout=out, stderr=err, env=full_env, cwd=cwd or str(REPO), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - start
        try:
            with open(result_file, encoding="utf-8") as fh:
                usage = json.load(fh)
        except (OSError, ValueError):
            usage = {"exit": -9, "wall_s": wall, "user_s": 0.0, "sys_s": 0.0, "maxrss_kb": 0}
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Measured(
        argv=list(argv),
        returncode=int(usage["exit"]),
        wall_s=float(usage["wall_s"]),
        user_s=float(usage["user_s"]),
        sys_s=float(usage["sys_s"]),
        peak_rss_mb=usage["maxrss_kb"] / 1024.0,  # Linux reports KiB
        stdout=stdout,
        stderr=stderr,
    )


def worker_argv(module: str, *args: str) -> list[str]:
    """``python -m harness.<module> args...`` with the venv's interpreter."""
    return [sys.executable, "-m", f"harness.{module}", *args]


def worker_env() -> dict[str, str]:
    """Lets ``python -m harness.x`` find the harness package."""
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": str(BENCH_DIR) + (os.pathsep + path if path else "")}


def syncframe_argv(*args: str) -> list[str]:
    """The ``syncframe`` console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("syncframe")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "syncframe.cli", *args]
