"""MSUSER keeps the source promises of the conformance kit, against the Graph sandbox."""

from __future__ import annotations

import pytest

from syncframe import SANDBOX_GUEST
from syncframe.testing import SourceContract
from syncframe_msuser.sandbox import GraphSandbox

DOMAIN = "contoso.onmicrosoft.com"


class TestMsuserConformance(SourceContract):
    source_type = "MSUSER"

    def username(self, n: int) -> str:
        return f"kit.user{n}@{DOMAIN}"  # a user principal name

    def out_of_scope_identities(self):
        return [*super().out_of_scope_identities(), self.make_identity(32, extra={SANDBOX_GUEST: True})]

    @pytest.fixture
    def sandbox(self):
        with GraphSandbox(tenant_domain=DOMAIN) as box:
            yield box
