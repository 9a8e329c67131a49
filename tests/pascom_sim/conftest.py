"""Fixtures: one simulator per test session; a fresh instance (and client) per test."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest
import requests

from syncframe.http import CASession
from syncframe_pascom.simulator import Instance, PascomSimulator

_names = itertools.count(1)


class Api:
    """Thin client for one instance: paths relative to ``/<instance>/services/``."""

    def __init__(self, session: requests.Session, base: str):
        self.session = session
        self.base = base

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def create(self, **fields: Any) -> requests.Response:
        """POST one identity; keyword ``post`` is the IO ``post`` block."""
        return self.post("identity/", {"identity": [{_key(k): v for k, v in fields.items()}]})


_ALIASES = {"login": "003use_name", "name": "003use_bez", "auth": "003use_auth_method", "email": "016voi_email",
            "extension": "009ext_extension", "enabled": "003use_enabled", "pin": "011acc_pin", "pw": "003use_pw",
            "roles": "user_roles"}


def _key(k: str) -> str:
    return _ALIASES.get(k, k)


def error(response: requests.Response) -> tuple[int, str, str | None]:
    """(status, code, field) of an error answer."""
    body = response.json()["error"]
    assert set(body) == {"code", "message", "field"}
    assert body["message"]
    return response.status_code, body["code"], body["field"]


@pytest.fixture(scope="session")
def sim() -> Iterator[PascomSimulator]:
    with PascomSimulator() as simulator:
        yield simulator


@pytest.fixture
def instance(sim: PascomSimulator) -> Iterator[Instance]:
    inst = sim.add_instance(f"pbx{next(_names)}", pool=range(100, 110))
    yield inst
    sim.switches.reset()


@pytest.fixture
def api(sim: PascomSimulator, instance: Instance) -> Api:
    session = CASession(sim.ca_bundle)
    session.auth = ("moby", instance.password)
    session.headers["Accept"] = "application/json"
    return Api(session, sim.services_url(instance.name))
