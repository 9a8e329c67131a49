"""Read every user with syncframe's MSUSER source, in its own process.

Run by the harness as ``python -m harness.read_syncframe_worker PROFILE`` with the
profile's secrets in the environment. The profile is loaded and validated as the
CLI does it, the source is opened through the plugin registry, and ``read`` runs
without a bookmark (a full read, ``$select`` of the mapping's properties, pages of
999). Every identity stays in memory, as the engine keeps them. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    t0 = time.perf_counter()
    from syncframe.connector import load_profile_file
    from syncframe.plugins import get_plugin_manager

    connector = load_profile_file(sys.argv[1], get_plugin_manager(), name="bench")
    started = time.perf_counter()
    source = connector.open_source(connector.context(echo=lambda line: None))
    try:
        result = source.read(None, {}, lambda advance, total=None: None)
    finally:
        source.close()
    elapsed = time.perf_counter() - started
    sample = result.identities[0] if result.identities else None
    json.dump(
        {
            "reader": "syncframe",
            "users": len(result.identities),
            "complete": result.complete,
            "read_s": round(elapsed, 3),
            "process_s": round(time.perf_counter() - t0, 3),
            "stats": dict(result.stats),
            "sample_upn": sample.username if sample else None,
        },
        sys.stdout,
        default=str,
    )


if __name__ == "__main__":
    main()
