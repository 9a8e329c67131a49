"""Teams presence of many users at once (``POST /communications/getPresencesByUserId``).

Graph takes at most 650 ids per call; presence is put on ``Identity.extra["presence"]``
as ``{"availability": ..., "activity": ...}`` (open value sets: unknown strings pass).
"""

from __future__ import annotations

from typing import Iterable, Iterator

from .auth import READ_PRESENCE
from .graph import GraphClient

#: Graph's limit of ids per getPresencesByUserId call
MAX_IDS_PER_CALL = 650


def batches(ids: Iterable[str], size: int = MAX_IDS_PER_CALL) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fetch_presences(client: GraphClient, user_ids: Iterable[str]) -> dict[str, dict[str, str | None]]:
    """Presence per user object id (users Graph has no presence for are left out)."""
    found: dict[str, dict[str, str | None]] = {}
    for batch in batches(dict.fromkeys(user_ids)):  # de-duplicated, order kept
        body = client.request("POST", "communications/getPresencesByUserId", json_body={"ids": batch}, permission=READ_PRESENCE)
        for presence in body.get("value") or ():
            if isinstance(presence, dict) and presence.get("id"):
                found[str(presence["id"])] = {"availability": presence.get("availability"), "activity": presence.get("activity")}
    return found
