"""The worked plugin of docs/plugins.md, installed the way pip leaves a distribution.

Host tests load it and run the conformance kit on it; the end-to-end test syncs it
into the pascom sandbox. Both read the code from the guide, so the guide stays true.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def python_blocks() -> list[str]:
    """The ```python blocks of docs/plugins.md, in order."""
    text = DOCS.read_text(encoding="utf-8")
    return [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def plugin_from_docs() -> str:
    """The CSV source plugin (the guide's first Python block)."""
    return python_blocks()[0]


def kit_test_from_docs() -> str:
    """The guide's conformance-kit test module for the CSV source (its second Python block)."""
    return python_blocks()[1]


def install_fake_distribution(root: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """Install a plugin as pip would leave it: a module and a dist-info with entry points."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"  # normalised, as pip names it
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[syncframe]\n{entry_name} = {module}\n")
