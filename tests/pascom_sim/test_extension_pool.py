"""The extension pool against a naive model: always the lowest free number."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from syncframe_pascom.simulator import Instance
from syncframe_pascom.simulator.extensions import ExtensionPool

from .conftest import Api

ops = st.lists(
    st.one_of(
        st.tuples(st.just("next"), st.just(0)),
        st.tuples(st.just("take"), st.integers(95, 125)),
        st.tuples(st.just("release"), st.integers(95, 125)),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_pool_matches_naive_model(operations: list[tuple[str, int]]) -> None:
    pool = ExtensionPool(range(100, 120))
    used: set[int] = set()
    for op, number in operations:
        if op == "next":
            free = [n for n in range(100, 120) if n not in used]
            got = pool.next_free()
            assert got == (str(free[0]) if free else None)
            if free:
                used.add(free[0])
        elif op == "take" and number not in used:
            pool.take(str(number))
            used.add(number)
        elif op == "release" and number in used:
            pool.release(str(number))
            used.discard(number)
        assert pool.used == {str(n) for n in used}


def test_concurrent_creates_get_unique_extensions(api: Api, instance: Instance) -> None:
    def create(i: int) -> int:
        return api.create(login=f"c{i}", name=f"C {i}").status_code

    with ThreadPoolExecutor(8) as workers:
        statuses = list(workers.map(create, range(12)))
    # pool 100-109, admin holds 100: nine succeed, three find it exhausted
    assert sorted(statuses) == [201] * 9 + [409] * 3
    extensions = [u.extension for u in instance.users.values()]
    assert sorted(extensions) == [str(n) for n in range(100, 110)]
