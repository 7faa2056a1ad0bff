"""Shared plans and states for the blind tests."""

from __future__ import annotations

import pytest

from deconfliction.blind.config import BlindConfig, parse_blind_config
from deconfliction.blind.parameters import BlindPlan, make_plan

CONFIG_TEXT = """\
[blind]
reference = [35.0, 39.0]
max_aircraft = 8

[peers]
coalition = "127.0.0.1:11365"
russia = "127.0.0.1:11366"
helper = "127.0.0.1:11367"
"""


@pytest.fixture
def config() -> BlindConfig:
    return parse_blind_config(CONFIG_TEXT, "blind.toml")


@pytest.fixture
def plan(config: BlindConfig) -> BlindPlan:
    return make_plan(config, None)
