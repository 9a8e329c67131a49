"""Scale: the benchmark lists up to 100,000 users; the list stays right between writes.

How fast it lists is the benchmark's business (bench/), not a timed test's."""

from __future__ import annotations

import pytest

from syncframe.http import CASession
from syncframe_pascom.simulator import PascomSimulator


def _users(n: int):
    return ({"login": f"user{i}@contoso.com", "display_name": f"User {i}", "email": f"user{i}@contoso.com"}
            for i in range(n))


def _list_after_writes(n: int) -> None:
    with PascomSimulator(keep_log=False) as sim:  # its own: the users go when the test ends
        _check(sim, n)


def _check(sim: PascomSimulator, n: int) -> None:
    inst = sim.add_instance("big", pool=range(100, 100 + 2 * n), seed_admin=False)
    assert inst.seed_users(_users(n)) == n
    session = CASession(sim.ca_bundle)
    session.auth = ("moby", inst.password)
    base = sim.services_url(inst.name) + "identity/"
    for round_ in range(2):
        listed = session.get(base)
        assert listed.status_code == 200 and len(listed.json()) == n
        # a write in between: the list must show it, without re-serialising everyone
        login = f"user{round_}@contoso.com"
        assert session.put(base + login, json={"003use_bez": f"Renamed {round_}"}).status_code == 200
    users = session.get(base).json()
    assert len(users) == n
    assert [u["003use_bez"] for u in users[:2]] == ["Renamed 0", "Renamed 1"]


def test_list_20k_users_after_writes() -> None:
    _list_after_writes(20_000)


@pytest.mark.slow
def test_list_100k_users_after_writes() -> None:
    _list_after_writes(100_000)
