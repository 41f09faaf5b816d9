"""Fixtures shared by every tier."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY


@pytest.fixture(scope="session")
def model_repository() -> Path:
    return DEFAULT_MODEL_REPOSITORY


@pytest.fixture(autouse=True)
def isolated_root_logger() -> Iterator[None]:
    """Every ``pitchside`` invocation configures the root logger (--log-level, --log-format): undo it after each
    test so that a CLI test's handler and level do not leak into the tests after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
