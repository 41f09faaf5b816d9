"""Write-ahead durability: an event is in the journal file before submit returns, and delivered from there."""

import asyncio
from pathlib import Path

from sink_fakes import ScriptedSink, make_records, open_channel, settings_for, wait_until

from orchestrator.sinks.base import BatchLimits
from orchestrator.sinks.journal import Journal
from orchestrator.sinks.record import decode_record
from orchestrator.sinks.settings import Durability


def on_disk(directory: Path) -> list[str]:
    """Event ids the journal files hold right now, as a process started after a kill -9 would read them."""
    return [
        decode_record(line).event_id
        for path in sorted(directory.glob("*.jsonl"))
        for line in path.read_bytes().splitlines()
        if line
    ]


async def test_each_event_is_in_the_journal_file_before_submit_returns(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.gate.clear()  # a hung feed: nothing is delivered while we look
    settings = settings_for(tmp_path, durability=Durability.WRITE_AHEAD, segment_records=100)
    channel = open_channel(sink, settings)
    channel.start()
    records = make_records(25)
    for record in records:
        channel.submit(record)
        assert record.event_id in on_disk(settings.journal_dir / "fake")
    assert on_disk(settings.journal_dir / "fake") == [r.event_id for r in records]
    assert channel.stats().buffered == 0
    sink.gate.set()
    await channel.close()
    assert sink.received == records
    assert on_disk(settings.journal_dir / "fake") == []


async def test_write_ahead_rides_out_an_outage_in_order(tmp_path: Path) -> None:
    sink = ScriptedSink()
    sink.down_calls = 3
    settings = settings_for(tmp_path, durability=Durability.WRITE_AHEAD, segment_records=7)
    channel = open_channel(sink, settings)
    channel.start()
    records = make_records(50)
    for record in records:
        channel.submit(record)
    await wait_until(lambda: len(sink.received) == len(records))
    await channel.close()
    assert sink.received == records
    assert channel.stats().retried > 0


async def test_write_ahead_still_lingers_for_a_fuller_batch(tmp_path: Path) -> None:
    sink = ScriptedSink(limits=BatchLimits(max_records=1_000, max_bytes=1_000_000, linger_s=3600))
    settings = settings_for(tmp_path, durability=Durability.WRITE_AHEAD, buffer_records=20, segment_records=100)
    channel = open_channel(sink, settings)
    channel.start()
    records = make_records(25)
    for record in records[:3]:
        channel.submit(record)
    for _ in range(50):
        await asyncio.sleep(0)
    assert sink.calls == [], "three records wait for a fuller batch, as they would in memory"
    for record in records[3:]:
        channel.submit(record)
    await wait_until(lambda: bool(sink.calls))
    await channel.close()
    assert len(sink.calls[0]) >= 10, "the batch went once half the buffer's worth was there"
    assert sink.received == records


def test_buffered_journal_appends_wait_in_userspace(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, segment_records=100)
    journal.append(make_records(1)[0])
    assert on_disk(tmp_path) == [], "buffered: a kill -9 now would lose it (the documented crash window)"
    write_through = Journal.open(tmp_path / "wt", segment_records=100, write_through=True)
    write_through.append(make_records(1)[0])
    assert on_disk(tmp_path / "wt") == [make_records(1)[0].event_id]
