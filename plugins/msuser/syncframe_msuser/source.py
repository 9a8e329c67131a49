"""The MSUSER source: Microsoft 365 / Entra ID users through Microsoft Graph.

How it reads (see the plugin README for the why):

- **full read**: first ``/users/delta?$deltatoken=latest`` (one request: a delta
  link for "from now on"), then ``/users?$select=...&$top=999&$count=true`` page by
  page (a 2,500-user tenant is 3 requests). Taking the link *before* the list means a
  change made during the list shows up again in the next delta round (replays are
  harmless). The read is complete only when the pages held as many users as Graph
  counted: a lost last page looks like the end of the list otherwise.
- **incremental read**: the saved delta link, merged onto the engine's last full view
  (delta sends only changed properties); users that cannot be completed from that
  view (new users arrive without the properties they never had) are fetched 20 per
  JSON batch. A round with no change is exactly one request.
- a full read at least every ``reconcile_every`` (one day), when the delta link
  expired (410 / ``syncStateNotFound``), or when the settings changed.
- with ``groups``: the transitive user members of those groups, every run.

Anything that stops a read half way gives ``complete=False`` with the reason (the
engine then removes nobody) and keeps the old bookmark.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from syncframe import (
    AuthenticationError,
    CheckResult,
    ConnectorContext,
    FatalSyncError,
    Identity,
    Progress,
    ReadResult,
    Source,
    SyncError,
    TokenStore,
    no_progress,
)
from syncframe.sdk import CASession, RetryPolicy

from .auth import READ_GROUP_MEMBERS, READ_PRESENCE, READ_USERS, FileTokenStore, GraphAuth
from .bulk import fetch_users
from .clouds import resolve
from .graph import DeltaExpired, GraphClient, GraphError, GraphUnavailable
from .presence import fetch_presences
from .users import REQUIRED, SELECT_PARAM, is_whole, out_of_scope, properties, to_graph, to_identity

log = logging.getLogger("syncframe.msuser")

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: advanced queries (the user cast, $count) need this header on every page
EVENTUAL = {"ConsistencyLevel": "eventual"}
BOOKMARK_VERSION = 1
#: the most seconds one read may spend waiting on throttling and retries, all requests together
READ_RETRY_BUDGET = 600.0
#: a listing's next link that outlived it (400 Directory_ExpiredPageToken) restarts it from page 1, this often
EXPIRED_PAGE_TOKEN = "Directory_ExpiredPageToken"
EXPIRED_PAGE_RESTARTS = 2


@dataclass(frozen=True)
class Bookmark:
    """What the next read starts from: the delta link and when the last full read was.

    ``fingerprint`` ties it to the settings it was made with (tenant, Graph URL,
    properties, groups); a bookmark made with other settings forces a full read.
    """

    delta_link: str | None
    full_read_at: float
    fingerprint: str

    def encode(self) -> str:
        return json.dumps(
            {"v": BOOKMARK_VERSION, "delta_link": self.delta_link, "full_read_at": self.full_read_at, "fingerprint": self.fingerprint},
            sort_keys=True,
        )

    @classmethod
    def decode(cls, text: str | None) -> "Bookmark | None":
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.get("v") != BOOKMARK_VERSION:
                return None
            return cls(data.get("delta_link"), float(data["full_read_at"]), str(data["fingerprint"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def shortfall(counted: int | None, held: int) -> str | None:
    """Why a full listing cannot be trusted as complete, or None when it can.

    A page that arrives without ``@odata.nextLink`` although more users exist looks
    exactly like the last page; only Graph's own count tells them apart.
    """
    if counted is None:
        return "Graph did not count the users (no @odata.count), so the read cannot be proven complete"
    if held < counted:
        return f"Graph counted {counted} users but the pages held {held}; the read is incomplete"
    return None


class ReadStopped(Exception):
    """A read ended early after some users were read; carries why."""


class MsuserSource(Source):
    """Users from Microsoft 365 (Entra ID) through Microsoft Graph.

    :param config: The validated ``[source]`` section.
    :param context: The connector; its ``token_store`` keeps the delegated sign-in.
    :param policy: Retry policy (tests inject a ``sleep`` that records waits).
    :param clock: Seconds since the epoch, for the daily full reconcile.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        context: ConnectorContext,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(config, context)
        self.endpoints = resolve(config)
        self.clock = clock
        self.session = CASession(config.get("ca_bundle"))
        policy = policy or RetryPolicy(total_budget_seconds=READ_RETRY_BUDGET)
        timeout = float(config.get("timeout", 60.0))
        # the secret is read and checked here: a ConfigError before any request
        self.auth = GraphAuth(
            config, self.endpoints, self._token_store(), self.session, connector_name=context.name, policy=policy, timeout=timeout
        )
        self.graph = GraphClient(self.endpoints.graph_url, self.auth, self.session, policy, timeout)
        self.groups: list[str] = list(config.get("groups") or [])
        self.include_guests = bool(config.get("include_guests", False))
        self.include_disabled = bool(config.get("include_disabled", False))
        self.presence = bool(config.get("presence", False))
        self.reconcile_every = float(config.get("reconcile_every", 86400))
        self.page_size = int(config.get("page_size", 999))

    def _token_store(self) -> TokenStore | None:
        if self.config.get("token_cache_file"):
            return FileTokenStore(str(self.config["token_cache_file"]))
        if self.context.token_store is not None:
            return self.context.token_store
        if self.context.state_dir is not None:
            return FileTokenStore(Path(self.context.state_dir) / f"{self.context.name}.msal-cache.json")
        return None

    def fingerprint(self) -> str:
        # scope settings too: the saved view carries each user's out-of-scope reason
        key = json.dumps([self.endpoints.tenant, self.endpoints.graph_url, SELECT_PARAM, sorted(self.groups), self.include_guests, self.include_disabled])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    # -- reading ---------------------------------------------------------------

    def read(self, bookmark: str | None, previous: Mapping[str, Identity], progress: Progress = no_progress) -> ReadResult:
        stats = self.graph.reset_stats()
        if self.groups:
            result = self._read_groups(bookmark, progress)
        else:
            mark = Bookmark.decode(bookmark)
            why_full = self._why_full(mark, previous)
            result = None
            if why_full is None and mark is not None and mark.delta_link:
                try:
                    result = self._read_delta(mark, bookmark, previous, progress)
                except DeltaExpired as exc:
                    log.warning("%s", exc)
                    why_full = "the delta link expired"
            if result is None:
                result = self._read_full(why_full or "first read", bookmark, progress)
        result = _replace(result, identities=tuple(self.scoped(i) for i in result.identities))
        if self.presence:
            result = self._with_presence(result, previous)
        return _replace(result, stats={**result.stats, **stats.as_dict()})

    def _why_full(self, mark: Bookmark | None, previous: Mapping[str, Identity]) -> str | None:
        if mark is None:
            return "first read"
        if mark.fingerprint != self.fingerprint():
            return "the settings changed since the last read"
        if not mark.delta_link:
            return "no delta link was saved"
        if not previous:
            # changes alone would read as "these are all the users": rebuild the view instead
            return "there is no previous view to apply changes to"
        if self.clock() - mark.full_read_at >= self.reconcile_every:
            return "the daily full reconcile is due"
        return None

    def _latest_delta_link(self) -> str | None:
        """A delta link meaning "changes from now on" (``$deltatoken=latest``)."""
        params = {"$select": SELECT_PARAM, "$deltatoken": "latest"}
        for page in self.graph.pages("users/delta", params=params, permission=READ_USERS):
            if page.get("@odata.deltaLink"):
                return str(page["@odata.deltaLink"])
        return None

    def _read_full(self, why: str, old_bookmark: str | None, progress: Progress) -> ReadResult:
        started = self.clock()
        delta_link = self._latest_delta_link()
        users: dict[str, dict[str, Any]] = {}
        reason = None
        pages_before = self.graph.stats.pages
        for attempt in range(1 + EXPIRED_PAGE_RESTARTS):
            users.clear()
            try:
                counted = self._list_users(users, progress)
            except (GraphUnavailable, GraphError) as exc:
                if getattr(exc, "code", None) == EXPIRED_PAGE_TOKEN and attempt < EXPIRED_PAGE_RESTARTS:
                    # a next link outlived its listing: only a new listing from page 1 helps
                    log.warning("the user listing expired after %d users; reading it again from the start", len(users))
                    continue
                if self.graph.stats.pages == pages_before:
                    raise  # nothing at all was read: an error, not an incomplete read
                reason = f"the full read stopped after {len(users)} users: {exc}"
            else:
                reason = shortfall(counted, len(users))
            break
        identities = tuple(to_identity(u) for u in users.values())
        complete = reason is None
        bookmark = Bookmark(delta_link, started, self.fingerprint()).encode() if complete else old_bookmark
        return ReadResult(identities, complete=complete, bookmark=bookmark, incremental=False, reason=reason, stats={"read": "full", "why": why})

    def _list_users(self, users: dict[str, dict[str, Any]], progress: Progress) -> int | None:
        """Every page of ``/users`` into ``users``; returns Graph's count of them (page 1's
        ``@odata.count``, which needs ``$count=true`` and ``ConsistencyLevel: eventual``)."""
        counted: int | None = None
        params = {"$select": SELECT_PARAM, "$top": str(self.page_size), "$count": "true"}
        for page in self.graph.pages("users", params=params, headers=EVENTUAL, permission=READ_USERS):
            if counted is None and isinstance(page.get("@odata.count"), int):
                counted = int(page["@odata.count"])
            batch = [u for u in page.get("value") or () if isinstance(u, dict) and u.get("id")]
            for user in batch:
                users[str(user["id"])] = user
            progress(len(batch), counted)
        return counted

    def _read_delta(self, mark: Bookmark, old_bookmark: str | None, previous: Mapping[str, Identity], progress: Progress) -> ReadResult:
        changed: dict[str, dict[str, Any] | None] = {}  # None: removed
        soft_deleted = 0
        new_link: str | None = None
        reason = None
        try:
            for page in self.graph.pages(str(mark.delta_link), permission=READ_USERS):
                records = [r for r in page.get("value") or () if isinstance(r, dict) and r.get("id")]
                for record in records:
                    uid = str(record["id"])
                    removed = record.get("@removed")
                    if removed is not None:
                        # 'deleted' = gone for good; 'changed' = soft-deleted (restorable for 30
                        # days). Neither is in /users any more, so both leave the view, as a
                        # full read would have it; a restore comes back as a whole user.
                        if str((removed or {}).get("reason", "")).lower() == "changed":
                            soft_deleted += 1
                        changed[uid] = None
                        continue
                    base = changed.get(uid)
                    if base is None and uid in previous:
                        base = to_graph(previous[uid])
                    changed[uid] = {**(base or {}), **properties(record)}
                progress(len(records), None)
                if page.get("@odata.deltaLink"):
                    new_link = str(page["@odata.deltaLink"])
            if new_link is None:
                reason = "the delta round ended without a delta link"
            self._complete_records(changed, previous)
        except DeltaExpired:
            raise
        except (GraphUnavailable, GraphError) as exc:
            if self.graph.stats.pages == 0:
                raise
            reason = f"the incremental read stopped: {exc}"
        identities = []
        removed_ids = []
        for uid, user in changed.items():
            if user is None:
                removed_ids.append(uid)
            elif all(user.get(k) is not None for k in REQUIRED[:2]):
                identities.append(to_identity(user, extra=dict(previous[uid].extra) if uid in previous else None))
        complete = reason is None
        bookmark = Bookmark(new_link, mark.full_read_at, mark.fingerprint).encode() if complete else old_bookmark
        return ReadResult(
            tuple(identities),
            complete=complete,
            bookmark=bookmark,
            incremental=True,
            removed=tuple(removed_ids),
            reason=reason,
            stats={"read": "delta", "soft_deleted": soft_deleted},
        )

    def _complete_records(self, changed: dict[str, dict[str, Any] | None], previous: Mapping[str, Identity]) -> None:
        """Fetch the users a delta round did not describe whole (new to us, or missing fields),
        20 per JSON batch; one gone since the round was recorded is dropped."""
        wanted = [
            uid for uid, user in changed.items()
            if user is not None and not (all(k in user for k in REQUIRED) if uid in previous else is_whole(user))
        ]
        changed.update(fetch_users(self.graph, wanted, SELECT_PARAM))

    # -- groups ----------------------------------------------------------------

    def resolve_groups(self) -> list[tuple[str, str]]:
        """(as configured, object id) per configured group; names are looked up exactly."""
        resolved = []
        for entry in self.groups:
            if GUID_RE.match(entry):
                resolved.append((entry, entry))
                continue
            quoted = entry.replace("'", "''")
            body = self.graph.request(
                "GET", "groups", params={"$filter": f"displayName eq '{quoted}'", "$select": "id,displayName"}, permission=READ_GROUP_MEMBERS
            )
            found = [g for g in body.get("value") or () if isinstance(g, dict) and g.get("id")]
            if not found:
                raise FatalSyncError(f"the group {entry!r} (groups) was not found in the tenant; check the name or use its object id")
            if len(found) > 1:
                ids = ", ".join(str(g["id"]) for g in found)
                raise FatalSyncError(f"the group name {entry!r} (groups) is ambiguous ({len(found)} groups: {ids}); use the object id")
            resolved.append((entry, str(found[0]["id"])))
        return resolved

    def _read_groups(self, old_bookmark: str | None, progress: Progress) -> ReadResult:
        started = self.clock()
        groups = self.resolve_groups()
        users: dict[str, dict[str, Any]] = {}
        member_of: dict[str, list[str]] = {}
        reason = None
        try:
            for label, group_id in groups:
                seen, expected = self._read_group(label, group_id, users, member_of, progress)
                if expected is not None and seen < expected:
                    raise ReadStopped(f"Graph announced {expected} members of group {label!r} but the pages held {seen}")
        except ReadStopped as exc:
            reason = str(exc)
        except (GraphUnavailable, GraphError) as exc:
            reason = f"the group read stopped after {len(users)} users: {exc}"
        identities = tuple(to_identity(u, groups=tuple(member_of[uid])) for uid, u in users.items())
        complete = reason is None
        bookmark = Bookmark(None, started, self.fingerprint()).encode() if complete else old_bookmark
        return ReadResult(identities, complete=complete, bookmark=bookmark, incremental=False, reason=reason, stats={"read": "groups"})

    def _read_group(
        self, label: str, group_id: str, users: dict[str, dict[str, Any]], member_of: dict[str, list[str]], progress: Progress
    ) -> tuple[int, int | None]:
        params = {"$select": SELECT_PARAM, "$top": str(self.page_size), "$count": "true"}
        seen = 0
        expected: int | None = None
        path = f"groups/{group_id}/transitiveMembers/microsoft.graph.user"
        try:
            for page in self.graph.pages(path, params=params, headers=EVENTUAL, permission=READ_GROUP_MEMBERS):
                if expected is None and "@odata.count" in page:
                    expected = int(page["@odata.count"])
                batch = [
                    u for u in page.get("value") or ()
                    if isinstance(u, dict) and u.get("id") and u.get("@odata.type", "#microsoft.graph.user") == "#microsoft.graph.user"
                ]
                for user in batch:
                    uid = str(user["id"])
                    users[uid] = properties(user)
                    labels = member_of.setdefault(uid, [])
                    if label not in labels:
                        labels.append(label)
                seen += len(batch)
                progress(len(batch), expected)
        except GraphError as exc:
            if exc.status == 404:
                # reading on would remove every member of a group that is only misnamed
                raise FatalSyncError(f"the group {label!r} (groups) was not found in the tenant; check its object id") from None
            raise
        return seen, expected

    # -- presence --------------------------------------------------------------

    def scoped(self, identity: Identity) -> Identity:
        """The identity with this source's scope decision (guests and disabled users out unless included)."""
        reason = out_of_scope(identity, self.include_guests, self.include_disabled)
        return identity if reason == identity.out_of_scope else identity.replace(out_of_scope=reason)

    def in_scope(self, identity: Identity) -> bool:
        return out_of_scope(identity, self.include_guests, self.include_disabled) is None

    def _with_presence(self, result: ReadResult, previous: Mapping[str, Identity]) -> ReadResult:
        """Put presence on in-scope users; on an incremental read also on unchanged users whose presence changed."""
        current: dict[str, Identity] = {}
        if result.incremental:
            current.update(previous)
            for uid in result.removed:
                current.pop(uid, None)
        current.update({i.source_id: i for i in result.identities})
        wanted = [uid for uid, ident in current.items() if self.in_scope(ident)]
        stats = dict(result.stats)
        try:
            found = fetch_presences(self.graph, wanted)
        except (GraphUnavailable, GraphError) as exc:
            # presence is an extra: the users are still right, so the read stays complete
            log.warning("presence not read: %s", exc)
            stats["presence_error"] = str(exc)
            return _replace(result, stats=stats)
        changed_ids = {i.source_id for i in result.identities}
        identities = []
        for uid, ident in current.items():
            presence = found.get(uid)
            if presence is None:
                if uid in changed_ids:
                    identities.append(ident)
                continue
            updated = ident.replace(extra={**dict(ident.extra), "presence": presence})
            if uid in changed_ids or not result.incremental or dict(ident.extra).get("presence") != presence:
                identities.append(updated)
        stats["presences"] = len(found)
        return _replace(result, identities=tuple(identities), stats=stats)

    # -- sign-in and checks ----------------------------------------------------

    def authenticate(self) -> str:
        """``syncframe auth``: the device code sign-in (delegated), or a token check (app-only)."""
        echo = self.context.echo
        if self.auth.way == "delegated":
            who = self.auth.device_sign_in(echo)
            if self.auth.token_store is None:
                return f"signed in as {who}, but there is no token store: set token_cache_file to keep the sign-in for later runs"
            return f"signed in as {who}; the sign-in is kept in the connector's token store and used unattended from now on"
        echo(f"An administrator grants {self.auth.permission_text()} for the whole organization at: {self.auth.consent_url}")
        self.auth.access_token()
        return f"app {self.auth.client_id} signed in to {self.endpoints.authority} with its {self.auth.credential_label}"

    def check(self) -> list[CheckResult]:
        """Sign-in, each permission the settings need, and that Graph answers."""
        results = [CheckResult("configuration", True, f"{self.auth.way} sign-in with {self.auth.credential_label}; Graph at {self.endpoints.graph_url}")]
        try:
            self.auth.access_token()
            results.append(CheckResult("sign-in", True, f"token from {self.endpoints.authority}"))
        except SyncError as exc:
            results.append(CheckResult("sign-in", False, str(exc)))
            return results
        sample: str | None = None
        steps: list[tuple[str, Callable[[], str]]] = []

        def users() -> str:
            nonlocal sample
            body = self.graph.request("GET", "users", params={"$select": "id", "$top": "1"}, permission=READ_USERS)
            value = body.get("value") or []
            sample = str(value[0]["id"]) if value else None
            return f"{READ_USERS}: users can be read"

        def delta() -> str:
            self._latest_delta_link()
            return "change tracking (users/delta) works"

        def groups() -> str:
            found = self.resolve_groups()
            for label, group_id in found:
                self.graph.request(
                    "GET", f"groups/{group_id}/transitiveMembers/microsoft.graph.user",
                    params={"$select": "id", "$top": "1", "$count": "true"}, headers=EVENTUAL, permission=READ_GROUP_MEMBERS,
                )
            return f"{READ_GROUP_MEMBERS}: {len(found)} group(s) found and readable"

        def presence() -> str:
            if sample is None:
                return f"{READ_PRESENCE}: not verified (the tenant has no user to ask about)"
            fetch_presences(self.graph, [sample])
            # say what it is for: nothing in the user import uses presence
            return f"{READ_PRESENCE}: presence can be read; it is passed on as extra[\"presence\"] for plugins that use it (the bundled targets do not)"

        steps.append(("users", users))
        steps.append(("delta", delta))
        if self.groups:
            steps.append(("groups", groups))
        if self.presence:
            steps.append(("presence", presence))
        for name, step in steps:
            try:
                results.append(CheckResult(name, True, step()))
            except (SyncError, AuthenticationError) as exc:
                results.append(CheckResult(name, False, str(exc)))
        return results

    def close(self) -> None:
        self.session.close()


def _replace(result: ReadResult, **changes: Any) -> ReadResult:
    return dataclasses.replace(result, **changes)
