"""Read every user with the official Microsoft Graph SDK (``msgraph-sdk``), in its own process.

Run by the harness as ``python -m harness.read_sdk_worker`` with the simulator's
settings in the environment (``BENCH_*``). It signs in with azure-identity's
``ClientSecretCredential`` against the simulator's login endpoint, points the
request adapter's base URL at the simulator's Graph, verifies TLS with the
simulator's CA bundle, asks for the same ``$select`` and ``$top`` syncframe uses,
follows ``@odata.nextLink`` the way the SDK's docs show, and keeps every ``User``
model in a list (as syncframe keeps every identity). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit


async def read_all() -> dict:
    import httpx
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core import GraphClientFactory

    graph_url = os.environ["BENCH_GRAPH_URL"].rstrip("/")      # ends with /v1.0
    authority = os.environ["BENCH_AUTHORITY_HOST"].rstrip("/")  # https://127.0.0.1:port
    ca_bundle = os.environ["BENCH_CA_BUNDLE"]
    select = os.environ["BENCH_SELECT"].split(",")
    top = int(os.environ.get("BENCH_TOP", "999"))

    started = time.perf_counter()
    credential = ClientSecretCredential(
        tenant_id=os.environ["BENCH_TENANT"],
        client_id=os.environ["BENCH_CLIENT_ID"],
        client_secret=os.environ["BENCH_CLIENT_SECRET"],
        authority=authority,
        disable_instance_discovery=True,
        connection_verify=ca_bundle,
    )
    host = urlsplit(graph_url).hostname or ""
    auth = AzureIdentityAuthenticationProvider(credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=[host])
    http_client = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=ca_bundle, timeout=60))
    adapter = GraphRequestAdapter(auth, client=http_client)
    adapter.base_url = graph_url
    client = GraphServiceClient(request_adapter=adapter)

    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=select, top=top)
    config = UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(query_parameters=query)
    users = []
    pages = 0
    page = await client.users.get(request_configuration=config)
    while page is not None:
        pages += 1
        users.extend(page.value or [])
        if not page.odata_next_link:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    elapsed = time.perf_counter() - started
    sample = users[0] if users else None
    await http_client.aclose()
    return {
        "reader": "msgraph-sdk",
        "users": len(users),
        "pages": pages,
        "read_s": round(elapsed, 3),
        # proof the models were filled: a field from the $select
        "sample_upn": getattr(sample, "user_principal_name", None),
    }


def main() -> None:
    t0 = time.perf_counter()
    result = asyncio.run(read_all())
    result["process_s"] = round(time.perf_counter() - t0, 3)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
