import random

import pytest

from orchestrator.sinks.errors import SinkConfigError
from orchestrator.sinks.settings import DeliverySettings, RetryPolicy


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=0.1, max_s=1.0)
    assert [policy.ceiling(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_jittered_delay_stays_within_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(base_s=0.1, max_s=1.0)
    rng = random.Random(7)
    delays = [policy.delay(3, rng) for _ in range(200)]
    assert all(0.0 <= d <= 0.8 for d in delays)
    assert len(set(delays)) > 100  # jittered, not a constant


@pytest.mark.parametrize(
    "kwargs",
    [{"buffer_records": 0}, {"segment_records": 0}, {"flush_timeout_s": -1.0}, {"journal_sync_interval_s": 0}],
)
def test_invalid_delivery_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(SinkConfigError):
        DeliverySettings(**kwargs)  # type: ignore[arg-type]


def test_invalid_backoff_is_refused() -> None:
    with pytest.raises(SinkConfigError):
        RetryPolicy(base_s=1.0, max_s=0.5)
