"""The web console (``syncframe web``): connectors, plans with diffs, held removals
released by name, conflicts linked, runs started and followed, history, and
connector profiles added and edited from templates, for signed-in administrators.

Starlette, Jinja2 templates and one vendored htmx file; no build step. Install
with ``pip install 'syncframe[web]'``.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
