"""Log lines on stderr: rich on a terminal, plain timestamped lines in a pipe (journald, a file)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from . import make_console


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Plain log lines on whatever ``sys.stderr`` is at the time of writing."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(verbose: int) -> None:
    """Logs on stderr: rich on a terminal, one plain timestamped line each in a pipe."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    if not any(getattr(h, "syncframe", False) for h in root.handlers):
        handler: logging.Handler
        if sys.stderr.isatty():
            from rich.logging import RichHandler

            handler = RichHandler(console=make_console(stderr=True), show_path=False, markup=False)
        else:
            handler = _StderrHandler()
        handler.syncframe = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # third-party debug logs can print request bodies (tokens): keep them at INFO at most
    # (plugins cap their own libraries' loggers the same way)
    for noisy in ("urllib3", "vcr"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))
