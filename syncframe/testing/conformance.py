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

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping

import pytest

from ..contracts import Source, SourceSandbox, Target, TargetSandbox
from ..engine.index import fold
from ..engine.planner import full_view
from ..errors import ConfigError, SkippableRecordError
from ..model import Account, Identity, ItemKind, Notice, Plan, PlanItem, ReadResult
from .harness import Harness, connector_context, items_by_source, open_plugin, plan_read

#: the fields a read must give back as they were put
ROUND_TRIP_FIELDS = ("username", "display_name", "given_name", "surname", "email")


class _Kit:
    """What both contracts share: the users the checks use, and opening a plugin."""

    #: a plugin module (or object) to register instead of loading the ``syncframe`` entry points
    plugin: Any = None

    def username(self, n: int) -> str:
        """The username of kit user ``n``; a directory that needs another form overrides this."""
        return f"kit.user{n}"

    def make_identity(self, n: int, **changes: Any) -> Identity:
        """Kit user ``n``: a plain, valid, in-scope member; ``changes`` replace fields."""
        values: dict[str, Any] = {
            "source_id": f"00000000-0000-4000-8000-{n:012d}",
            "username": self.username(n),
            "display_name": f"Kit User{n}",
            "given_name": "Kit",
            "surname": f"User{n}",
            "email": f"kit.user{n}@example.org",
            "phones": (f"+4989100{n:04d}",),
        }
        values.update(changes)
        return Identity(**values)

    def _open(self, role: str, name: str, sandbox: Any, settings: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> Any:
        if not name:
            pytest.fail(f"{type(self).__name__} must name the plugin under test ({role}_type = \"...\")")
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        section = {**sandbox.profile_section(), **settings}
        try:
            return open_plugin(role, name, section, connector_context(state_dir), self.plugin)
        except ConfigError as exc:
            pytest.fail(f"cannot open the {role} {name!r} for the sandbox: {exc}")


def _facts(identity: Identity, fields: Collection[str]) -> dict[str, Any]:
    return {name: getattr(identity, name) for name in ("source_id", *fields)}


def _only(plan: Plan, kind: ItemKind, source_id: str | None = None) -> PlanItem:
    """The plan's one item of ``kind`` (for ``source_id`` when given)."""
    found = [i for i in plan.items if i.kind is kind and (source_id is None or i.source_id == source_id)]
    if len(found) != 1:
        listing = "\n".join(f"  {i.kind.value} {i.login or i.source_id}: {i.reason}" for i in plan.items)
        pytest.fail(f"expected one {kind.value} item, the plan has {len(found)}:\n{listing}")
    return found[0]


def _kinds(plan: Plan) -> dict[str, str]:
    return {i.source_id or "": i.kind.value for i in plan.items}


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


# --- sources -----------------------------------------------------------------------------


class SourceContract(_Kit):
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
    def open_source(self, sandbox: SourceSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[], Source]]:
        """Opens the source for the sandbox as it is configured *now*; closed after the test."""
        opened: list[Source] = []

        def open_source() -> Source:
            source = self._open("source", self.source_type, sandbox, self.source_settings, monkeypatch, tmp_path)
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

    def test_bad_records_become_per_user_skips(self, sandbox: SourceSandbox, source: Source) -> None:
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
        items = items_by_source(plan_read(result).items)
        for user in bad:
            assert user.source_id in items, f"the bad record {user.source_id} was dropped; return it so the run reports why"
            item = items[user.source_id]
            assert item.kind is ItemKind.SKIP and item.reason.startswith("invalid record"), (
                f"the bad record {user.source_id} became {item.kind.value}: {item.reason}"
            )
        assert items[good.source_id].kind is ItemKind.CREATE, items[good.source_id].reason

    def test_out_of_scope_users_carry_the_sources_reason(self, sandbox: SourceSandbox, source: Source) -> None:
        outside = self.out_of_scope_identities()
        if not outside:
            pytest.skip("out_of_scope_identities() returned none")
        inside = self.make_identity(1)
        sandbox.put_identities([inside, *outside])
        result = _read(source)
        got = {i.source_id: i for i in result.identities}
        assert inside.source_id in got and got[inside.source_id].out_of_scope is None, "a plain member is in scope"
        items = items_by_source(plan_read(result).items)
        for user in outside:
            assert user.source_id in got, f"{user.source_id} was left out; return it with out_of_scope = the reason"
            reason = got[user.source_id].out_of_scope
            assert isinstance(reason, str) and reason.strip(), f"{user.source_id} must carry the reason it is out of scope"
            assert items[user.source_id].kind is ItemKind.SKIP and items[user.source_id].reason == reason


