"""The host speaks no directory's or phone system's language, and plugins use only its public API.

Both checks read the code with :mod:`ast`, so comments and docstrings may still
name the bundled connectors (as examples); identifiers and string literals may not.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "syncframe"
PLUGINS = ROOT / "plugins"

#: what a plugin may import from the host
PUBLIC_MODULES = {"syncframe", "syncframe.sdk", "syncframe.testing"}

#: the first connector's vocabulary; ``mobile_phone`` (a directory attribute) is neutral
CONNECTOR_WORDS = re.compile(
    r"graph|entra|pascom|msuser|microsoft|softphone|#ext#|\bupn|_upn\b|repair_mobile|mobile app|mobile device",
    re.IGNORECASE,
)


#: string tokens: f-strings are split into parts from Python 3.12 on
STRINGS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)


def code_tokens(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every name and string literal that is not a docstring."""
    source = path.read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                docstrings.add(body[0].lineno)
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME or (token.type in STRINGS and token.start[0] not in docstrings):
            found.append((token.start[0], token.string))
    return found


def test_no_connector_logic_in_the_host():
    offenders = []
    for path in python_files(HOST):
        for line, text in code_tokens(path):
            if CONNECTOR_WORDS.search(text):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]}")
    assert offenders == [], "the host names a connector:\n" + "\n".join(offenders)


def test_the_word_check_would_see_a_connector_name_in_code(tmp_path):
    """The check above is not vacuous: it finds names and literals, and skips docstrings and comments."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""Talks to Microsoft Graph."""\n# pascom\ndef f():\n    """SSO for pascom."""\n    return "#EXT#" in graph_user\n')
    hits = [text for _, text in code_tokens(sample) if CONNECTOR_WORDS.search(text)]
    assert hits == ['"#EXT#"', "graph_user"]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``syncframe`` import in a file, ``from x import y`` as ``x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "syncframe"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "syncframe":
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("plugin", sorted(p.name for p in PLUGINS.iterdir() if p.is_dir()))
def test_plugins_import_only_the_public_api(plugin):
    private = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in python_files(PLUGINS / plugin)
        for line, module in imports_of(path)
        if module not in PUBLIC_MODULES
    ]
    assert private == [], "a plugin reaches into the host:\n" + "\n".join(private)


def test_the_import_check_would_see_a_private_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import syncframe\nfrom syncframe import Source\nfrom syncframe.sdk import CASession\nfrom syncframe.http import RetryPolicy\nimport syncframe.state.store\n")
    assert [m for _, m in imports_of(sample) if m not in PUBLIC_MODULES] == ["syncframe.http", "syncframe.state.store"]


def test_the_sdk_exports_what_the_bundled_plugins_need():
    import syncframe
    import syncframe.sdk as sdk

    for name in ("CASession", "RetryPolicy", "RetryStats", "send_with_retries", "retry_after_seconds", "LoopbackServer", "throwaway_ca"):
        assert name in sdk.__all__ and hasattr(sdk, name), name
    assert set(syncframe.__all__) <= set(sdk.__all__)  # one import gives a plugin everything
