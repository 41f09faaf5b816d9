"""kill -9 of a producer while its feed is down: with write-ahead durability nothing is lost, the next run
delivers every event; buffered (the default) loses what was in memory, as documented."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aws_feeds import client, compare, produce, read_kinesis, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks import DeliverySettings, Durability, SinkFanout

pytestmark = pytest.mark.aws
PRODUCER = Path(__file__).with_name("killed_producer.py")
EVENTS = 600


def submit_then_kill_9(uri: str, journal: Path, durability: Durability) -> None:
    """Run the producer until it has submitted every event, then SIGKILL it."""
    producer = subprocess.Popen(
        [sys.executable, str(PRODUCER), uri, str(journal), str(EVENTS), str(durability)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(PRODUCER.parent), os.getcwd()])},
    )  # fmt: skip
    try:
        assert producer.stdout is not None
        line = producer.stdout.readline()
        assert line.strip() == f"submitted {EVENTS}", producer.stderr.read() if producer.stderr else line
        producer.send_signal(signal.SIGKILL)
        assert producer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if producer.poll() is None:
            producer.kill()


@pytest.mark.parametrize(("durability", "lost"), [(Durability.WRITE_AHEAD, 0), (Durability.BUFFERED, EVENTS)])
async def test_kill_9_during_an_outage(
    moto: RestartableMotoServer, tmp_path: Path, durability: Durability, lost: int
) -> None:
    stream = unique("kill9")
    async with client("kinesis", moto.url) as kinesis:
        await kinesis.create_stream(StreamName=stream, ShardCount=1)
    uri = f"kinesis://{stream}?endpoint_url={moto.url}"
    journal = tmp_path / "journal"
    moto.stop()  # the outage: every call the producer makes fails
    await asyncio.to_thread(submit_then_kill_9, uri, journal, durability)
    moto.start()  # the feed is back; a new run replays the journal the killed one left
    settings = DeliverySettings(journal_dir=journal, dead_letter_path=tmp_path / "dead.jsonl", flush_timeout_s=60)
    async with SinkFanout.from_uris([uri], settings, registry=CollectorRegistry()):
        pass
    comparison = compare(produce(EVENTS), await read_kinesis(moto.url, stream))
    assert len(comparison.missing) == lost, comparison
    assert not (comparison.unexpected or comparison.changed or comparison.out_of_order), comparison
