"""A local Google Workspace: the OAuth token endpoint and the Admin SDK Directory API
(HTTPS on 127.0.0.1). google-auth and requests run unmodified against it; clients
verify TLS against :attr:`GoogleSimulator.ca_bundle`.

Quick start::

    from syncframe_google.simulator import GoogleSimulator

    sim = GoogleSimulator(domain="example.com", users=1200, seed=7).start()
    sim.url              # https://127.0.0.1:<port>   (a profile's api_url)
    sim.token_url        # https://127.0.0.1:<port>/token
    sim.ca_bundle        # PEM of the throwaway CA
    sim.admin            # admin@example.com: the subject service accounts may act as
    sim.key.write(path)  # the default service account's JSON key file (0600)
    ...
    sim.stop()

Service accounts and delegation
    ``add_service_account(name="syncframe", scopes=DEFAULT_SCOPES) -> ServiceAccountKey`` (a fresh
    RSA key; ``.info()``, ``.json()``, ``.write(path)``, ``.client_id``, ``.client_email``);
    ``delegate(client_id, scopes)`` (empty: delegation not granted, tokens answer
    ``unauthorized_client``); ``delete_key(key)``; ``revoke_tokens()``; ``advance_time(seconds)``.
    A subject must be a user or the administrator (else ``invalid_grant``); only
    administrators (``sim.workspace.make_admin(email)``) may read the directory (else 403).

The account (``sim.workspace``, thread-safe; Directory API property names)
    ``add_user(primaryEmail, givenName, familyName, **props) -> dict``; ``put_user(user)``;
    ``update_user(key, **props)``; ``rename(key, new_email)`` (the old address becomes an alias);
    ``suspend(key)``; ``archive(key)``; ``move(key, org_unit)``; ``delete_user(key)``;
    ``find_user(key)``; ``users()``; ``generate_users(n, seed=0)``; ``add_group(email, name=None)``;
    ``ensure_group(email)``; ``add_member(group, member)`` (user, group, ``"customer"`` or an
    external address); ``remove_member(group, member)``; ``members(group)``.

Switches (``sim.switches``)
    ``set_latency(seconds)``; ``throttle(next_n=0, every=None, kind="429"|"rateLimitExceeded"|
    "userRateLimitExceeded"|"503", retry_after=None, scope="api"|"token"|"all")``;
    ``fail_page(page, status=503|500|429|"drop", times=1, endpoint=None|"users"|"members")``;
    ``set_token_lifetime(seconds)``; ``reset()``.

Request log
    ``sim.requests`` -> [RequestRecord(method, path, query, status, seconds)] (status 0 = dropped);
    ``sim.path_counts()``; ``sim.stats()``; ``sim.log.clear()``.

Served endpoints (same host and port)
    ``POST /token`` (JWT bearer grant, see :mod:`.tokens`); ``GET /admin/directory/v1/users``
    and ``GET /admin/directory/v1/groups/{groupKey}/members`` (see :mod:`.api`).

Deliberate simplifications
    The administrator is a subject outside the user list; no deleted users are kept
    (``showDeleted=true`` answers an empty list); ``query`` searches are refused.
"""

from .api import ApiError
from .keys import ServiceAccountKey, new_service_account
from .server import DEFAULT_SCOPES, READ_GROUP_MEMBERS, READ_USERS, GoogleSimulator
from .switches import DROP, RequestRecord, Switches
from .workspace import NotFound, Workspace

__all__ = [
    "ApiError",
    "DEFAULT_SCOPES",
    "DROP",
    "GoogleSimulator",
    "NotFound",
    "READ_GROUP_MEMBERS",
    "READ_USERS",
    "RequestRecord",
    "ServiceAccountKey",
    "Switches",
    "Workspace",
    "new_service_account",
]