# --- targets -----------------------------------------------------------------------------


class TargetContract(_Kit):
    """The promises of a :class:`syncframe.Target`, checked against its sandbox.

    Subclass it (``class TestMyTarget(TargetContract)``), set :attr:`target_type`,
    and provide a ``sandbox`` fixture yielding a started :class:`syncframe.TargetSandbox`.
    """

    #: the name the target registered (``[target] type``)
    target_type: str = ""
    #: settings laid over the sandbox's ``profile_section()``
    target_settings: Mapping[str, Any] = {}
    #: notice codes a rename must carry (None: any, only their form is checked)
    rename_notice_codes: Collection[str] | None = None
    #: how many writes the thread-safety check runs, and on how many threads
    concurrent_writes: int = 12
    threads: int = 4

    def unholdable_identity(self) -> Identity | None:
        """A valid user the target cannot hold (its ``desired()`` raises
        :class:`syncframe.SkippableRecordError`), or None to skip that check."""
        return None

    # -- fixtures ----------------------------------------------------------------------

    @pytest.fixture
    def sandbox(self) -> Iterator[TargetSandbox]:
        pytest.fail(f"{type(self).__name__} must provide a 'sandbox' fixture that yields a started TargetSandbox")
        yield  # pragma: no cover

    @pytest.fixture
    def target(self, sandbox: TargetSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Target]:
        target = self._open("target", self.target_type, sandbox, self.target_settings, monkeypatch, tmp_path)
        yield target
        target.close()

    @pytest.fixture
    def harness(self, target: Target) -> Harness:
        return Harness(target)

    # -- helpers -------------------------------------------------------------------------

    def _create(self, harness: Harness, *numbers: int) -> list[tuple[Identity, Account]]:
        users = [self.make_identity(n) for n in numbers]
        harness.put(*users)
        plan = harness.plan()
        done = []
        for user in users:
            account = harness.apply(_only(plan, ItemKind.CREATE, user.source_id))
            assert isinstance(account, Account), f"apply(CREATE) must return the created account, not {account!r}"
            done.append((user, account))
        return done

    def _in_step(self, harness: Harness, target: Target, identity: Identity, account: Account) -> Account:
        """The account, found by login, is ``account`` and holds what ``identity`` wants."""
        desired = target.desired(identity)
        found = target.find(str(desired["login"]))
        assert found is not None, f"find({desired['login']!r}) found nothing after the write"
        assert found.target_id == account.target_id, "the write made or found another account"
        assert target.diff(found, desired) == {}, "after the write, diff(find(login), desired(identity)) must be empty"
        again = items_by_source(harness.plan().items)[identity.source_id]
        assert again.kind is ItemKind.NOOP, f"planning again gives {again.kind.value}, not noop: {again.reason}"
        return found

    def _check_notices(self, item: PlanItem) -> None:
        assert all(isinstance(n, Notice) and n.code and n.message for n in item.notices), f"notices must be Notice(code, message): {item.notices}"
        if self.rename_notice_codes is not None:
            assert {n.code for n in item.notices} == set(self.rename_notice_codes), (
                f"a rename must carry the notices {sorted(self.rename_notice_codes)}, got {item.notices}"
            )

    # -- the checks ----------------------------------------------------------------------

    def test_a_create_reads_back_equal(self, harness: Harness, target: Target) -> None:
        ((user, account),) = self._create(harness, 1)
        assert fold(account.login) == fold(str(target.desired(user)["login"]))
        assert account.target_id in {a.target_id for a in target.list_accounts()}, "list_accounts() misses the created account"
        self._in_step(harness, target, user, account)

    def test_a_create_applied_twice_leaves_one_account(self, harness: Harness, target: Target) -> None:
        user = self.make_identity(1)
        harness.put(user)
        item = _only(harness.plan(), ItemKind.CREATE)
        first = harness.apply(item)
        assert first is not None
        try:
            second = target.apply(item)  # a retry whose first answer was lost
        except SkippableRecordError:
            second = None
        holders = [a for a in target.list_accounts() if fold(a.login) == fold(str(item.login))]
        assert len(holders) == 1, f"applying one CREATE twice left {len(holders)} accounts with its login"
        assert second is None or second.target_id == first.target_id

    def test_an_update_applied_twice_is_in_step(self, harness: Harness, target: Target) -> None:
        ((user, account),) = self._create(harness, 1)
        changed = user.replace(display_name="Kit Changed1", phones=("+498910009999",))
        harness.put(changed)
        item = _only(harness.plan(), ItemKind.UPDATE)
        assert item.changes
        harness.apply(item)
        harness.apply(item)  # a retry after a lost answer must change nothing more
        self._in_step(harness, target, changed, account)

    def test_a_rename_keeps_the_account(self, harness: Harness, target: Target) -> None:
        ((user, account),) = self._create(harness, 1)
        renamed = user.replace(username=self.username(101))
        harness.put(renamed)
        item = _only(harness.plan(), ItemKind.RENAME)
        assert item.rename_from and fold(item.rename_from) == fold(account.login)
        self._check_notices(item)
        harness.apply(item)
        self._in_step(harness, target, renamed, account)
        assert target.find(account.login) is None, f"the old login {account.login!r} is still there after the rename"

    def test_an_adoption_renames_and_updates_in_one_apply(self, sandbox: TargetSandbox, harness: Harness, target: Target) -> None:
        hand = "kit.hand7"
        sandbox.put_account(hand, email="kit.hand7@example.org", display_name="Made By Hand")
        before = target.find(hand)
        assert before is not None, f"the sandbox's put_account({hand!r}) is not visible through find()"
        user = self.make_identity(7)
        harness.put(user)
        harness.adopt[user.source_id] = hand
        item = _only(harness.plan(), ItemKind.ADOPT)
        assert item.rename_from and fold(item.rename_from) == hand and item.changes, item.reason
        self._check_notices(item)
        harness.apply(item)
        self._in_step(harness, target, user, before)
        assert target.find(hand) is None, "the adopted account kept its old login"

    def test_a_delete_removes_the_account(self, harness: Harness, target: Target) -> None:
        (user, account), _ = self._create(harness, 1, 2)
        harness.remove(user.source_id)
        item = _only(harness.plan(), ItemKind.DELETE)
        result = harness.apply(item)
        found = target.find(account.login)
        if result is None:
            assert found is None, "apply(DELETE) returned None but find() still finds the account"
            assert account.target_id not in {a.target_id for a in target.list_accounts()}
        else:  # a target configured to disable rather than delete
            assert not result.enabled and found is not None and not found.enabled, "a removal that keeps the account must disable it"

    def test_find_ignores_case(self, harness: Harness, target: Target) -> None:
        ((_, account),) = self._create(harness, 1)
        for login in (account.login.upper(), account.login.title()):
            found = target.find(login)
            assert found is not None and found.target_id == account.target_id, f"find({login!r}) must find {account.login!r}"
        assert target.find(self.username(999)) is None, "find() of an unknown login must be None"

    def test_a_user_the_target_cannot_hold_is_a_skip(self, harness: Harness, target: Target) -> None:
        user = self.unholdable_identity()
        if user is None:
            pytest.skip("unholdable_identity() gives none: the target holds every user the kit tries")
        with pytest.raises(SkippableRecordError) as refused:
            target.desired(user)
        assert str(refused.value).strip(), "say why the target cannot hold the user"
        before = len(target.list_accounts())
        harness.put(user)
        item = items_by_source(harness.plan().items)[user.source_id]
        assert item.kind is ItemKind.SKIP and str(refused.value) in item.reason
        assert len(target.list_accounts()) == before

    def test_apply_is_safe_from_several_threads(self, harness: Harness, target: Target) -> None:
        users = [self.make_identity(n) for n in range(41, 41 + self.concurrent_writes)]
        harness.put(*users)
        creates = harness.plan().of_kind(ItemKind.CREATE)
        assert len(creates) == len(users)
        with ThreadPoolExecutor(self.threads) as pool:
            accounts = list(pool.map(target.apply, creates))
        for item, account in zip(creates, accounts):
            harness.record(item, account)
        assert all(isinstance(a, Account) for a in accounts)
        assert len({a.target_id for a in accounts}) == len(users), "concurrent creates gave two users one account"
        harness.put(*(u.replace(display_name=f"Kit Thread{n}") for n, u in enumerate(users)))
        updates = harness.plan().of_kind(ItemKind.UPDATE)
        assert len(updates) == len(users)
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(target.apply, updates))
        assert set(_kinds(harness.plan()).values()) == {ItemKind.NOOP.value}, "concurrent updates did not all land"
