"""Unique extensions and the pool new users draw the lowest free number from (D / A pool).

Allocation is amortised O(log n): a cursor walks the pool once, and numbers freed
below the cursor go on a min-heap, so 100,000 creates do not rescan the pool.
"""

from __future__ import annotations

import heapq


class ExtensionPool:
    """Which extensions are taken, and the next free one of ``pool``.

    :param pool: The numbers auto-assignment may use, e.g. ``range(100, 1000)``.
    """

    def __init__(self, pool: range = range(100, 1000)):
        self.pool = pool
        self.used: set[str] = set()
        self._cursor = 0  # index into pool: every number before it is used or on the heap
        self._freed: list[int] = []

    def grow(self, size: int) -> None:
        """Make the pool at least ``size`` numbers long (same first number and step;
        numbers already handed out keep their places)."""
        if len(self.pool) < size:
            self.pool = range(self.pool.start, self.pool.start + size * self.pool.step, self.pool.step)

    def __contains__(self, extension: str) -> bool:
        return extension in self.used

    def take(self, extension: str) -> None:
        """Mark an explicitly chosen extension as used (caller checked it is free)."""
        self.used.add(extension)

    def release(self, extension: str) -> None:
        self.used.discard(extension)
        if not extension.isdigit() or str(int(extension)) != extension:
            return  # '0100' is not pool number 100
        number = int(extension)
        if number in self.pool and self.pool.index(number) < self._cursor:
            heapq.heappush(self._freed, number)

    def next_free(self) -> str | None:
        """The lowest free pool number (marked used), or None when the pool is exhausted."""
        while self._freed:
            number = heapq.heappop(self._freed)
            if str(number) not in self.used:
                self.used.add(str(number))
                return str(number)
        while self._cursor < len(self.pool):
            candidate = str(self.pool[self._cursor])
            self._cursor += 1
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        return None
