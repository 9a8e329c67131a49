"""The Microsoft clouds MSUSER knows: each fixes a login host and a Graph root.

A token is only good for the Graph of the cloud that issued it, so the two always
come as a pair (``cloud = "usgov"`` moves both). Tests and labs override them with
``authority_host`` / ``graph_url``.

The hosts are those of Microsoft's "National cloud deployments" page
(https://learn.microsoft.com/graph/deployments): both US Government clouds (L4 / GCC
High and L5 / DoD) sign in at ``login.microsoftonline.us`` and differ in their Graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Cloud:
    name: str
    login_host: str
    graph_root: str


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("global", "login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("usgov", "login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov-dod": Cloud("usgov-dod", "login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("china", "login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

#: hosts msal validates itself (instance discovery may stay on for these)
PUBLIC_LOGIN_HOSTS = frozenset({"login.microsoftonline.com"})


def known_login_hosts() -> frozenset[str]:
    return frozenset(c.login_host for c in CLOUDS.values())


def known_graph_hosts() -> frozenset[str]:
    return frozenset(urlsplit(c.graph_root).hostname or "" for c in CLOUDS.values())


def clouds_of(url: str) -> list[str]:
    """The known clouds a login or Graph URL belongs to (a login host may serve several),
    empty for loopback and labs."""
    host = (urlsplit(url).hostname or "").lower()
    return [c.name for c in CLOUDS.values() if host in (c.login_host, urlsplit(c.graph_root).hostname)]


@dataclass(frozen=True)
class Endpoints:
    """Where to sign in and what to call, resolved from a profile section."""

    authority_host: str  # https://login.microsoftonline.com (no trailing slash)
    graph_url: str  # https://graph.microsoft.com/v1.0
    tenant: str

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant}"

    @property
    def graph_root(self) -> str:
        """The resource part of scopes: scheme and host of the Graph URL."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def default_scope(self) -> str:
        return f"{self.graph_root}/.default"

    def scope(self, permission: str) -> str:
        return f"{self.graph_root}/{permission}"

    @property
    def public_cloud(self) -> bool:
        return (urlsplit(self.authority_host).hostname or "") in PUBLIC_LOGIN_HOSTS

    def admin_consent_url(self, client_id: str) -> str:
        """Where a tenant administrator grants the app's permissions."""
        return f"{self.authority_host}/{self.tenant}/adminconsent?client_id={client_id}"


def resolve(config: Mapping[str, Any]) -> Endpoints:
    """The endpoints of a validated ``[source]`` section (overrides beat ``cloud``)."""
    cloud = CLOUDS[config.get("cloud") or "global"]
    authority_host = (config.get("authority_host") or f"https://{cloud.login_host}").rstrip("/")
    graph_url = (config.get("graph_url") or f"{cloud.graph_root}/v1.0").rstrip("/")
    return Endpoints(authority_host=authority_host, graph_url=graph_url, tenant=str(config["tenant"]))
