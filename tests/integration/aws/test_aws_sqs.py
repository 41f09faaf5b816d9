import asyncio
import json
from pathlib import Path

import pytest
from aws_feeds import STREAMS, client, compare, produce, read_sqs, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks import DeliverySettings, SinkFanout, SinkRecord

pytestmark = pytest.mark.aws


async def create_queue(endpoint_url: str, *, fifo: bool) -> tuple[str, str]:
    name = unique("events") + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    async with client("sqs", endpoint_url) as sqs:
        url = (await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"]
    return name, url


async def run(
    uri: str, records: list[SinkRecord], settings: DeliverySettings, registry: CollectorRegistry
) -> SinkFanout:
    fanout = SinkFanout.from_uris([uri], settings, registry=registry)
    async with fanout:
        for record in records:
            fanout.submit(record)
    return fanout


async def test_a_fifo_queue_holds_every_event_in_per_camera_order(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    name, url = await create_queue(moto.url, fifo=True)
    records = produce(100)  # moto's SQS slows down per message as a queue fills: keep queues small
    fanout = await run(f"sqs://{name}?endpoint_url={moto.url}", records, delivery_settings, registry)

    comparison = compare(records, await read_sqs(moto.url, url))
    assert comparison.lossless, comparison
    assert comparison.duplicates == 0
    assert fanout.stats()[0].delivered == 100


async def test_a_standard_queue_given_by_url_holds_every_event(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    _, url = await create_queue(moto.url, fifo=False)
    records = produce(100)
    await run(f"sqs://{url}?endpoint_url={moto.url}", records, delivery_settings, registry)

    arrived = await read_sqs(moto.url, url)
    # A standard queue promises no order: compare each camera's events as a set, and each exactly once.
    for stream in STREAMS:
        assert sorted(arrived.event_ids(stream)) == sorted(r.event_id for r in records if r.stream_id == stream)
    assert sum(len(v) for v in arrived.by_stream.values()) == 100


async def test_an_oversized_message_is_dead_lettered_and_the_rest_flows_on(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    name, url = await create_queue(moto.url, fifo=True)
    records = produce(50)
    big = SinkRecord("cam-south:big", "cam-south", 9_999, b'{"blob":"' + b"y" * 262_144 + b'"}')
    fanout = await run(
        f"sqs://{name}?endpoint_url={moto.url}", [*records[:20], big, *records[20:]], delivery_settings, registry
    )

    comparison = compare(records, await read_sqs(moto.url, url))
    assert comparison.lossless and comparison.duplicates == 0, comparison
    (line,) = Path(delivery_settings.dead_letter_path).read_text().splitlines()
    dead = json.loads(line)
    assert dead["event_id"] == "cam-south:big"
    assert "the queue accepts at most 262144 bytes per message" in dead["reason"]
    assert fanout.stats()[0].dead_lettered == 1


async def test_a_queue_that_disappears_mid_run_delays_events_until_it_is_back(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    """Missing at start is a start-up error (test_aws_missing_feed.py); missing mid-run is an outage."""
    name = unique("late") + ".fifo"
    records = produce(40)
    async with client("sqs", moto.url) as sqs:
        url = (await sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"}))["QueueUrl"]
    fanout = SinkFanout.from_uris([f"sqs://{name}?endpoint_url={moto.url}"], delivery_settings, registry=registry)
    async with fanout:
        async with client("sqs", moto.url) as sqs:
            await sqs.delete_queue(QueueUrl=url)
        for record in records:
            fanout.submit(record)
        for _ in range(2_000):  # bounded: wait until the missing queue has been tried and failed
            if fanout.stats()[0].retried:
                break
            await asyncio.sleep(0.005)
        assert fanout.stats()[0].delivered == 0
        async with client("sqs", moto.url) as sqs:
            url = (await sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"}))["QueueUrl"]
    comparison = compare(records, await read_sqs(moto.url, url))
    assert comparison.lossless and comparison.duplicates == 0, comparison
