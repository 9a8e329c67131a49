"""The end-to-end cassettes: one per replayed scenario, facts beside it, nothing secret inside."""

from __future__ import annotations

import yaml

from cassette_support import CASSETTE_ROOT, REDACTED, find_leaks
from e2e_scenarios import SCENARIOS
from e2e_support import PASCOM_PLACEHOLDER, RECORDING_SECRET

FOLDERS = ("test_e2e_scenarios", "test_e2e_automation")


def test_every_scenario_has_its_cassette_and_facts():
    folder = CASSETTE_ROOT / "test_e2e_scenarios"
    for name in SCENARIOS:
        assert (folder / f"test_{name}_replayed.yaml").exists(), name
        assert (folder / f"{name}.facts.json").exists(), name
    automation = CASSETTE_ROOT / "test_e2e_automation"
    assert (automation / "test_serve_runs_the_connector_at_its_interval_replayed.yaml").exists()
    assert (automation / "automation.facts.json").exists()


def test_cassettes_hold_no_secret_and_no_loopback_host():
    paths = [p for folder in FOLDERS for p in (CASSETTE_ROOT / folder).glob("*.yaml")]
    assert len(paths) == len(SCENARIOS) + 1
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert find_leaks(text, secrets=(RECORDING_SECRET,)) == [], path.name
        assert "127.0.0.1" not in text and "client_secret=REDACTED" in text, path.name
        for interaction in yaml.safe_load(text)["interactions"]:
            request = interaction["request"]
            if request["uri"].startswith(PASCOM_PLACEHOLDER):
                assert request["headers"]["Authorization"] == [REDACTED], path.name
