"""pascom keeps the target promises of the conformance kit, against the pascom sandbox."""

from __future__ import annotations

import pytest

from syncframe.testing import TargetContract
from syncframe_pascom.mapping import REPAIR_MOBILE
from syncframe_pascom.sandbox import PascomSandbox


class TestPascomConformance(TargetContract):
    target_type = "pascom"
    rename_notice_codes = {REPAIR_MOBILE.code}

    def unholdable_identity(self):
        # pascom logins allow a-z 0-9 . _ @ - only
        return self.make_identity(90, username="o'brien$@contoso.com")

    @pytest.fixture
    def sandbox(self):
        with PascomSandbox() as box:
            yield box
