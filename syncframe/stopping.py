"""Stopping cleanly on a signal: the handler only sets an event; a run checks it
between two writes, journals what was in flight and ends as ``aborted``.

``syncframe run`` stops on SIGTERM (Ctrl-C already stops it between writes);
``syncframe serve`` on SIGTERM and SIGINT, where a second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from typing import Any, Callable, Iterable


class StopOnSignals:
    """While installed, the given signals set ``stop`` and call ``announce`` with the signal's name.

    Installs nothing outside the main thread (Python delivers signals there only).
    """

    def __init__(
        self,
        stop: threading.Event,
        signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
        announce: Callable[[str], None] = lambda name: None,
    ):
        self.stop = stop
        self.signals = tuple(signals)
        self.announce = announce
        self.received = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.received += 1
        if self.received > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.announce(signal.Signals(signum).name)
        self.stop.set()

    def __enter__(self) -> "StopOnSignals":
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
