"""Scenario files loaded by one test are registered by name for the whole process (as in a
kernel); clear them after each test so no other test's Lab picker lists them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _forget_scenario_files():
    yield
    from kafkalab import scenario_files

    scenario_files.REGISTRY.clear()
    scenario_files._VERIFIED.clear()
