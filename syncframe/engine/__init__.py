"""The sync engine: plan (pure) and apply (journaled), for one connector at a time.

- :mod:`.planner`: read result + accounts + links -> :class:`SyncPlan`
- :mod:`.index`: the O(1) lookups matching uses
- :mod:`.guard`: the removal guard; :mod:`.apply`: journaled, concurrent writes
- :mod:`.recovery`: finishing what a killed run left; :mod:`.report`: the typed run report (the CLI renders it)
- :mod:`.runner`: ``plan`` / ``run`` of one connector, used by the CLI and ``serve``
"""

from .apply import Applier, ApplyResult
from .guard import GuardResult, apply_guard, removal_limit
from .index import TargetIndex
from .planner import Planner, SyncPlan, full_view
from .recovery import recover_unfinished
from ..exit_codes import ExitCode
from .report import Report, build_report
from .runner import ConnectorRunner, Outcome, no_progress_bar

__all__ = [
    "Applier",
    "ApplyResult",
    "ConnectorRunner",
    "ExitCode",
    "GuardResult",
    "Outcome",
    "Planner",
    "Report",
    "SyncPlan",
    "TargetIndex",
    "apply_guard",
    "build_report",
    "full_view",
    "no_progress_bar",
    "recover_unfinished",
    "removal_limit",
]
