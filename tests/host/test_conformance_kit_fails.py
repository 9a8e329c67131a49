"""The conformance kit is honest: every check fails for a plugin that breaks its promise.

Toy plugins built on the test doubles each break one promise; the kit runs
against all of them (and against the unbroken doubles) in a pytest of its own,
and each toy must fail the check named for it while the unbroken ones pass.
"""

from __future__ import annotations

import textwrap

from syncframe.testing import SourceContract, TargetContract

pytest_plugins = ["pytester"]

TOYS = '''
"""Plugins that each break one promise of the conformance kit."""

import dataclasses
import json
import time

from syncframe import ItemKind, PlanItem, SkippableRecordError, SyncError, hookimpl
from syncframe.engine.validate import validate
from syncframe.testing import FileTarget, FileTargetSchema, MemorySource, MemorySourceSchema


def replace(value, **changes):
    return dataclasses.replace(value, **changes)


class LosesLast(MemorySource):
    def read(self, bookmark, previous, progress):
        result = super().read(bookmark, previous, progress)
        return replace(result, identities=result.identities[:-1])


class NoProgress(MemorySource):
    def read(self, bookmark, previous, progress):
        return super().read(bookmark, previous, lambda *args: None)


class RaisesWhenCut(MemorySource):
    def read(self, bookmark, previous, progress):
        result = super().read(bookmark, previous, progress)
        if not result.complete:
            raise SyncError(f"the read failed: {result.reason}")
        return result


class ForgetsRemovals(MemorySource):
    def read(self, bookmark, previous, progress):
        return replace(super().read(bookmark, previous, progress), removed=())


class IgnoresPrevious(MemorySource):
    """Sends what changed since *its own* last read, whatever view the engine has."""

    last = {}

    def read(self, bookmark, previous, progress):
        result = super().read(None, {}, progress)
        now = {i.source_id: i for i in result.identities}
        changed = tuple(i for i in result.identities if self.last.get(i.source_id) != i)
        removed = tuple(sid for sid in self.last if sid not in now)
        first, self.last = bookmark is None, now
        if first:
            return replace(result, bookmark="seen")
        return replace(result, identities=changed, removed=removed, incremental=True, bookmark="seen")


class DropsBadRecords(MemorySource):
    def read(self, bookmark, previous, progress):
        result = super().read(bookmark, previous, progress)
        return replace(result, identities=tuple(i for i in result.identities if validate(i)[0] is not None))


class HidesOutOfScope(MemorySource):
    def read(self, bookmark, previous, progress):
        result = super().read(bookmark, previous, progress)
        return replace(result, identities=tuple(i for i in result.identities if not i.out_of_scope))


class RecreatesOnCreate(FileTarget):
    def apply(self, item):
        existing = self.find(item.login) if item.kind is ItemKind.CREATE else None
        if existing is not None:
            super().apply(PlanItem(ItemKind.DELETE, "recreate", login=existing.login, target_id=existing.target_id))
        return super().apply(item)


class ShoutsNames(FileTarget):
    def apply(self, item):
        if item.kind is ItemKind.CREATE:
            item = replace(item, desired={**item.desired, "display_name": item.desired["display_name"].upper()})
        return super().apply(item)


class RefusesRepeatedUpdates(FileTarget):
    def apply(self, item):
        if item.kind is ItemKind.UPDATE:
            current = self.find(item.login)
            stale = [k for k, (old, _new) in item.changes.items() if current.fields.get(k) != old]
            if stale:
                raise SkippableRecordError(f"{item.login} changed meanwhile: {stale}")
        return super().apply(item)


class KeepsOldLogin(FileTarget):
    def apply(self, item):
        if item.kind is ItemKind.RENAME:
            item = replace(item, rename_from=None)
        return super().apply(item)


class AdoptsWithoutRenaming(FileTarget):
    def apply(self, item):
        if item.kind is ItemKind.ADOPT:
            item = replace(item, rename_from=None)
        return super().apply(item)


class DeletesNothing(FileTarget):
    def apply(self, item):
        return None if item.kind is ItemKind.DELETE else super().apply(item)


class DisablesByDeleting(FileTarget):
    """Claims it can disable, but a DISABLE deletes the account (the devices are lost)."""

    def apply(self, item):
        if item.kind is ItemKind.DISABLE:
            self._db.execute("DELETE FROM accounts WHERE target_id = ?", (int(item.target_id or 0),))
            return None
        return super().apply(item)


class CaseSensitiveFind(FileTarget):
    def find(self, login):
        found = self._select("WHERE login = ? COLLATE BINARY", (login,))
        return found[0] if found else None


class NoNotices(FileTarget):
    def notices(self, item):
        return []


class Racy(FileTarget):
    """Picks the next id, then writes it, without a lock."""

    def apply(self, item):
        if item.kind is not ItemKind.CREATE:
            return super().apply(item)
        d = item.desired
        (top,) = self._db.execute("SELECT COALESCE(MAX(target_id), 0) FROM accounts").fetchone()
        time.sleep(0.05)  # meanwhile another thread picks the same id
        self._db.execute(
            "INSERT INTO accounts (target_id, login, email, display_name, fields) VALUES (?, ?, ?, ?, ?)",
            (top + 1, d["login"], d.get("email"), d.get("display_name", ""), json.dumps({k: v for k, v in d.items() if k != "login"})),
        )
        return self.find(d["login"])


SOURCES = {
    "HONEST": MemorySource, "LOSES_LAST": LosesLast, "NO_PROGRESS": NoProgress, "RAISES_WHEN_CUT": RaisesWhenCut,
    "FORGETS_REMOVALS": ForgetsRemovals, "IGNORES_PREVIOUS": IgnoresPrevious, "DROPS_BAD_RECORDS": DropsBadRecords,
    "HIDES_OUT_OF_SCOPE": HidesOutOfScope,
}
TARGETS = {
    "honest": FileTarget, "holds_anyone": FileTarget, "recreates_on_create": RecreatesOnCreate, "shouts_names": ShoutsNames,
    "refuses_repeated_updates": RefusesRepeatedUpdates, "keeps_old_login": KeepsOldLogin,
    "adopts_without_renaming": AdoptsWithoutRenaming, "deletes_nothing": DeletesNothing,
    "disables_by_deleting": DisablesByDeleting,
    "case_sensitive_find": CaseSensitiveFind, "no_notices": NoNotices, "racy": Racy,
}


@hookimpl
def syncframe_register_sources(register):
    for name, cls in SOURCES.items():
        register(name, cls, MemorySourceSchema)


@hookimpl
def syncframe_register_targets(register):
    for name, cls in TARGETS.items():
        register(name, cls, FileTargetSchema)
'''

