"""Entry point of the pascom target plugin (``[project.entry-points.syncframe] pascom``).

Registers the target ``pascom`` with its ``[target]`` schema, and the local pascom
simulator as its sandbox (for ``syncframe demo``, ``syncframe sandbox`` and tests).
"""

from __future__ import annotations

from typing import Callable

from syncframe import hookimpl

from .schema import PascomTargetSchema
from .target import PascomTarget


@hookimpl
def syncframe_register_targets(register: Callable[..., None]) -> None:
    register("pascom", PascomTarget, PascomTargetSchema, description="pascom Cloud Phone System")


@hookimpl
def syncframe_register_sandboxes(register: Callable[..., None]) -> None:
    # imported here: the simulator (werkzeug server) is only needed when a sandbox is asked for
    from .sandbox import PascomSandbox

    register("target", "pascom", PascomSandbox)
