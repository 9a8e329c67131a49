"""A local Microsoft Graph v1.0 + Entra ID login simulator (HTTPS on 127.0.0.1).

msal and requests run unmodified against it; clients verify TLS against
:attr:`GraphSimulator.ca_bundle` (use ``syncframe.http.CASession(ca_bundle)``).

Quick start::

    from syncframe_msuser.simulator import GraphSimulator

    sim = GraphSimulator(tenant_domain="contoso.onmicrosoft.com", users=1000, seed=7).start()
    sim.url            # https://127.0.0.1:<port>        (authority host = Graph host)
    sim.authority      # https://127.0.0.1:<port>/<tenant id>   (msal authority=)
    sim.graph_url      # https://127.0.0.1:<port>/v1.0
    sim.ca_bundle      # PEM of the throwaway CA
    sim.tenant_id      # GUID (stable per domain unless given)
    sim.client_id, sim.client_secret   # the default app (roles DEFAULT_APP_ROLES)
    ...
    sim.stop()

Constructor: ``GraphSimulator(tenant_domain="contoso.onmicrosoft.com", tenant_id=None, *,
users=0, seed=0, register_default_app=True, port=0)``; also a context manager.

Apps and sign-in
    ``register_app(client_id=None, secret=None, certificate_pem=None, roles=DEFAULT_APP_ROLES,
    delegated_scopes=DEFAULT_DELEGATED_SCOPES, public_client=True, display_name="syncframe")
    -> AppRegistration`` (``.client_id``, ``.secret``, ``.roles``); ``grant_roles(client_id, roles)``;
    ``consent_scopes(client_id, scopes)``; ``approve_device_code(user_code=None, user=None) -> user_code``
    (newest pending code; ``user`` = id/UPN of a tenant user, default a simulated admin);
    ``decline_device_code(user_code=None)``; ``pending_device_codes()``;
    ``login.auto_approve_after_polls = N``; ``login.device_code_interval`` (seconds, default 5);
    ``login.device_code_lifetime`` (900); ``revoke_tokens()``; ``advance_time(seconds)``
    (expires access tokens / ages delta tokens without sleeping).
    Client-credentials scope: ``https://graph.microsoft.com/.default`` (``<sim.url>/.default`` also works).

Tenant model (``sim.tenant``, thread-safe; Graph property names as keyword arguments)
    ``add_user(userPrincipalName=..., displayName=..., **props) -> dict``;
    ``update_user(id, **props) -> dict``; ``rename(id, upn, mail=None)``; ``disable(id)``;
    ``enable(id)``; ``soft_delete(id)``; ``restore(id)``; ``hard_delete(id)``;
    ``get_user(id_or_upn)``; ``users()``; ``user_count()``;
    ``generate_users(n, seed=0, guest_ratio=0.03, disabled_ratio=0.05) -> [ids]``;
    ``add_group(name, description=None, group_id=None) -> id``; ``ensure_group(name) -> id``;
    ``add_member(group_id, member_id)`` (users or groups: nesting); ``remove_member(...)``;
    ``set_presence(user_id, availability, activity=None, out_of_office=False, message=None)``.
    Guests: a UPN with ``#EXT#`` gets ``userType: Guest`` and the external mail.

Switches (``sim.switches`` a.k.a. ``sim.faults``)
    ``set_latency(seconds)``; ``throttle(next_n=0, every=None, rate=None, retry_after=1,
    scope="graph"|"login"|"all")``; ``fail_page(page, status=503|500|504|"drop", times=1,
    endpoint=None|"users"|"delta"|"members"|"groups")``; ``truncate_page(page, times=1,
    endpoint=None, mode="truncate"|"bad_json")``; ``short_page(page, times=1, endpoint=None)``;
    ``set_token_lifetime(seconds)``; ``reset()``. Permissions: ``grant_roles``.
    Paging knobs: ``sim.graph.users_page_size`` (100), ``sim.graph.delta_page_size`` (200),
    ``sim.graph.delta_token_retention`` (7 days); ``sim.invalidate_delta_tokens()``;
    ``sim.graph.skiptoken_lifetime`` (600 s) and ``sim.graph.forget_listings()`` (listing
    next links then answer 400 ``Directory_ExpiredPageToken``).

Request log
    ``sim.requests`` -> [RequestRecord(method, path, query, status, seconds)] (status 0 = dropped);
    ``sim.request_count``; ``sim.path_counts()``; ``sim.stats()``; ``sim.log.clear()``.

Served endpoints (same host and port)
    Login (``/<tenant id|domain|organizations|common>/``): ``v2.0/.well-known/openid-configuration``,
    ``discovery/v2.0/keys``, ``oauth2/v2.0/token`` (client_credentials with a secret in the body
    or HTTP Basic, or a certificate ``client_assertion`` checked against the registered
    certificate's x5t / x5t#S256; device_code; refresh_token), ``oauth2/v2.0/devicecode``;
    ``/devicelogin`` (POST ``user_code`` approves, for humans in the demo).
    Graph (``/v1.0``): ``GET /users`` ($select, $top 1..999, $filter, $count + ConsistencyLevel,
    $orderby, $search, $skiptoken nextLinks), ``GET /users/$count``, ``GET /users/{id|upn}``
    (also ``users('..')``), ``GET /users/delta`` (and ``delta()``, ``microsoft.graph.delta``),
    ``GET /groups`` ($filter, $select), ``GET /groups/{id}``,
    ``GET /groups/{id}/members|transitiveMembers[/microsoft.graph.user]``,
    ``GET /users/{id}/presence``, ``GET /communications/presences/{id}``,
    ``POST /communications/getPresencesByUserId`` (<= 650 ids), ``POST /$batch`` (<= 20).
    Details in :mod:`.login` and :mod:`.graph`.

Strict where Graph is strict (Microsoft's "advanced query capabilities" page)
    ``$count=true`` without ``ConsistencyLevel: eventual`` is silently ignored (no
    ``@odata.count``); ``/users/$count`` without it is 400 ``Request_BadRequest``; the cast
    ``.../transitiveMembers/microsoft.graph.user`` needs both and is 400
    ``Request_UnsupportedQuery`` otherwise, as are ``ne``/``not``/``endsWith`` and an ``in``
    of more than 15 values. Delta leaves out the properties a user never had, and with
    ``$select`` a restored user is no change (microsoftgraph/microsoft-graph-docs#5821):
    only a full read sees it back.

Deliberate simplifications
    Delta rounds after the first return only the changed properties (+ ``id``), whether or not
    ``Prefer: return=minimal`` is sent; the initial round never contains ``@removed`` items;
    ``$search`` matches word prefixes of the named property.
"""

from .login import AADError
from .odata import GraphError
from .server import DEFAULT_APP_ROLES, DEFAULT_DELEGATED_SCOPES, GraphSimulator
from .switches import BAD_JSON, DROP, SHORT, TRUNCATE, RequestRecord, Switches
from .tenant import Tenant, UnknownObject
from .tokens import AppRegistration

__all__ = [
    "AADError",
    "AppRegistration",
    "BAD_JSON",
    "DEFAULT_APP_ROLES",
    "DEFAULT_DELEGATED_SCOPES",
    "DROP",
    "GraphError",
    "GraphSimulator",
    "RequestRecord",
    "SHORT",
    "Switches",
    "TRUNCATE",
    "Tenant",
    "UnknownObject",
]
