"""Helpers shared by the pascom target tests (a unique module name: several test
folders have a ``conftest.py``, so tests never import from ``conftest``)."""

from __future__ import annotations

from syncframe import Account, Identity, ItemKind, PlanItem, Target

#: the variable the tests' ``[target]`` sections name as ``password_env``
PASSWORD_ENV = "SYNCFRAME_TEST_PASCOM_PASSWORD"


class Sleeps(list):
    """Records what retries would have waited; no time passes."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def create_item(target: Target, identity: Identity) -> PlanItem:
    """A CREATE item as the planner makes it."""
    desired = target.desired(identity)
    return PlanItem(ItemKind.CREATE, "new user", source_id=identity.source_id, login=desired["login"], identity=identity, desired=desired)


def change_item(target: Target, identity: Identity, account: Account, kind: ItemKind = ItemKind.UPDATE) -> PlanItem:
    """An UPDATE / RENAME / ADOPT item as the planner makes it (changes from the target's diff)."""
    desired = target.desired(identity)
    renames = account.login != desired["login"]
    return PlanItem(
        kind,
        "changed",
        source_id=identity.source_id,
        login=desired["login"],
        target_id=account.target_id,
        identity=identity,
        account=account,
        desired=desired,
        changes=target.diff(account, desired),
        rename_from=account.login if renames else None,
    )


def delete_item(account: Account) -> PlanItem:
    return PlanItem(ItemKind.DELETE, "gone from the directory", login=account.login, target_id=account.target_id, account=account)
