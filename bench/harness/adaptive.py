"""Scenario 9: adaptive concurrency against a phone system of unknown capacity.

The pascom simulator gets a hidden capacity of K requests in progress at once
(``Switches.limit_capacity``): past it, it answers 429 at once (with
``Retry-After: 1``, or bare: then the client backs off 2, 4, 8, ... seconds), or it
queues the extra requests (slows down). syncframe is not told K.
The same initial import runs with the adaptive limit (cap 32) and with fixed 8 and
fixed 32, each on fresh simulators and a fresh state file: wall time and 429 answers
side by side, and the adaptive run's wall time over the best fixed one's.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from .scenarios import _run_figures, _syncframe_run
from .sims import Lab

Log = Callable[[str], None]

#: (label, the profile's concurrency, adaptive_concurrency)
SETTINGS = (("adaptive", 32, True), ("fixed 8", 8, False), ("fixed 32", 32, False))
#: what the phone system does past its capacity: (label, over, Retry-After)
BEHAVIOURS = (("429", "429", 1.0), ("429 bare", "429", None), ("slow", "slow", None))
#: the simulator answers this many requests at once; the capacity, not its threads, must be the limit
SERVER_THREADS = 64


def adaptive_vs_fixed(n: int, capacity: int, graph_latency: float, pascom_latency: float, log: Log,
                      behaviours: tuple[str, ...] | None = None, timeout: float = 900) -> dict[str, Any]:
    """Every setting against every behaviour (or those named) of a phone system with ``capacity`` places.

    The best fixed setting is the faster of fixed 8 and fixed 32, whatever its status
    (a fixed 32 that lost users to 429s still sets the time to beat)."""
    out: dict[str, Any] = {"users": n, "capacity": capacity, "pascom_latency_s": pascom_latency, "behaviours": {}}
    for label, over, retry_after in BEHAVIOURS:
        if behaviours is not None and label not in behaviours:
            continue
        runs = {name: _import(n, capacity, over, retry_after, concurrency, adaptive, graph_latency, pascom_latency, timeout)
                for name, concurrency, adaptive in SETTINGS}
        for name, run in runs.items():
            log(f"  past K={capacity} {label:4s} {name:9s}: {run['wall_s']:.1f} s, {run['over_capacity']} answered 429, "
                f"{run['pascom_users_after']:,} users, status {run['status']}, peak {run['peak_in_progress']} in progress")
        fixed = [r["wall_s"] for name, r in runs.items() if name != "adaptive"]
        best = min(fixed) if fixed else None
        out["behaviours"][label] = {
            "over": over,
            "retry_after_s": retry_after,
            "runs": runs,
            "best_fixed_s": best,
            "adaptive_over_best": round(runs["adaptive"]["wall_s"] / best, 3) if best else None,
        }
    return out


def _import(n: int, capacity: int, over: str, retry_after: float | None, concurrency: int, adaptive: bool,
            graph_latency: float, pascom_latency: float, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sf-bench-adaptive-") as tmp:
        workdir = Path(tmp)
        lab = Lab(n, graph_latency, pascom_latency, concurrency, workdir).start()
        try:
            sim = lab.pascom_sim
            sim.stop()  # again with enough server threads: the hidden capacity is the only limit
            sim.threads = SERVER_THREADS
            sim.start()
            switches = lab.pascom.instance.switches
            switches.limit_capacity(capacity, over=over, retry_after=retry_after)
            profile = workdir / "bench.toml"
            text = lab.profile_text().replace(f"concurrency = {concurrency}\n",
                                              f"concurrency = {concurrency}\nadaptive_concurrency = {str(adaptive).lower()}\n", 1)
            profile.write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            measured, report, counts = _syncframe_run(lab, profile, f"sqlite:///{workdir / 'state.db'}", timeout)
            figures = _run_figures(measured, report, counts)
            figures.update(
                harness_wall_s=round(time.perf_counter() - t0, 3),
                concurrency=concurrency,
                adaptive=adaptive,
                over_capacity=switches.over_capacity,
                peak_in_progress=switches.peak_in_progress,
                pascom_users_after=lab.pascom_user_count(),
            )
            figures.pop("read_stats", None)
            return figures
        finally:
            lab.stop()
