"""The test doubles keep the promises the conformance kit checks, like any plugin."""

from __future__ import annotations

import pytest

import syncframe.testing
from syncframe import SANDBOX_GUEST
from syncframe.testing import FileTargetSandbox, MemorySourceSandbox, SourceContract, TargetContract


class TestMemorySource(SourceContract):
    source_type = "MEMORY"
    plugin = syncframe.testing

    def out_of_scope_identities(self):
        return [*super().out_of_scope_identities(), self.make_identity(32, extra={SANDBOX_GUEST: True})]

    @pytest.fixture
    def sandbox(self):
        with MemorySourceSandbox() as box:
            yield box


class TestIncrementalMemorySource(TestMemorySource):
    source_settings = {"incremental": True}


class TestFileTarget(TargetContract):
    target_type = "memory"
    plugin = syncframe.testing
    rename_notice_codes = {syncframe.testing.RENAMED.code}

    @pytest.fixture
    def sandbox(self):
        with FileTargetSandbox() as box:
            yield box
