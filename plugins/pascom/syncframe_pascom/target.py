"""The pascom target: lists, creates, updates, renames and removes pascom users.

The engine calls :meth:`PascomTarget.apply` from several threads at once; the
target keeps no per-call state and its client gives each thread its own session.

A rename is two requests: the login change, then ending the user's sessions (the
mobile app must pair again). An adoption may add devices after its change. The
engine journals the write as one intent; when a killed run left it unfinished and
the change had landed, recovery calls :meth:`PascomTarget.finish`, which repeats
the later steps (both are idempotent).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from syncframe import (
    Account,
    CheckResult,
    ConnectorContext,
    FatalSyncError,
    Identity,
    ItemKind,
    Notice,
    PermanentRecordError,
    PlanItem,
    SkippableRecordError,
    SyncError,
    Target,
)
from syncframe.sdk import RetryPolicy

from . import wire
from .client import PascomApiError, PascomClient
from .mapping import REPAIR_MOBILE, MappingRules, desired_fields, differences
from .schema import check_ca_bundle, password_reference, read_password


class PascomTarget(Target):
    """Writes users into one pascom instance. Disabling clears the account's enabled
    flag; its devices, extension and voicemail stay.

    :param config: The validated ``[target]`` section (see :mod:`syncframe_pascom.schema`).
    :param context: The connector being served.
    :param sleep: How retries wait (tests inject a recorder so no time passes).
    :raises ConfigError: when the password reference or the CA bundle cannot be read
        (before any request).
    """

    can_disable = True

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext, *, sleep: Callable[[float], None] = time.sleep):
        super().__init__(config, context)
        self.log = context.log.getChild("pascom")
        password = read_password(config)
        ca_bundle = check_ca_bundle(config)
        self.base_url = str(config["url"])
        if self.base_url.startswith("http://"):
            self.log.warning("[target] insecure = true: the pascom REST password travels unencrypted to %s", self.base_url)
        self.username = str(config.get("username") or "moby")
        self.rules = MappingRules.from_config(config)
        #: logins never touched: the configured ones and the REST user itself
        self.protected_logins = frozenset({self.username.lower(), *(l.lower() for l in config.get("protected_logins") or ())})
        admin_roles = config.get("admin_roles")
        self.admin_roles = frozenset(r.casefold() for r in (wire.ADMIN_ROLES if admin_roles is None else admin_roles))
        self.create_softphone = bool(config.get("create_softphone", True))
        self.create_mobile = bool(config.get("create_mobile", True))
        max_retries = int(config.get("max_retries", 5))
        timeout = float(config.get("timeout", 30.0))
        policy = RetryPolicy(attempts=max_retries + 1, budget_seconds=max(60.0, timeout * (max_retries + 1)), sleep=sleep)
        self.client = PascomClient(
            self.base_url,
            self.username,
            password,
            password_hint=password_reference(config),
            ca_bundle=ca_bundle,
            timeout=timeout,
            policy=policy,
        )

    # --- reading ------------------------------------------------------------------

    def list_accounts(self) -> list[Account]:
        return [self._account(obj) for obj in self.client.list_identities()]

    def find(self, login: str) -> Account | None:
        obj = self.client.get_identity(login.lower())
        return self._account(obj) if obj is not None else None

    def system_key(self) -> str:
        """The instance's URL (scheme, host and instance path, case of the host folded):
        connectors writing to one instance from one state store see each other's links."""
        parts = urlsplit(self.base_url)
        return f"pascom {parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"

    def desired(self, identity: Identity) -> dict[str, Any]:
        return desired_fields(identity, self.rules)

    def diff(self, account: Account, desired: Mapping[str, Any]) -> dict[str, list[Any]]:
        return differences(account.fields, desired)

    def notices(self, item: PlanItem) -> list[Notice]:
        # a renamed user's mobile app still signs in with the old login (the rename ends its sessions)
        return [REPAIR_MOBILE] if item.rename_from else []

    def _account(self, obj: Mapping[str, Any]) -> Account:
        fields = wire.account_fields(obj)
        login = str(fields["login"])
        return Account(
            target_id=str(obj.get(wire.ID)),
            login=login,
            email=fields.get("email"),
            display_name=fields.get("display_name", ""),
            enabled=fields.get("enabled", True),
            fields=fields,
            protected=self._is_protected(login, obj),
        )

    def _is_protected(self, login: str, obj: Mapping[str, Any]) -> bool:
        """The REST user, configured logins, and users holding an administrator role."""
        if login.lower() in self.protected_logins:
            return True
        return any(str(role).casefold() in self.admin_roles for role in wire.roles_of(obj))

    # --- writing ------------------------------------------------------------------

    def apply(self, item: PlanItem) -> Account | None:
        try:
            if item.kind is ItemKind.CREATE:
                return self._create(item)
            if item.kind in (ItemKind.UPDATE, ItemKind.RENAME, ItemKind.ADOPT):
                return self._change(item)
            if item.kind is ItemKind.DELETE:
                return self._remove(item)
            if item.kind is ItemKind.DISABLE:
                return self._disable(item)
        except ValueError as exc:  # a desired field pascom has no place for
            raise PermanentRecordError(f"{item.login}: {exc}") from None
        raise PermanentRecordError(f"the pascom target does not apply {item.kind.value} items")

    def finish(self, item: PlanItem) -> None:
        """Repeat what follows a change that landed: an adoption's missing devices, and a
        rename's session reset. Both are idempotent."""
        login = item.login
        if not login or not (item.kind is ItemKind.ADOPT or item.rename_from):
            return
        obj = self.client.get_identity(login)
        if obj is None:
            raise PermanentRecordError(f"pascom has no user {login} any more; nothing to finish")
        devices = item.kind is ItemKind.ADOPT or "devices" in item.changes
        self._complete(item.rename_from or login, login, obj, {**wire.account_fields(obj), **item.desired}, devices)

    def _refuse_protected(self, login: str, account: Account | None) -> None:
        if login.lower() in self.protected_logins or (account is not None and account.protected):
            raise PermanentRecordError(f"{login} is a protected pascom user (REST user, administrator or protected_logins); not changed")

    def _create(self, item: PlanItem) -> Account:
        desired = dict(item.desired) if item.desired else self.desired(_require_identity(item))
        login = str(desired["login"])
        self._refuse_protected(login, None)
        try:
            obj = self._post(desired)
        except PascomApiError as err:
            if not (wire.is_extension_taken(err.error) and "extension" in desired):
                raise
            # the extension the directory gives is taken: let pascom pick the next free one
            self.log.warning("%s: extension %s is taken; pascom assigns the next free one", login, desired["extension"])
            desired = {k: v for k, v in desired.items() if k != "extension"}
            obj = self._post(desired)
        return self._account(obj)

    def _post(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """Create the user; recover a create whose answer was lost on the way back."""
        document = wire.create_document(desired, softphone=self.create_softphone, mobile=self.create_mobile)
        login = str(desired["login"])
        try:
            return self.client.create_identity(document)
        except PascomApiError as err:
            if not (err.retried and wire.is_login_taken(err.error)):
                raise
            # an earlier attempt of this very request may have landed (e.g. a 502 after
            # the write): adopt the user only if it is the one we tried to create
            existing = self.client.get_identity(login)
            if existing is None or not _is_same_user(existing, desired):
                raise
            self.log.info("%s: the create landed before its answer was lost; using the created user", login)
            return self._ensure_devices(login, existing, desired)

    def _change(self, item: PlanItem) -> Account:
        account = item.account
        old_login = item.rename_from or (account.login if account else item.login)
        if not old_login:
            raise PermanentRecordError("the plan item names no pascom login")
        new_login = item.login or old_login
        self._refuse_protected(old_login, account)
        if new_login != old_login:
            self._refuse_protected(new_login, None)
        current = dict(account.fields) if account else {}
        changes = self._changes(item, current)
        if new_login != old_login:
            changes["login"] = new_login
        target_id = item.target_id or (account.target_id if account else None)
        writes = {k: v for k, v in changes.items() if k not in wire.DEVICE_KEYS}
        obj = self._put(old_login, writes, current, target_id) if writes else self.client.get_identity(old_login)
        if obj is None:
            raise PermanentRecordError(f"pascom has no user {old_login} any more")
        devices = item.kind is ItemKind.ADOPT or "devices" in changes
        return self._account(self._complete(old_login, new_login, obj, {**current, **writes}, devices))

    def _complete(self, old_login: str, new_login: str, obj: dict[str, Any], values: Mapping[str, Any], devices: bool) -> dict[str, Any]:
        """The steps after the change itself (also :meth:`finish`'s): the devices the user
        lacks (an adoption, or a change of devices), and a renamed user's sessions end."""
        if devices:
            obj = self._ensure_devices(new_login, obj, values)
        if new_login != old_login:
            self._reset_pairing(old_login, new_login)
        return obj

    def _changes(self, item: PlanItem, current: Mapping[str, Any]) -> dict[str, Any]:
        """Field -> new value to send: the plan's changes (or, for ADOPT without them,
        the diff of desired against the account), and single sign-on for an adoption."""
        changes = {k: v[1] for k, v in item.changes.items() if k != "login"}
        if not changes and item.desired and item.account is not None:
            changes = {k: v[1] for k, v in self.diff(item.account, item.desired).items()}
        if item.kind is ItemKind.ADOPT and current.get("auth") != wire.AUTH_SSO:
            changes["auth"] = wire.AUTH_SSO
        return changes

    def _put(self, login: str, changes: dict[str, Any], current: Mapping[str, Any], target_id: str | None) -> dict[str, Any]:
        try:
            return self.client.update_identity(login, wire.update_body(changes, current))
        except PascomApiError as err:
            rest = dict(changes)
            if wire.is_extension_taken(err.error) and "extension" in changes:
                self.log.warning("%s: extension %s is taken; keeping the current extension", login, changes["extension"])
                del rest["extension"]
                if not rest:
                    obj = self.client.get_identity(login)
                    if obj is None:
                        raise
                    return obj
                return self.client.update_identity(login, wire.update_body(rest, current))
            if err.status == 404 and "login" in changes:
                # renamed already (an earlier attempt landed, its answer was lost)?
                renamed = self.client.get_identity(changes["login"])
                if renamed is None or target_id is None or str(renamed.get(wire.ID)) != str(target_id):
                    raise
                del rest["login"]
                return self.client.update_identity(changes["login"], wire.update_body(rest, current)) if rest else renamed
            raise

    def _reset_pairing(self, old_login: str, new_login: str) -> None:
        """End the renamed user's sessions: the mobile app must be paired again."""
        try:
            self.client.end_sessions(new_login)
        except SyncError as exc:
            if isinstance(exc, FatalSyncError):
                raise
            raise SkippableRecordError(
                f"{old_login} was renamed to {new_login}, but ending its sessions failed ({exc}); "
                f"end them in pascom's Session Management so the mobile app pairs again"
            ) from None

    def _ensure_devices(self, login: str, obj: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """Add the softphone / mobile device the profile asks for and the user lacks, and
        remove the spare mobile devices a retried creation once left (never a paired one)."""
        if not isinstance(obj.get(wire.DEVICES), list):
            return obj  # pascom's answer shows no devices: adding blindly could duplicate them
        have = wire.device_types(obj)
        display = str(values.get("display_name") or obj.get(wire.DISPLAY_NAME) or login)
        wanted = [(self.create_softphone, wire.SOFTPHONE), (self.create_mobile, wire.MOBILE)]
        missing = [kind for wanted_kind, kind in wanted if wanted_kind and kind not in have]
        known = wire.device_ids(obj)
        for kind in missing:
            self.client.add_device(login, wire.device_body(kind, display, values.get("mobile_phone")), known)
        spares = wire.spare_devices(obj)
        for device_id in spares:
            self.log.info("%s: removing the spare mobile device %s a retried creation left", login, device_id)
            self.client.remove_device(login, device_id)
        if missing or spares:
            return self.client.get_identity(login) or obj
        return obj

    def _removed_login(self, item: PlanItem) -> str:
        account = item.account
        login = account.login if account else item.login
        if not login:
            raise PermanentRecordError("the plan item names no pascom login")
        self._refuse_protected(login, account)
        return login

    def _remove(self, item: PlanItem) -> None:
        self.client.delete_identity(self._removed_login(item))
        return None

    def _disable(self, item: PlanItem) -> Account | None:
        """The enabled flag off: no sign-in; devices, extension and voicemail stay."""
        login = self._removed_login(item)
        try:
            obj = self.client.disable_identity(login)
        except PascomApiError as err:
            if err.status == 404:
                return None  # gone already
            raise
        return self._account(obj)

    # --- the rest -------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        name = "pascom REST API"
        try:
            accounts = self.list_accounts()
        except SyncError as exc:
            return [CheckResult(name, False, str(exc))]
        protected = sum(1 for a in accounts if a.protected)
        detail = f"{self.base_url} as {self.username}: {len(accounts)} users, {protected} protected"
        return [CheckResult(name, True, detail)]

    def close(self) -> None:
        self.client.close()


def _require_identity(item: PlanItem) -> Identity:
    if item.identity is None:
        raise PermanentRecordError("a create item needs the identity or its desired fields")
    return item.identity


def _is_same_user(obj: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether an existing user is the one ``desired`` describes (a create that landed)."""
    fields = wire.account_fields(obj)
    return (
        fields.get("auth") == wire.AUTH_SSO
        and fields.get("display_name") == desired.get("display_name")
        and fields.get("email") == desired.get("email")
    )
