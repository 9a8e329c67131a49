"""Counters and a request log, for tests and the benchmark."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, NamedTuple

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


class RequestRecord(NamedTuple):
    """One request. ``status`` is 0 when the connection was dropped unanswered."""

    instance: str | None
    method: str
    path: str
    status: int


class _Tally:
    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def summary(self) -> dict[str, Any]:
        methods = dict(self.methods)
        return {
            "requests": sum(methods.values()),
            "writes": sum(n for m, n in methods.items() if m in WRITE_METHODS),
            "by_method": methods,
            "by_status": dict(self.statuses),
        }


class RequestLog:
    """Every request in order, with totals per method and status (thread-safe).

    :param keep: Keep the individual records (turn off for very long benchmarks).
    """

    def __init__(self, keep: bool = True):
        self.keep = keep
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.records: list[RequestRecord] = []
            self._all = _Tally()
            self._per_instance: dict[str | None, _Tally] = {}

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            if self.keep:
                self.records.append(record)
            for tally in (self._all, self._per_instance.setdefault(record.instance, _Tally())):
                tally.methods[record.method] += 1
                tally.statuses[record.status] += 1

    def counters(self, instance: str | None = None) -> dict[str, Any]:
        """``{"requests", "writes", "by_method", "by_status"}``: all instances, or one.

        Writes are POST/PUT/DELETE requests, whatever their answer.
        """
        with self._lock:
            tally = self._all if instance is None else self._per_instance.get(instance, _Tally())
            return tally.summary()
