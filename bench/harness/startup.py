"""Scenario 7: start-up. ``syncframe --version`` and ``syncframe --help`` against a bare
``python -c pass`` of the same interpreter, each run ``rounds`` times; medians.

Start-up is what every cron run, every ``--help`` and every shell completion pays.
The command modules import click only; SQLAlchemy, msal, requests, rich's tables
and the plugins load when a command needs them. The ratio to a bare interpreter
says how much syncframe adds, whatever the machine's speed.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any, Callable

from .measure import run_measured, syncframe_argv

Log = Callable[[str], None]


def startup(rounds: int, log: Log) -> dict[str, Any]:
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "syncframe --version": syncframe_argv("--version"),
        "syncframe --help": syncframe_argv("--help"),
    }
    out: dict[str, Any] = {"rounds": rounds}
    for label, argv in commands.items():
        runs = [run_measured(argv, timeout=60) for _ in range(rounds)]
        failed = [r for r in runs if r.returncode != 0]
        if failed:
            out[label] = {"error": failed[0].stderr[-500:]}
            continue
        out[label] = {
            "wall_s": round(statistics.median(r.wall_s for r in runs), 4),
            "cpu_s": round(statistics.median(r.cpu_s for r in runs), 4),
        }
        log(f"  {label}: median {out[label]['wall_s'] * 1000:.0f} ms wall, {out[label]['cpu_s'] * 1000:.0f} ms CPU")
    return out
