"""Helpers for the GOOGLE tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

from syncframe import Identity, ReadResult


class Waits(list):
    """A RetryPolicy ``sleep`` that records what it was asked to wait, and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def by_username(result: ReadResult) -> dict[str, Identity]:
    return {i.username: i for i in result.identities}


def in_scope(result: ReadResult) -> set[str]:
    """Usernames the host would manage."""
    return {i.username for i in result.identities if i.out_of_scope is None}


def api_queries(sim: Any, path_end: str = "/users") -> list[dict[str, str]]:
    """The query parameters of every Directory API request to a path ending in ``path_end``."""
    from urllib.parse import parse_qsl

    return [dict(parse_qsl(r.query)) for r in sim.requests if r.path.startswith("/admin/directory/v1") and r.path.endswith(path_end)]