RUN_KIT = '''
import pytest

import toys
from syncframe import SANDBOX_GUEST
from syncframe.testing import RENAMED, FileTargetSandbox, MemorySourceSandbox, SourceContract, TargetContract


class ToySource(SourceContract):
    plugin = toys
    source_settings = {"incremental": True}

    def out_of_scope_identities(self):
        return [*super().out_of_scope_identities(), self.make_identity(32, extra={SANDBOX_GUEST: True})]

    @pytest.fixture
    def sandbox(self):
        with MemorySourceSandbox() as box:
            yield box


class ToyTarget(TargetContract):
    plugin = toys
    rename_notice_codes = {RENAMED.code}

    def unholdable_identity(self):
        # the toys hold anyone: only the toy named for this check is told otherwise
        return self.make_identity(90, username="no such login") if self.target_type == "holds_anyone" else None

    @pytest.fixture
    def sandbox(self):
        with FileTargetSandbox() as box:
            yield box


for name in toys.SOURCES:
    globals()[f"Test_{name}"] = type(f"Test_{name}", (ToySource,), {"source_type": name})
for name in toys.TARGETS:
    globals()[f"Test_{name}"] = type(f"Test_{name}", (ToyTarget,), {"target_type": name})
'''

#: toy -> the check it must fail
EXPECTED = {
    "LOSES_LAST": "test_a_complete_read_returns_every_user",
    "NO_PROGRESS": "test_progress_counts_the_users_read",
    "RAISES_WHEN_CUT": "test_an_interrupted_read_is_incomplete_not_an_error",
    "FORGETS_REMOVALS": "test_a_read_with_the_bookmark_gives_the_changes",
    "IGNORES_PREVIOUS": "test_an_incremental_read_builds_on_previous",
    "DROPS_BAD_RECORDS": "test_bad_records_become_per_user_skips",
    "HIDES_OUT_OF_SCOPE": "test_out_of_scope_users_carry_the_sources_reason",
    "recreates_on_create": "test_a_create_applied_twice_leaves_one_account",
    "shouts_names": "test_a_create_reads_back_equal",
    "refuses_repeated_updates": "test_an_update_applied_twice_is_in_step",
    "keeps_old_login": "test_a_rename_keeps_the_account",
    "adopts_without_renaming": "test_an_adoption_renames_and_updates_in_one_apply",
    "deletes_nothing": "test_a_delete_removes_the_account",
    "disables_by_deleting": "test_a_disable_keeps_the_account_and_a_comeback_enables_it",
    "case_sensitive_find": "test_find_ignores_case",
    "no_notices": "test_a_rename_keeps_the_account",
    "holds_anyone": "test_a_user_the_target_cannot_hold_is_a_skip",
    "racy": "test_apply_is_safe_from_several_threads",
}


def kit_checks() -> set[str]:
    return {name for cls in (SourceContract, TargetContract) for name in dir(cls) if name.startswith("test_")}


def test_every_check_of_the_kit_fails_for_the_toy_that_breaks_it(pytester):
    pytester.makepyfile(toys=textwrap.dedent(TOYS), test_run_kit=textwrap.dedent(RUN_KIT))
    # each toy only where it must fail; the unbroken doubles everywhere
    chosen = [f"test_run_kit.py::Test_{toy}::{check}" for toy, check in EXPECTED.items()]
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", *chosen, "test_run_kit.py::Test_HONEST", "test_run_kit.py::Test_honest")
    outcomes: dict[tuple[str, str], str] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        _, cls, check = report.nodeid.split("::")
        if report.failed or (cls, check) not in outcomes:
            outcomes[(cls, check)] = report.outcome
    assert outcomes, result.stdout.str()

    for toy, check in EXPECTED.items():
        assert outcomes.get((f"Test_{toy}", check)) == "failed", f"{toy} should fail {check}:\n{result.stdout.str()[-3000:]}"
    honest = {key: outcome for key, outcome in outcomes.items() if key[0] in ("Test_HONEST", "Test_honest")}
    assert set(honest.values()) <= {"passed", "skipped"} and len(honest) == len(kit_checks()), honest
    # a new check needs a toy that breaks it
    assert set(EXPECTED.values()) == kit_checks()
