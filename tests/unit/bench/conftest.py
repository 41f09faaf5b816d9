"""Fixtures of the benchmark's unit tests."""

import pytest
from bench_results import level, make_result

from orchestrator.bench.model_bench import ModelBenchResult


@pytest.fixture
def sweep_result() -> ModelBenchResult:
    """c=1: 20 fps at 50 ms vs direct 25 fps at 40 ms; c=2: 30 fps at 66 ms vs direct 25 fps at 80 ms."""
    return make_result((level(1, 20, 50.0, 25, 40.0), level(2, 30, 66.0, 25, 80.0)))
