"""The GOOGLE plugin as the host sees it: registered through its entry point, a
template that loads, a sandbox, and only the public plugin API imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from syncframe import plugins as registry
from syncframe.connector import load_profile
from syncframe_google.plugin import TEMPLATE
from syncframe_google.schema import GoogleSchema
from syncframe_google.source import GoogleSource

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "google" / "syncframe_google"
#: what a plugin may import from the host (DESIGN.md: only the public names)
PUBLIC = {"syncframe", "syncframe.sdk"}


def test_registered_through_the_entry_point() -> None:
    pm = registry.get_plugin_manager(only=["google", "pascom"])
    source = registry.sources(pm)["GOOGLE"]
    assert (source.factory, source.schema, source.plugin) == (GoogleSource, GoogleSchema, "google")
    assert registry.templates(pm)["google-workspace"].plugin == "google"
    assert [(s.role, s.name) for s in registry.sandboxes(pm)] == [("target", "pascom"), ("source", "GOOGLE")]


def test_the_template_is_a_valid_profile() -> None:
    pm = registry.get_plugin_manager(only=["google", "pascom"])
    connector = load_profile(TEMPLATE, pm, "workspace")
    assert connector.source_type == "GOOGLE"
    assert connector.source_config["customer"] == "my_customer" and connector.source_config["subject"] == "admin@example.com"


def test_the_bundled_demo_keeps_its_first_sandbox() -> None:
    """``demo`` and ``sandbox`` start the first source sandbox registered; adding GOOGLE does not change it."""
    pm = registry.get_plugin_manager()
    sources = [s.name for s in registry.sandboxes(pm) if s.role == "source"]
    assert "GOOGLE" in sources and sources[0] != "GOOGLE"


def test_the_plugin_imports_only_the_public_api() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                if name.startswith("syncframe") and not name.startswith("syncframe_google"):
                    assert name in PUBLIC, f"{path.relative_to(PACKAGE)} imports {name}"


def test_google_auth_is_not_imported_at_start_up() -> None:
    code = (
        "import sys, syncframe.plugins as r; pm = r.get_plugin_manager(only=['google']); r.sources(pm); r.templates(pm); r.sandboxes(pm);"
        "print(sorted(m for m in sys.modules if m.startswith(('google.', 'jwt', 'syncframe_google.simulator'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
