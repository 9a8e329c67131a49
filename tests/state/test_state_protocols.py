"""The state store implements each concern's protocol, with the protocol's signatures."""

from __future__ import annotations

import inspect

import pytest

from syncframe.state import StateStore, protocols

CONCERNS = [
    protocols.ConnectorCatalog,
    protocols.LinkStore,
    protocols.ReadState,
    protocols.RunHistory,
    protocols.Journal,
    protocols.TokenCaches,
    protocols.RunLocks,
    protocols.Decisions,
]


def methods(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_"))


@pytest.mark.parametrize("protocol", CONCERNS, ids=lambda p: p.__name__)
def test_the_store_satisfies_each_concern(protocol, tmp_path):
    store = StateStore.open(tmp_path / "state.db")
    try:
        assert isinstance(store, protocol)
    finally:
        store.close()


@pytest.mark.parametrize("protocol", CONCERNS, ids=lambda p: p.__name__)
def test_the_store_has_the_protocols_signatures(protocol):
    assert methods(protocol), "a concern without methods protects nothing"
    for name in methods(protocol):
        want = list(inspect.signature(getattr(protocol, name)).parameters)
        have = list(inspect.signature(getattr(StateStore, name)).parameters)
        assert have == want, f"{protocol.__name__}.{name}: {have} != {want}"


def test_the_whole_store_is_every_concern():
    assert set(protocols.Store.__mro__) >= set(CONCERNS)
    assert isinstance(StateStore.__new__(StateStore), protocols.Store)
