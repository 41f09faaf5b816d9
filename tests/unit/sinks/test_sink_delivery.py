import asyncio
import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sink_fakes import ScriptedSink, ids, make_records, open_channel, settings_for, wait_until

from orchestrator.sinks.base import BatchLimits
from orchestrator.sinks.errors import SinkClosedError


async def test_every_event_is_delivered_once_in_submission_order(tmp_path: Path) -> None:
    sink = ScriptedSink()
    channel = open_channel(sink, settings_for(tmp_path, buffer_records=1000))
    channel.start()
    records = make_records(23)
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records
    assert all(len(call) <= sink.limits.max_records for call in sink.calls)
    assert channel.stats().delivered == 23


async def test_a_partial_failure_retries_only_the_records_that_failed(tmp_path: Path) -> None:
    sink = ScriptedSink(limits=BatchLimits(max_records=10, max_bytes=10**6))
    records = make_records(10)
    sink.fail_ids = {records[7].event_id, records[9].event_id}
    registry = CollectorRegistry()
    channel = open_channel(sink, settings_for(tmp_path, buffer_records=100), registry)
    channel.start()
    for record in records:  # all buffered before the worker first runs: one call holds all ten
        channel.submit(record)
    await channel.close()
    assert sink.calls == [ids(records), [records[7].event_id, records[9].event_id]]
    assert sorted(ids(sink.received)) == sorted(ids(records)) and len(sink.received) == 10
    assert registry.get_sample_value("pitchside_sink_retried_total", {"sink": "fake://feed"}) == 2
    assert registry.get_sample_value("pitchside_sink_delivered_total", {"sink": "fake://feed"}) == 10


async def test_an_unreachable_feed_delays_events_until_it_is_back(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.down_calls = 4
    channel = open_channel(sink, settings_for(tmp_path, buffer_records=100))
    channel.start()
    records = make_records(3)
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records
    assert len(sink.calls) == 5
    assert channel.stats().retried == 4 * 3


async def test_an_unexpected_sink_error_is_retried_not_fatal(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.crash_calls = 2
    channel = open_channel(sink, settings_for(tmp_path))
    channel.start()
    records = make_records(4)
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records


async def test_submit_never_waits_on_a_hung_feed_and_spills_beyond_the_buffer(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.gate.clear()  # the feed hangs: every call waits
    channel = open_channel(sink, settings_for(tmp_path, buffer_records=10, flush_timeout_s=5.0))
    channel.start()
    records = make_records(50)
    for record in records:
        channel.submit(record)  # synchronous: returning at all proves it did not wait on the feed
    stats = channel.stats()
    assert stats.buffered == 10 and stats.journaled == 40
    sink.gate.set()
    await channel.close()
    assert sink.received == records  # buffer first, then the journal, in order, once each


async def test_shutdown_with_a_dead_feed_journals_everything_and_the_next_run_delivers_it(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, buffer_records=10, flush_timeout_s=0.05)
    dead = ScriptedSink()
    dead.gate.clear()
    first = open_channel(dead, settings)
    first.start()
    records = make_records(30)
    for record in records:
        first.submit(record)
    await wait_until(lambda: first.stats().buffered == 5)  # the worker holds the first 5, stuck in the call
    await first.close()
    assert first.stats().journaled == 30  # 20 spilled while running, 10 still in memory at shutdown
    assert dead.received == []

    alive = ScriptedSink()
    second = open_channel(alive, settings)
    second.start()
    later = make_records(5, start=30)
    for record in later:
        second.submit(record)  # queued behind the journal of the previous run
    await second.close()
    assert alive.received == records + later
    assert not any((tmp_path / "journal" / "fake").iterdir())


async def test_a_record_the_feed_can_never_accept_is_dead_lettered_with_the_reason(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.reject = lambda r: "record is too large" if r.event_id.endswith("0003") else None
    settings = settings_for(tmp_path)
    channel = open_channel(sink, settings)
    channel.start()
    records = make_records(8)
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records[:3] + records[4:]
    (line,) = settings.dead_letter_path.read_text().splitlines()
    dead = json.loads(line)
    assert (dead["event_id"], dead["sink"], dead["reason"]) == (
        records[3].event_id,
        "fake://feed",
        "record is too large",
    )
    assert dead["payload"] == records[3].payload.decode()
    assert channel.stats().dead_lettered == 1


async def test_a_rejected_call_is_split_until_the_culprit_is_found(tmp_path: Path) -> None:
    sink = ScriptedSink(limits=BatchLimits(max_records=8, max_bytes=10**6))
    records = make_records(8)
    sink.poison = records[5].event_id
    settings = settings_for(tmp_path, buffer_records=100)
    channel = open_channel(sink, settings)
    channel.start()
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records[:5] + records[6:]
    (line,) = settings.dead_letter_path.read_text().splitlines()
    assert json.loads(line)["event_id"] == records[5].event_id
    assert "ValidationException" in json.loads(line)["reason"]


async def test_lingering_batches_wait_for_more_records_until_shutdown(tmp_path: Path) -> None:
    sink = ScriptedSink(limits=BatchLimits(max_records=100, max_bytes=10**6, linger_s=60.0))
    channel = open_channel(sink, settings_for(tmp_path, buffer_records=100))
    channel.start()
    records = make_records(7)
    for record in records:
        channel.submit(record)
    await asyncio.sleep(0.05)
    assert sink.calls == []  # nothing sent while the batch lingers
    await channel.close()
    assert sink.calls == [ids(records)]


async def test_submit_after_close_is_refused(tmp_path: Path) -> None:
    channel = open_channel(ScriptedSink(), settings_for(tmp_path))
    channel.start()
    await channel.close()
    with pytest.raises(SinkClosedError):
        channel.submit(make_records(1)[0])


async def test_lag_is_the_age_of_the_newest_delivered_event(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    channel = open_channel(ScriptedSink(), settings_for(tmp_path), registry)
    channel.start()
    channel.submit(make_records(1)[0])  # emitted at 1_700_000_000: long ago
    await channel.close()
    lag = registry.get_sample_value("pitchside_sink_lag_seconds", {"sink": "fake://feed"})
    assert lag is not None and lag > 1_000_000
    assert channel.stats().lag_s == pytest.approx(lag)


async def test_the_worker_survives_a_failure_outside_the_sink(tmp_path: Path) -> None:
    sink = ScriptedSink()
    channel = open_channel(sink, settings_for(tmp_path))
    failures = iter([OSError("disk hiccup")])
    real_take = channel._journal.take

    async def flaky_take() -> object:
        for exc in failures:
            raise exc
        return await real_take()

    channel._journal.take = flaky_take  # type: ignore[method-assign]
    channel.start()
    await asyncio.sleep(0.01)  # the first step fails while idle; the worker must keep going
    records = make_records(5)
    for record in records:
        channel.submit(record)
    await channel.close()
    assert sink.received == records
