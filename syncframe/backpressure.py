"""The back-pressure signal: how a target tells the host how its service is coping.

A target reports each answer it gets from the service it writes to with
:func:`report_answer`: how long the round trip took, and whether the service pushed
back (a throttled answer: HTTP 429 or 503, or a timeout). The SDK's
:func:`~syncframe.http.send_with_retries` reports every attempt it sends, so a
target built on it reports without doing anything.

The host listens only while one of its target writes runs (the write dispatch binds a
listener on the writing thread, see :mod:`syncframe.engine.concurrency`); a report made
anywhere else, a source's read say, goes nowhere. The signal is a context variable,
not an argument, so that no target's ``apply`` signature has to change for it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

#: called with (round-trip seconds, throttled)
Listener = Callable[[float, bool], None]

_listener: ContextVar[Listener | None] = ContextVar("syncframe_backpressure_listener", default=None)


def report_answer(seconds: float, *, throttled: bool = False) -> None:
    """Tell the host how one request to the target's service went.

    :param seconds: The request's round-trip time.
    :param throttled: The service pushed back: it answered 429 or 503, or did not
        answer in time. Such an answer was not a write; the target retries it.
    """
    listener = _listener.get()
    if listener is not None:
        listener(seconds, throttled)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send this thread's :func:`report_answer` calls to ``listener`` while the block runs."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
