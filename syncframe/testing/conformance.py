"""The conformance kit: the promises every source and target keeps, as pytest tests.

A plugin's test module subclasses :class:`SourceContract` or :class:`TargetContract`
(as Meltano's ``get_tap_test_class`` gives a tap its standard tests), names what it
registered, and provides a ``sandbox`` fixture that yields a started sandbox::

    import pytest
    from syncframe.testing import SourceContract

    class TestCsvSource(SourceContract):
        source_type = "CSV"

        @pytest.fixture
        def sandbox(self):
            with CsvSandbox() as box:
                yield box

The kit opens the plugin through its registration and schema with the sandbox's
``profile_section()`` (and its ``environment()`` set), puts users in through the
sandbox, and checks what comes out. Plans are made by the host's own planner
(:mod:`syncframe.testing.harness`), so a target is given the items a run gives it.
Each check is a test of its own, so a failure names the promise that broke.

Override the data methods (``username``, ``make_identity``, ``bad_identities``,
``out_of_scope_identities``, ``unholdable_identity``) where a directory or a
target has rules of its own.
"""

from __future__ import annotations

from .source_contract import SourceContract
from .target_contract import TargetContract

__all__ = ["SourceContract", "TargetContract"]
