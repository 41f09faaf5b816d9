"""Fixtures shared by every tier."""

from pathlib import Path

import pytest

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY


@pytest.fixture(scope="session")
def model_repository() -> Path:
    return DEFAULT_MODEL_REPOSITORY
