"""The feed goes away mid-run and comes back: every event arrives, duplicates only as copies of the same event.

The moto server is really stopped (listening socket closed, open connections cut) while events keep coming, so
the sink's calls fail, its buffer fills and events spill to the journal; then a server is started again on the
same port. moto's data lives in this process, so the restarted server still holds what arrived before the stop:
reading the feed at the end counts both sides of the outage.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import pytest
from aws_feeds import Arrived, client, compare, produce, read_kinesis, read_s3_objects, read_sqs, s3_arrived, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer

from orchestrator.sinks import DeliverySettings, SinkFanout, SinkRecord

pytestmark = pytest.mark.aws


@dataclass(frozen=True)
class Feed:
    uri: str
    read: Callable[[], Awaitable[Arrived]]


async def kinesis_feed(endpoint_url: str) -> Feed:
    name = unique("outage")
    async with client("kinesis", endpoint_url) as kinesis:
        await kinesis.create_stream(StreamName=name, ShardCount=2)
    return Feed(f"kinesis://{name}?endpoint_url={endpoint_url}", lambda: read_kinesis(endpoint_url, name))


async def sqs_feed(endpoint_url: str) -> Feed:
    name = unique("outage") + ".fifo"
    async with client("sqs", endpoint_url) as sqs:
        url = (await sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"}))["QueueUrl"]
    return Feed(f"sqs://{name}?endpoint_url={endpoint_url}", lambda: read_sqs(endpoint_url, url))


async def s3_feed(endpoint_url: str) -> Feed:
    name = unique("outage")
    async with client("s3", endpoint_url) as s3:
        await s3.create_bucket(Bucket=name)

    async def read() -> Arrived:
        return s3_arrived(await read_s3_objects(endpoint_url, name))

    return Feed(f"s3://{name}/events?max_bytes=4096&max_age_s=0.05&endpoint_url={endpoint_url}", read)


# moto's FIFO queue slows down quadratically as it fills: fewer events for SQS keep the test quick.
FEEDS = {"kinesis": (kinesis_feed, 300), "sqs": (sqs_feed, 50), "s3": (s3_feed, 300)}
FRAME_GROUP = 6  # events submitted per simulated frame, then the loop yields as a real pipeline would


async def submit_paced(fanout: SinkFanout, records: list[SinkRecord]) -> None:
    for i in range(0, len(records), FRAME_GROUP):
        for record in records[i : i + FRAME_GROUP]:
            fanout.submit(record)
        await asyncio.sleep(0.002)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(3_000):  # bounded: a broken sink fails the test instead of hanging it
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never reached: {what}")


@pytest.mark.parametrize("kind", sorted(FEEDS))
async def test_stopping_the_feed_mid_run_loses_nothing(
    kind: str, moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    make_feed, per_phase = FEEDS[kind]
    feed = await make_feed(moto.url)
    before, during, after = (produce(per_phase, start=i * per_phase) for i in range(3))
    settings = replace(delivery_settings, buffer_records=40, segment_records=50)
    fanout = SinkFanout.from_uris([feed.uri], settings, registry=registry)
    async with fanout:
        await submit_paced(fanout, before)
        await until(lambda: fanout.stats()[0].delivered >= per_phase // 2, "half the first phase delivered")
        await asyncio.to_thread(moto.stop)
        delivered_before_stop, journaled_before_stop = fanout.stats()[0].delivered, fanout.stats()[0].journaled
        await submit_paced(fanout, during)  # the buffer (40) overflows: events spill to the journal
        await until(lambda: fanout.stats()[0].retried > 0, "calls failing against the stopped server")
        await asyncio.to_thread(moto.start)
        await submit_paced(fanout, after)
    (stats,) = fanout.stats()

    produced = before + during + after
    comparison = compare(produced, await feed.read())
    assert comparison.lossless, comparison
    assert 0 < delivered_before_stop < len(produced)
    assert stats.journaled > journaled_before_stop  # the outage overflowed the buffer into the journal
    assert stats.delivered >= len(produced)  # duplicates, if any, count as deliveries too
    assert (stats.dead_lettered, stats.dropped, stats.journal_segments, stats.buffered) == (0, 0, 0, 0)
    print(f"{kind}: {comparison.duplicates} duplicate(s), {stats.journaled} journaled, {stats.retried} retried")


async def test_events_journaled_while_the_feed_was_down_are_delivered_by_the_next_run(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings
) -> None:
    feed = await kinesis_feed(moto.url)
    first_run, second_run = produce(200), produce(50, start=200)
    settings = replace(delivery_settings, buffer_records=40, segment_records=50, flush_timeout_s=0.3)
    await asyncio.to_thread(moto.stop)

    first = SinkFanout.from_uris([feed.uri], settings, registry=CollectorRegistry())
    async with first:
        for record in first_run:
            first.submit(record)
    assert first.stats()[0].delivered == 0 and first.stats()[0].journaled == 200

    await asyncio.to_thread(moto.start)
    second = SinkFanout.from_uris([feed.uri], replace(settings, flush_timeout_s=60.0), registry=CollectorRegistry())
    async with second:
        for record in second_run:
            second.submit(record)
    comparison = compare(first_run + second_run, await feed.read())
    assert comparison.lossless and comparison.duplicates == 0, comparison
    assert not any(settings.journal_dir.rglob("*.jsonl"))
