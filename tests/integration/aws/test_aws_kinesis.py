import json
from pathlib import Path

import pytest
from aws_feeds import client, compare, produce, read_kinesis, unique
from prometheus_client import CollectorRegistry
from restartable_moto import RestartableMotoServer
from shard_limit_proxy import ShardLimitProxy

from orchestrator.sinks import DeliverySettings, SinkFanout, SinkRecord
from orchestrator.sinks.kinesis import KINESIS_MAX_RECORD_BYTES

pytestmark = pytest.mark.aws


async def create_stream(endpoint_url: str, shards: int = 2) -> str:
    name = unique("events")
    async with client("kinesis", endpoint_url) as kinesis:
        await kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name


async def run(
    uri: str, records: list[SinkRecord], settings: DeliverySettings, registry: CollectorRegistry
) -> SinkFanout:
    fanout = SinkFanout.from_uris([uri], settings, registry=registry)
    async with fanout:
        for record in records:
            fanout.submit(record)
    return fanout


async def test_the_stream_holds_every_event_in_per_camera_order(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    stream = await create_stream(moto.url)
    records = produce(1_500)
    fanout = await run(f"kinesis://{stream}?endpoint_url={moto.url}", records, delivery_settings, registry)

    comparison = compare(records, await read_kinesis(moto.url, stream))
    assert comparison.lossless, comparison
    assert comparison.duplicates == 0
    (stats,) = fanout.stats()
    assert (stats.delivered, stats.dead_lettered, stats.dropped) == (1_500, 0, 0)
    assert registry.get_sample_value("pitchside_sink_delivered_total", {"sink": f"kinesis://{stream}"}) == 1_500


async def test_a_throttled_one_shard_stream_gets_everything_through_retries(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    stream = await create_stream(moto.url, shards=1)
    proxy = ShardLimitProxy(moto.url)  # the real per-shard limit: 1,000 records/s
    proxy.start()
    try:
        records = produce(2_500)  # a burst of 2.5 s worth of one shard's capacity, submitted at once
        fanout = await run(f"kinesis://{stream}?endpoint_url={proxy.url}", records, delivery_settings, registry)
    finally:
        proxy.close()

    assert proxy.throttled_records > 0
    (stats,) = fanout.stats()
    assert stats.retried == proxy.throttled_records  # exactly the records that failed were retried
    assert stats.delivered == proxy.admitted_records == 2_500
    comparison = compare(records, await read_kinesis(moto.url, stream))
    assert comparison.lossless, comparison
    assert comparison.duplicates == 0


async def test_an_oversized_record_is_dead_lettered_and_the_rest_flows_on(
    moto: RestartableMotoServer, delivery_settings: DeliverySettings, registry: CollectorRegistry
) -> None:
    stream = await create_stream(moto.url)
    records = produce(200)
    big = SinkRecord("cam-north:big", "cam-north", 10_000, b'{"blob":"' + b"x" * KINESIS_MAX_RECORD_BYTES + b'"}')
    fanout = await run(
        f"kinesis://{stream}?endpoint_url={moto.url}",
        [*records[:100], big, *records[100:]],
        delivery_settings,
        registry,
    )

    comparison = compare(records, await read_kinesis(moto.url, stream))
    assert comparison.lossless and comparison.duplicates == 0, comparison
    (line,) = Path(delivery_settings.dead_letter_path).read_text().splitlines()
    dead = json.loads(line)
    assert dead["event_id"] == "cam-north:big" and dead["sink"] == f"kinesis://{stream}"
    assert "Kinesis accepts at most 1048576 bytes per record" in dead["reason"]
    assert dead["payload"].encode() == big.payload
    assert fanout.stats()[0].dead_lettered == 1


async def test_the_standard_endpoint_variables_reach_the_client(
    moto: RestartableMotoServer,
    delivery_settings: DeliverySettings,
    registry: CollectorRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = await create_stream(moto.url)
    records = produce(30)
    # No endpoint_url in the URI: without the variable the client would aim at real AWS, unreachable here.
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", moto.url)
    await run(f"kinesis://{stream}?region=us-east-1", records, delivery_settings, registry)
    monkeypatch.delenv("AWS_ENDPOINT_URL_KINESIS")
    comparison = compare(records, await read_kinesis(moto.url, stream))
    assert comparison.lossless and comparison.duplicates == 0, comparison


async def test_the_global_endpoint_variable_reaches_every_aws_client(
    moto: RestartableMotoServer,
    delivery_settings: DeliverySettings,
    registry: CollectorRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = await create_stream(moto.url)
    records = produce(30)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    await run(f"kinesis://{stream}", records, delivery_settings, registry)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert compare(records, await read_kinesis(moto.url, stream)).lossless
