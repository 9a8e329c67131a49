"""The target half of the conformance kit (see :mod:`syncframe.testing.conformance`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Collection, Iterator, Mapping

import pluggy
import pytest

from ..contracts import Target, TargetSandbox
from ..engine.index import fold
from ..errors import SkippableRecordError
from ..model import Account, Identity, ItemKind, Notice, Plan, PlanItem
from .harness import Harness, items_by_source
from .kit_base import ContractBase


def _only(plan: Plan, kind: ItemKind, source_id: str | None = None) -> PlanItem:
    """The plan's one item of ``kind`` (for ``source_id`` when given)."""
    found = [i for i in plan.items if i.kind is kind and (source_id is None or i.source_id == source_id)]
    if len(found) != 1:
        listing = "\n".join(f"  {i.kind.value} {i.login or i.source_id}: {i.reason}" for i in plan.items)
        pytest.fail(f"expected one {kind.value} item, the plan has {len(found)}:\n{listing}")
    return found[0]


def _kinds(plan: Plan) -> dict[str, str]:
    return {i.source_id or "": i.kind.value for i in plan.items}


class TargetContract(ContractBase):
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
    def target(self, pm: pluggy.PluginManager, sandbox: TargetSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Target]:
        target = self._open(pm, "target", self.target_type, sandbox, self.target_settings, monkeypatch, tmp_path)
        yield target
        target.close()

    @pytest.fixture
    def harness(self, pm: pluggy.PluginManager, target: Target) -> Harness:
        return Harness(target, pm)

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
        assert result is None, "apply(DELETE) must return None: the account is gone"
        assert found is None, "apply(DELETE) returned None but find() still finds the account"
        assert account.target_id not in {a.target_id for a in target.list_accounts()}

    def test_a_disable_keeps_the_account_and_a_comeback_enables_it(self, harness: Harness, target: Target) -> None:
        """``can_disable`` targets: a leaver's account is disabled, not deleted; when the
        user comes back, the same account is enabled again (never created anew)."""
        if not getattr(target, "can_disable", False):
            pytest.skip("the target declares it cannot disable (can_disable = False)")
        (user, account), _ = self._create(harness, 1, 2)
        harness.remove(user.source_id)
        item = _only(harness.plan("disable, delete after 30d"), ItemKind.DISABLE)
        assert item.delete_due, "a DISABLE item under a grace period names its due date"
        result = harness.apply(item)
        found = target.find(account.login)
        assert result is not None and not result.enabled, "apply(DISABLE) returns the account, disabled"
        assert found is not None and found.target_id == account.target_id and not found.enabled
        harness.put(user)
        back = _only(harness.plan("disable, delete after 30d"), ItemKind.UPDATE, user.source_id)
        again = harness.apply(back)
        assert again is not None and again.target_id == account.target_id and again.enabled, "the comeback re-enables the same account"
        assert target.find(account.login).enabled  # type: ignore[union-attr]

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
