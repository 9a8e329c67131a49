"""The one clock every due-date decision reads (leavers' grace periods).

``SYNCFRAME_NOW`` (an ISO-8601 time, e.g. ``2027-01-31T09:00:00Z``) stands in for the
real time: for rehearsing what a run will do on a later day, and for tests that
move time forward without waiting. Unset, it is the system's UTC time.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from .errors import ConfigError

NOW_ENV = "SYNCFRAME_NOW"


def now() -> datetime:
    """The current time, timezone-aware, in UTC (``SYNCFRAME_NOW`` when set).

    :raises ConfigError: when ``SYNCFRAME_NOW`` is set but is no ISO-8601 time.
    """
    value = os.environ.get(NOW_ENV, "").strip()
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{NOW_ENV}={value!r} is not an ISO-8601 time like 2027-01-31T09:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
