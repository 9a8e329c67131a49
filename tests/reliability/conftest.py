"""Fixtures of the reliability suite: one fresh lab (both simulators, own state) per test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from reliability_lab import Lab, lab_at


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with lab_at(tmp_path) as started:
        yield started
