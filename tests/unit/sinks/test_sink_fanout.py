import asyncio
import io
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sink_fakes import ScriptedSink, make_records, settings_for, wait_until

from orchestrator.sinks.dead_letter import DeadLetterFile
from orchestrator.sinks.errors import SinkClosedError, SinkConfigError
from orchestrator.sinks.fanout import SinkFanout, journal_directory
from orchestrator.sinks.local import StdoutSink
from orchestrator.sinks.metrics import SinkMetrics
from orchestrator.sinks.settings import DeliverySettings


def fanout_of(settings: DeliverySettings, *sinks: ScriptedSink) -> SinkFanout:
    return SinkFanout(
        [sink.opened for sink in sinks],
        settings,
        SinkMetrics.on(CollectorRegistry()),
        DeadLetterFile(settings.dead_letter_path),
    )


async def test_a_dead_sink_neither_blocks_submit_nor_the_other_sinks(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, buffer_records=10, flush_timeout_s=0.05)
    dead, alive = ScriptedSink("fake://dead"), ScriptedSink("fake://alive")
    dead.gate.clear()
    records = make_records(50)
    async with fanout_of(settings, dead, alive) as fanout:
        for record in records:
            fanout.submit(record)
        await wait_until(lambda: len(alive.received) == 50)
        assert dead.received == []
    by_sink = {s.sink: s for s in fanout.stats()}
    assert alive.received == records
    assert by_sink["fake://alive"].delivered == 50
    assert by_sink["fake://dead"].journaled == 50  # 40 spilled, 10 journaled at shutdown: nothing lost


async def test_each_sink_replays_its_own_journal_on_the_next_run(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, buffer_records=4, flush_timeout_s=0.05)
    first_a, first_b = ScriptedSink("fake://a"), ScriptedSink("fake://b")
    first_a.gate.clear()
    records = make_records(12)
    async with fanout_of(settings, first_a, first_b) as fanout:
        for record in records:
            fanout.submit(record)
    assert first_b.received == records

    second_a, second_b = ScriptedSink("fake://a"), ScriptedSink("fake://b")
    async with fanout_of(settings, second_a, second_b):
        pass
    assert second_a.received == records  # what a missed, delivered after the restart
    assert second_b.received == []  # b had delivered everything: nothing replayed twice


async def test_submit_outside_the_context_is_refused(tmp_path: Path) -> None:
    fanout = fanout_of(settings_for(tmp_path), ScriptedSink())
    with pytest.raises(SinkClosedError):
        fanout.submit(make_records(1)[0])


def test_from_uris_refuses_a_sink_configured_twice() -> None:
    with pytest.raises(SinkConfigError, match="twice"):
        SinkFanout.from_uris(["stdout:", "stdout:"], registry=CollectorRegistry())


def test_from_uris_refuses_an_unknown_scheme_before_opening_anything() -> None:
    with pytest.raises(SinkConfigError, match="unknown sink"):
        SinkFanout.from_uris(["jsonl:a.jsonl", "kafka://topic"], registry=CollectorRegistry())


async def test_from_uris_builds_local_sinks_and_reports_metrics(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    path = tmp_path / "out" / "events.jsonl"
    fanout = SinkFanout.from_uris([f"jsonl:{path}"], settings_for(tmp_path), registry=registry)
    records = make_records(5)
    async with fanout:
        for record in records:
            fanout.submit(record)
    assert path.read_bytes() == b"".join(r.payload + b"\n" for r in records)
    assert registry.get_sample_value("pitchside_sink_delivered_total", {"sink": f"jsonl:{path}"}) == 5
    assert fanout.sinks == (f"jsonl:{path}",)


async def test_jsonl_sink_appends_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    records = make_records(6)
    for chunk in (records[:3], records[3:]):
        fanout = SinkFanout.from_uris([f"jsonl:{path}"], settings_for(tmp_path), registry=CollectorRegistry())
        async with fanout:
            for record in chunk:
                fanout.submit(record)
    assert path.read_bytes().splitlines() == [r.payload for r in records]


async def test_stdout_sink_prints_one_line_per_event() -> None:
    stream = io.StringIO()
    sink = StdoutSink(stream)
    records = make_records(3)
    await sink.deliver(records)
    assert stream.getvalue().splitlines() == [r.payload.decode() for r in records]


def test_metrics_register_once_per_registry() -> None:
    registry = CollectorRegistry()
    assert SinkMetrics.on(registry) is SinkMetrics.on(registry)
    assert SinkMetrics.on(CollectorRegistry()) is not SinkMetrics.on(registry)


def test_journal_directory_is_stable_and_safe(tmp_path: Path) -> None:
    a = journal_directory(tmp_path, "s3://bucket/events?x")
    assert a == journal_directory(tmp_path, "s3://bucket/events?x")
    assert a.parent == tmp_path and "/" not in a.name and ":" not in a.name
    assert journal_directory(tmp_path, "s3://bucket/a_b") != journal_directory(tmp_path, "s3://bucket/a/b")


async def test_cancelling_the_pipeline_task_still_journals_everything(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, buffer_records=10, flush_timeout_s=0.05)
    hung = ScriptedSink("fake://hung")
    hung.gate.clear()
    records = make_records(25)

    async def pipeline() -> None:
        async with fanout_of(settings, hung) as fanout:
            for record in records:
                fanout.submit(record)
            await asyncio.Event().wait()  # runs until cancelled, like `pitchside run` on Ctrl-C

    task = asyncio.create_task(pipeline())
    await wait_until(lambda: any((tmp_path / "journal").rglob("*.jsonl")))  # spilled: the task is running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    replay = ScriptedSink("fake://hung")
    async with fanout_of(settings, replay):
        pass
    assert replay.received == records
