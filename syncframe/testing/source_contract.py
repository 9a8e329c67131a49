"""The source half of the conformance kit (see :mod:`syncframe.testing.conformance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping

import pluggy
import pytest

from ..contracts import Source, SourceSandbox
from ..engine.planner import full_view
from ..model import Identity, ItemKind, ReadResult
from .harness import items_by_source, plan_read
from .kit_base import ContractBase

#: the fields a read must give back as they were put
ROUND_TRIP_FIELDS = ("username", "display_name", "given_name", "surname", "email")


def _facts(identity: Identity, fields: Collection[str]) -> dict[str, Any]:
    return {name: getattr(identity, name) for name in ("source_id", *fields)}


class _ProgressRecorder:
    """A progress callback that remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []

    def __call__(self, advance: int, total: int | None = None) -> None:
        self.calls.append((advance, total))


def _read(source: Source, bookmark: str | None = None, previous: Mapping[str, Identity] | None = None, progress: Callable[..., None] | None = None) -> ReadResult:
    result = source.read(bookmark, dict(previous or {}), progress or _ProgressRecorder())
    assert isinstance(result, ReadResult), f"read() must return a ReadResult, not {type(result).__name__}"
    assert result.bookmark is None or isinstance(result.bookmark, str), "a bookmark is a string (or None)"
    return result


