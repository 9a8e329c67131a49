"""Helpers for the MSUSER tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

from syncframe import Identity
from syncframe_msuser.simulator import GraphSimulator


class Waits(list):
    """A RetryPolicy ``sleep`` that records what it was asked to wait, and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def view(result: Any, previous: dict[str, Identity] | None = None) -> dict[str, Identity]:
    """The full view after a read, as the engine would keep it."""
    current = dict(previous or {}) if result.incremental else {}
    for source_id in result.removed:
        current.pop(source_id, None)
    current.update({i.source_id: i for i in result.identities})
    return current


def graph_paths(sim: GraphSimulator) -> dict[str, int]:
    """Requests per Graph path (login requests left out)."""
    return {path: n for path, n in sim.path_counts().items() if path.startswith("/v1.0/")}
