"""``GraphSandbox``: the Graph + login simulator as a :class:`syncframe.SourceSandbox`.

The demo, the end-to-end tests and the benchmark seed users through
:meth:`GraphSandbox.put_identity` and point an MSUSER connector at
:meth:`GraphSandbox.profile_section`; the client secret travels through the
environment variable the section names (:meth:`GraphSandbox.environment`).
"""

from __future__ import annotations

from typing import Any, Sequence

from syncframe import Identity, SourceSandbox

from .simulator import GraphSimulator
from .users import to_graph

SECRET_ENV = "SYNCFRAME_SANDBOX_GRAPH_SECRET"


class GraphSandbox(SourceSandbox):
    """A simulated Microsoft 365 tenant for an MSUSER connector.

    :param tenant_domain: The tenant's domain (UPN suffix of generated users).
    :param groups: When given, ``profile_section()`` includes ``"groups": groups``.
    :param simulator: An existing (not yet started) simulator to wrap.
    :param users: Generate this many realistic users up front (deterministic for ``seed``).
    """

    def __init__(self, tenant_domain: str = "contoso.onmicrosoft.com", groups: Sequence[str] | None = None,
                 simulator: GraphSimulator | None = None, users: int = 0, seed: int = 0):
        self.simulator = simulator or GraphSimulator(tenant_domain=tenant_domain, users=users, seed=seed)
        self.groups = list(groups) if groups is not None else None
        #: users per page in profile_section(), when a fault needs more than one page
        self.page_size: int | None = None

    def start(self) -> None:
        self.simulator.start()

    def stop(self) -> None:
        self.simulator.stop()

    def profile_section(self) -> dict[str, Any]:
        sim = self.simulator
        section: dict[str, Any] = {
            "tenant": sim.tenant_id,
            "client_id": sim.client_id,
            "auth": "client_secret",
            "client_secret_env": SECRET_ENV,
            "authority_host": sim.url,
            "graph_url": sim.graph_url,
            "ca_bundle": sim.ca_bundle,
        }
        if self.groups is not None:
            section["groups"] = list(self.groups)
        if self.page_size is not None:
            section["page_size"] = self.page_size
        return section

    def environment(self) -> dict[str, str]:
        return {SECRET_ENV: self.simulator.client_secret}

    def put_identity(self, identity: Identity) -> None:
        """Create or replace the Graph user ``identity.source_id`` and its group memberships."""
        tenant = self.simulator.tenant
        props = identity_to_user(identity)
        user_id = identity.source_id
        if tenant.get_deleted_user(user_id) is not None:
            tenant.restore(user_id)
        if tenant.get_user(user_id) is not None and tenant.get_user(user_id)["id"] == user_id:
            tenant.update_user(user_id, **props)
        else:
            tenant.add_user(id=user_id, **props)
        wanted = {tenant.ensure_group(name) for name in identity.groups}
        for group_id in tenant.direct_groups(user_id) - wanted:
            tenant.remove_member(group_id, user_id)
        for group_id in wanted:
            tenant.add_member(group_id, user_id)

    def remove_identity(self, source_id: str) -> None:
        """Delete the user for good (delta reports ``@removed: deleted``)."""
        self.simulator.tenant.hard_delete(source_id)

    def fail_reads_after(self, users: int) -> None:
        """Listings of /users fail after their first page of ``users`` users: a 400 that
        no retry cures (as Graph answers a skip token it no longer knows). Open the
        source afterwards: the profile section now names that page size."""
        self.page_size = max(1, users)
        self.simulator.switches.fail_page(2, status=400, times=1_000_000, endpoint="users")

    def stats(self) -> dict[str, Any]:
        return self.simulator.stats()


def identity_to_user(identity: Identity) -> dict[str, Any]:
    """The Graph user properties of an :class:`Identity` (everything but the id)."""
    user = to_graph(identity)
    del user["id"]
    # Graph requires a display name; the demo's data may leave it empty
    user["displayName"] = identity.display_name or identity.username.split("@", 1)[0]
    return user
