"""Readers page through users while the tenant changes underneath: no errors, no torn pages."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from syncframe.http import CASession
from syncframe_msuser.simulator import GraphSimulator


def test_parallel_paging_while_the_tenant_changes(sim: GraphSimulator, app_token) -> None:
    ids = sim.tenant.generate_users(600, seed=60)
    token = app_token()
    stop = threading.Event()

    def read_all(_: int) -> tuple[int, set[int]]:
        statuses: set[int] = set()
        seen = 0
        with CASession(sim.ca_bundle) as http:
            url: str | None = f"{sim.graph_url}/users?$top=50&$select=id,displayName"
            while url:
                response = http.get(url, headers={"Authorization": f"Bearer {token}"})
                statuses.add(response.status_code)
                body = response.json()
                seen += len(body["value"])
                url = body.get("@odata.nextLink")
        return seen, statuses

    def churn() -> None:
        n = 0
        while not stop.is_set() and n < 300:
            sim.tenant.update_user(ids[n % 600], displayName=f"Renamed {n}")
            if n % 10 == 0:
                sim.tenant.add_user(userPrincipalName=f"churn{n}@contoso.onmicrosoft.com")
            n += 1

    writer = threading.Thread(target=churn)
    writer.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(read_all, range(6)))
    stop.set()
    writer.join()
    for seen, statuses in results:
        assert statuses == {200}
        assert seen >= 600  # a listing is a snapshot of the ids at its first page
