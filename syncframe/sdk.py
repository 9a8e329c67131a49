"""The public plugin API: everything a source, target or simulator plugin may import.

``from syncframe import ...`` gives the contracts, the model, the errors and
``hookimpl``; this module adds the parts a plugin needs to talk to a service and
to simulate one, exactly as the bundled plugins use them:

- HTTP: :class:`CASession` (a ``requests`` session with a CA bundle),
  :class:`RetryPolicy` / :class:`RetryStats` / :func:`send_with_retries` (429 and
  5xx with ``Retry-After`` and jittered backoff, bounded by a time budget),
  :func:`retry_after_seconds`, :func:`connection_problem` (a transport error in words).
- Secrets: :func:`read_secret_file` / :func:`check_private` (a file only its owner
  can read, or a ``chmod 600`` error naming it).
- Back-pressure: :func:`report_answer` tells the host how one request to the target's
  service went (its round trip, and whether it was throttled); the host's adaptive write
  limit listens while a write runs. :func:`send_with_retries` reports every attempt itself.
- Simulators: :class:`LoopbackServer` (a WSGI app over TLS on 127.0.0.1 with a
  throwaway CA) and :func:`throwaway_ca`; :class:`SourceSandbox` and
  :class:`TargetSandbox` are the bases ``syncframe sandbox`` and ``demo`` drive.
- The conformance kit lives in :mod:`syncframe.testing`.

Names not exported here or from :mod:`syncframe` are the host's own and may
change in any release; a test keeps the bundled plugins to this list.
"""

from . import *  # noqa: F403 - the package's public names are part of the SDK
from . import __all__ as _package_names
from .backpressure import report_answer
from .http import RETRY_STATUSES, CASession, RetryPolicy, RetryStats, connection_problem, retry_after_seconds, send_with_retries
from .loopback import LoopbackServer, throwaway_ca
from .secrets import check_private, read_secret_file

__all__ = [
    *_package_names,
    "CASession",
    "LoopbackServer",
    "RETRY_STATUSES",
    "RetryPolicy",
    "RetryStats",
    "report_answer",
    "retry_after_seconds",
    "check_private",
    "connection_problem",
    "read_secret_file",
    "send_with_retries",
    "throwaway_ca",
]
