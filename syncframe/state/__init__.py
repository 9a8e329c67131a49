"""The state store: what syncframe remembers between runs (SQLite by default, PostgreSQL by URL).

>>> store = StateStore.open("sqlite:////tmp/state.db")   # doctest: +SKIP
>>> with store.lock("contoso", holder="syncframe run"):  # doctest: +SKIP
...     links = store.links("contoso")
"""

from .database import default_state_url
from .locks import HeldLock
from .rows import ConnectorRow, DecisionRow, JournalOutcome, JournalRow, Link, RunRow
from .store import StateStore, StoreTokenCache

__all__ = [
    "ConnectorRow",
    "DecisionRow",
    "HeldLock",
    "JournalOutcome",
    "JournalRow",
    "Link",
    "RunRow",
    "StateStore",
    "StoreTokenCache",
    "default_state_url",
]
