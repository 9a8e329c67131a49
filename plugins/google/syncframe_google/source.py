"""The GOOGLE source: Google Workspace users through the Admin SDK Directory API.

How it reads (the plugin README says why):

- with ``groups``: first each configured group's members (``members.list``, nested
  groups expanded, cycles tolerated);
- then every user of the account (``users.list``, ``customer=`` or ``domain=``,
  ``maxResults=500``, ``projection=basic``, ``fields=`` only what is mapped;
  ``showDeleted`` never): 1,200 users are three requests;
- scope is decided here, per user, with the reason: suspended and archived users,
  users outside ``org_units`` and outside ``groups`` carry ``out_of_scope``. The host
  skips them, and removes them where an earlier import linked them.

There is no delta for users (``users.watch`` pushes changes to a public HTTPS
endpoint, which a connector behind a firewall does not have), so every read is a
full read and the engine's diff finds what changed. Anything that stops a read half
way gives ``complete=False`` with the reason: the engine then removes nobody.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from syncframe import (
    CheckResult,
    ConnectorContext,
    Identity,
    Progress,
    ReadResult,
    Source,
    SyncError,
    no_progress,
)
from syncframe.sdk import CASession, RetryPolicy

from .auth import READ_GROUP_MEMBERS, READ_USERS, GoogleAuth
from .directory import DirectoryClient, DirectoryError, DirectoryUnavailable, google_policy
from .groups import Membership, read_membership
from .schema import scope_of
from .users import LIST_FIELDS, out_of_scope, to_identity

log = logging.getLogger("syncframe.google")


class GoogleSource(Source):
    """Users from Google Workspace.

    :param config: The validated ``[source]`` section.
    :param context: The connector.
    :param policy: Retry policy (tests inject a ``sleep`` that records waits).
    """

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext, *, policy: RetryPolicy | None = None):
        super().__init__(config, context)
        self.session = CASession(config.get("ca_bundle"))
        # the key is read and checked here: a ConfigError before any request
        self.auth = GoogleAuth(config, self.session)
        self.client = DirectoryClient(str(config["api_url"]), self.auth, self.session, policy or google_policy(), float(config.get("timeout", 60.0)))
        self.groups: list[str] = list(config.get("groups") or [])
        self.page_size = int(config.get("page_size", 500))

    def users_params(self, page_size: int | None = None) -> dict[str, str]:
        return {
            **scope_of(self.config),
            "maxResults": str(page_size or self.page_size),
            "projection": "basic",
            "fields": LIST_FIELDS,
        }

    # -- reading ---------------------------------------------------------------

    def read(self, bookmark: str | None, previous: Mapping[str, Identity], progress: Progress = no_progress) -> ReadResult:
        stats = self.client.reset_stats()
        token_requests = self.auth.token_requests
        users: dict[str, dict[str, Any]] = {}
        membership: Membership | None = None
        reason = None
        try:
            if self.groups:
                membership = read_membership(self.client, self.groups)
            for page in self.client.pages("users", self.users_params(), scope=READ_USERS):
                batch = [u for u in page.get("users") or () if isinstance(u, dict) and u.get("id")]
                for user in batch:
                    users[str(user["id"])] = user
                progress(len(batch), None)
        except (DirectoryUnavailable, DirectoryError) as exc:
            if stats.pages == 0:
                raise  # nothing at all was read: an error, not an incomplete read
            reason = f"the read stopped after {len(users)} users ({stats.pages} pages): {exc}"
        identities = []
        for uid, user in users.items():
            labels = membership.labels(uid) if membership is not None else None
            identity = to_identity(user, groups=labels or ())
            why = out_of_scope(identity, self.config, None if membership is None else labels is not None)
            identities.append(identity.replace(out_of_scope=why) if why else identity)
        return ReadResult(
            tuple(identities),
            complete=reason is None,
            bookmark=None,  # no delta for users: every read is a full read
            incremental=False,
            reason=reason,
            stats={"read": "full", **stats.as_dict(), "token_requests": self.auth.token_requests - token_requests},
        )

    # -- sign-in and checks ----------------------------------------------------

    def authenticate(self) -> str:
        """``syncframe auth``: nothing interactive; fetch a token to prove the delegation works."""
        self.auth.renew()
        return (
            f"the service account {self.auth.client_email} acts as {self.auth.subject} with {len(self.auth.scopes)} scope(s) "
            f"(key from {self.auth.key_label})"
        )

    def check(self) -> list[CheckResult]:
        """The key, the delegated sign-in, reading users, and reading each configured group."""
        results = [CheckResult("configuration", True, f"{self.auth.client_email} acting as {self.auth.subject}; key from {self.auth.key_label}")]
        try:
            self.auth.renew()
            results.append(CheckResult("sign-in", True, f"token from {self.auth.token_url} for {', '.join(self.auth.scopes)}"))
        except SyncError as exc:
            results.append(CheckResult("sign-in", False, str(exc)))
            return results
        steps: list[tuple[str, Callable[[], str]]] = [("users", self._check_users)]
        if self.groups:
            steps.append(("groups", self._check_groups))
        for name, step in steps:
            try:
                results.append(CheckResult(name, True, step()))
            except SyncError as exc:
                results.append(CheckResult(name, False, str(exc)))
        return results

    def _check_users(self) -> str:
        self.client.get("users", {**self.users_params(1), "fields": "users(id)"}, scope=READ_USERS)
        return f"{READ_USERS}: users can be read"

    def _check_groups(self) -> str:
        for key in self.groups:
            try:
                self.client.get(f"groups/{key}/members", {"maxResults": "1", "fields": "members(id)"}, scope=READ_GROUP_MEMBERS)
            except DirectoryError as exc:
                if exc.status == 404:
                    raise DirectoryError(f"the group {key!r} (groups) was not found; use its e-mail address or id", 404) from None
                raise
        return f"{READ_GROUP_MEMBERS}: {len(self.groups)} group(s) found and readable"

    def close(self) -> None:
        self.session.close()