class SourceContract(ContractBase):
    """The promises of a :class:`syncframe.Source`, checked against its sandbox.

    Subclass it in a test module whose name pytest collects (``class TestMySource(SourceContract)``),
    set :attr:`source_type`, and provide a ``sandbox`` fixture yielding a started
    :class:`syncframe.SourceSandbox`.
    """

    #: the name the source registered (``[source] type``)
    source_type: str = ""
    #: settings laid over the sandbox's ``profile_section()``
    source_settings: Mapping[str, Any] = {}
    #: the identity fields a read must return exactly as they were put
    round_trip_fields: Collection[str] = ROUND_TRIP_FIELDS

    def bad_identities(self) -> list[Identity]:
        """Users the sandbox can store but the host's validation refuses (one SKIP each).

        Default: a display name with a bidi override, a phone number that is words.
        Override when your directory refuses or cleans these values; return ``[]``
        to skip the check.
        """
        return [
            self.make_identity(21, display_name="Kit \u202eUser21"),
            self.make_identity(22, phones=("ask reception",)),
        ]

    def out_of_scope_identities(self) -> list[Identity]:
        """Users the source's default settings leave out of scope; it must return them
        with a reason (default: a disabled account). Add a guest where your directory has
        them (``extra={SANDBOX_GUEST: True}``); return ``[]`` to skip the check."""
        return [self.make_identity(31, enabled=False)]

    # -- fixtures ----------------------------------------------------------------------

    @pytest.fixture
    def sandbox(self) -> Iterator[SourceSandbox]:
        pytest.fail(f"{type(self).__name__} must provide a 'sandbox' fixture that yields a started SourceSandbox")
        yield  # pragma: no cover

    @pytest.fixture
    def open_source(self, pm: pluggy.PluginManager, sandbox: SourceSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], Source]]:
        """Opens the source for the sandbox as it is configured *now*; closed after the test."""
        opened: list[Source] = []

        def open_source() -> Source:
            source = self._open(pm, "source", self.source_type, sandbox, self.source_settings, monkeypatch, tmp_path)
            opened.append(source)
            return source

        yield open_source
        for source in opened:
            source.close()

    @pytest.fixture
    def source(self, open_source: Callable[[], Source]) -> Source:
        return open_source()

    # -- the checks ----------------------------------------------------------------------

    def test_a_complete_read_returns_every_user(self, sandbox: SourceSandbox, source: Source) -> None:
        users = [self.make_identity(n) for n in (1, 2, 3)]
        sandbox.put_identities(users)
        result = _read(source)
        assert result.complete, f"a read of a healthy directory must be complete (reason given: {result.reason!r})"
        got = {i.source_id: i for i in result.identities}
        missing = [u.source_id for u in users if u.source_id not in got]
        assert not missing, f"the read lost users: {missing}"
        for user in users:
            assert _facts(got[user.source_id], self.round_trip_fields) == _facts(user, self.round_trip_fields)

    def test_progress_counts_the_users_read(self, sandbox: SourceSandbox, source: Source) -> None:
        sandbox.put_identities([self.make_identity(n) for n in (1, 2, 3)])
        progress = _ProgressRecorder()
        result = _read(source, progress=progress)
        assert progress.calls, "read() never called progress(advance, total)"
        advances = [advance for advance, _ in progress.calls]
        assert all(isinstance(a, int) and a >= 0 for a in advances), f"progress advances must be counts: {advances}"
        assert sum(advances) == len(result.identities), f"progress advanced by {sum(advances)} for {len(result.identities)} users read"

    def test_an_interrupted_read_is_incomplete_not_an_error(self, sandbox: SourceSandbox, open_source: Callable[[], Source]) -> None:
        users = [self.make_identity(n) for n in range(1, 6)]
        sandbox.put_identities(users)
        try:
            sandbox.fail_reads_after(2)
        except NotImplementedError as exc:
            pytest.skip(f"{exc}; the incomplete-read check needs it")
        try:
            result = _read(open_source())
        except Exception as exc:  # the promise under test: a partial read does not raise
            pytest.fail(f"a read that stopped half way raised {exc!r}; return complete=False with a reason instead")
        assert not result.complete, "a read that stopped half way must say complete=False (the engine then removes nobody)"
        assert isinstance(result.reason, str) and result.reason.strip(), "an incomplete read must give a reason"
        assert {i.source_id for i in result.identities} <= {u.source_id for u in users}
        assert len(result.identities) < len(users), "the sandbox's fault did not stop the read"

    def test_a_read_with_the_bookmark_gives_the_changes(self, sandbox: SourceSandbox, source: Source) -> None:
        kept, changed, removed = (self.make_identity(n) for n in (1, 2, 3))
        sandbox.put_identities([kept, changed, removed])
        first = _read(source)
        assert first.complete, first.reason
        view = full_view(first, {})
        sandbox.put_identity(changed.replace(display_name="Kit Changed2"))
        sandbox.remove_identity(removed.source_id)
        added = self.make_identity(4)
        sandbox.put_identity(added)

        second = _read(source, first.bookmark, view)
        assert second.complete, second.reason
        fresh = _read(source)  # a full read of the same directory
        expected = {sid: _facts(i, self.round_trip_fields) for sid, i in full_view(fresh, {}).items()}
        got = {sid: _facts(i, self.round_trip_fields) for sid, i in full_view(second, view).items()}
        assert got == expected, "the previous view with the second read applied must equal a full read"
        if second.incremental:
            ids = {i.source_id for i in second.identities}
            assert {changed.source_id, added.source_id} <= ids, "an incremental read must return the changed and the new users"
            assert kept.source_id not in ids, "an incremental read must return only what changed"
            assert removed.source_id in second.removed, "an incremental read must name removed users in `removed`"
        else:
            assert not second.removed, "a full read names no `removed` ids: missing users are removed"

    def test_an_incremental_read_builds_on_previous(self, sandbox: SourceSandbox, source: Source) -> None:
        one, two = self.make_identity(1), self.make_identity(2)
        sandbox.put_identities([one, two])
        first = _read(source)
        assert first.complete, first.reason
        view = full_view(first, {})
        renamed = one.replace(display_name="Kit Changed1")
        sandbox.put_identity(renamed)
        # with the previous view: whole identities, also where only one property changed
        second = _read(source, first.bookmark, view)
        whole = full_view(second, view)
        assert _facts(whole[one.source_id], self.round_trip_fields) == _facts(renamed, self.round_trip_fields)
        # without it (the engine lost its view): every user, never only the changes
        third = _read(source, first.bookmark, {})
        assert set(full_view(third, {})) == {one.source_id, two.source_id}, "with an empty `previous` a read must still give every user"

    def test_bad_records_become_per_user_skips(self, pm: pluggy.PluginManager, sandbox: SourceSandbox, source: Source) -> None:
        bad = self.bad_identities()
        if not bad:
            pytest.skip("bad_identities() returned none")
        good = self.make_identity(1)
        sandbox.put_identities([good, *bad])
        try:
            result = _read(source)
        except Exception as exc:  # the promise under test: one bad user does not stop a read
            pytest.fail(f"a read with bad records raised {exc!r}; return them and let the host skip them")
        assert result.complete, f"bad records must not make a read incomplete ({result.reason})"
        items = items_by_source(plan_read(pm, result).items)
        for user in bad:
            assert user.source_id in items, f"the bad record {user.source_id} was dropped; return it so the run reports why"
            item = items[user.source_id]
            assert item.kind is ItemKind.SKIP and item.reason.startswith("invalid record"), (
                f"the bad record {user.source_id} became {item.kind.value}: {item.reason}"
            )
        assert items[good.source_id].kind is ItemKind.CREATE, items[good.source_id].reason

    def test_out_of_scope_users_carry_the_sources_reason(self, pm: pluggy.PluginManager, sandbox: SourceSandbox, source: Source) -> None:
        outside = self.out_of_scope_identities()
        if not outside:
            pytest.skip("out_of_scope_identities() returned none")
        inside = self.make_identity(1)
        sandbox.put_identities([inside, *outside])
        result = _read(source)
        got = {i.source_id: i for i in result.identities}
        assert inside.source_id in got and got[inside.source_id].out_of_scope is None, "a plain member is in scope"
        items = items_by_source(plan_read(pm, result).items)
        for user in outside:
            assert user.source_id in got, f"{user.source_id} was left out; return it with out_of_scope = the reason"
            reason = got[user.source_id].out_of_scope
            assert isinstance(reason, str) and reason.strip(), f"{user.source_id} must carry the reason it is out of scope"
            assert items[user.source_id].kind is ItemKind.SKIP and items[user.source_id].reason == reason
