"""Delivered events per second for each sink against a local moto server (started here, in its own process).

    .venv/bin/python scripts/bench_sinks.py [--events 20000] [--sqs-events 300] [--durability write_ahead]
        [--kinds jsonl,kinesis]

Each run submits a burst of events (three cameras, ~190-byte JSON payloads) to a fresh stream/queue/bucket
through ``SinkFanout`` and times until leaving the fan-out, i.e. until every event was delivered. The buffer holds
the whole burst so the figure is the delivery path, not the journal. moto is a stand-in: these numbers say what
the sink machinery and client sustain on this machine, not what AWS would (Kinesis allows 1,000 records/s per
shard; a real queue or bucket has its own limits and latency). ``submit`` is the rate of the submit loop alone
(what the pipeline pays per event: a memory append, or with ``--durability write_ahead`` a journal write).
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import aioboto3
from prometheus_client import CollectorRegistry

from orchestrator.sinks import DeliverySettings, Durability, SinkFanout, SinkRecord

STREAMS = ("cam-north", "cam-south", "cam-east")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise SystemExit("moto server did not start")


def events(count: int) -> list[SinkRecord]:
    out = []
    for i in range(count):
        stream, seq = STREAMS[i % 3], i // 3
        payload = {
            "event_id": f"{stream}:{seq}",
            "stream_id": stream,
            "frame_seq": seq,
            "detections": [
                {"label": "person", "score": 0.91, "box": [12.5, 40.0, 88.25, 210.0]},
                {"label": "sports ball", "score": 0.77, "box": [300.0, 120.5, 318.0, 139.0]},
            ],
        }
        out.append(SinkRecord(f"{stream}:{seq}", stream, seq, json.dumps(payload, separators=(",", ":")).encode()))
    return out


async def create(kind: str, url: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    service = {"kinesis": "kinesis", "sqs": "sqs", "sqs-fifo": "sqs", "s3": "s3"}.get(kind)
    if service is None:
        return name
    async with aioboto3.Session().client(service, endpoint_url=url) as client:
        if kind == "kinesis":
            await client.create_stream(StreamName=name, ShardCount=4)
        elif kind == "sqs":
            await client.create_queue(QueueName=name)
        elif kind == "sqs-fifo":
            name += ".fifo"
            await client.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
        else:
            await client.create_bucket(Bucket=name)
    return name


async def measure(kind: str, url: str, count: int, workdir: Path, durability: Durability) -> tuple[float, float]:
    """(submit loop events/s, delivered events/s)."""
    name = await create(kind, url)
    uri = {
        "jsonl": f"jsonl:{workdir / name}.jsonl",
        "kinesis": f"kinesis://{name}?endpoint_url={url}",
        "sqs": f"sqs://{name}?endpoint_url={url}",
        "sqs-fifo": f"sqs://{name}?endpoint_url={url}",
        "s3": f"s3://{name}/events?max_bytes=1048576&endpoint_url={url}",
    }[kind]
    settings = DeliverySettings(
        buffer_records=count,
        journal_dir=workdir / f"journal-{name}",
        dead_letter_path=workdir / "dead-letter.jsonl",
        flush_timeout_s=600.0,
        durability=durability,
    )
    records = events(count)
    fanout = SinkFanout.from_uris([uri], settings, registry=CollectorRegistry())
    async with fanout:
        started = time.perf_counter()
        for record in records:
            fanout.submit(record)
        submitted = time.perf_counter() - started
    elapsed = time.perf_counter() - started
    (stats,) = fanout.stats()
    spilled = stats.journaled if durability is Durability.BUFFERED else 0
    if stats.delivered != count or spilled or stats.dead_lettered:
        raise SystemExit(f"{kind}: unexpected outcome {stats}")
    return count / submitted, count / elapsed


async def bare_client(kind: str, url: str, count: int) -> float:
    """The same calls made directly with aioboto3, one after another: what moto allows without the sink."""
    name = await create(kind, url)
    records = events(count)
    service = {"kinesis": "kinesis", "sqs": "sqs", "sqs-fifo": "sqs", "s3": "s3"}[kind]
    async with aioboto3.Session().client(service, endpoint_url=url) as client:
        queue_url = (await client.get_queue_url(QueueName=name))["QueueUrl"] if service == "sqs" else ""
        started = time.perf_counter()
        if kind == "kinesis":
            for i in range(0, count, 500):
                await client.put_records(
                    StreamName=name,
                    Records=[{"Data": r.payload, "PartitionKey": r.stream_id} for r in records[i : i + 500]],
                )
        elif service == "sqs":
            for i in range(0, count, 10):
                fifo = kind == "sqs-fifo"
                await client.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {
                            "Id": str(j),
                            "MessageBody": r.payload.decode(),
                            **({"MessageGroupId": r.stream_id, "MessageDeduplicationId": r.event_id} if fifo else {}),
                        }
                        for j, r in enumerate(records[i : i + 10])
                    ],
                )
        else:
            per_object = 1_048_576 // (len(records[0].payload) + 1)
            for i in range(0, count, per_object):
                body = b"".join(r.payload + b"\n" for r in records[i : i + per_object])
                await client.put_object(Bucket=name, Key=f"events/{i}.jsonl", Body=body)
        return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--sqs-events",
        type=int,
        default=300,
        help="moto's SQS slows down as a queue fills, so queues get a smaller burst",
    )
    parser.add_argument("--durability", type=Durability, default=Durability.BUFFERED, choices=list(Durability))
    parser.add_argument("--kinds", default="jsonl,kinesis,s3,sqs,sqs-fifo")
    args = parser.parse_args()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)  # moto accepts any credentials; real runs use the standard chain
    port = free_port()
    server = start_moto(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in args.kinds.split(","):
                count = args.sqs_events if kind.startswith("sqs") else args.events
                url = f"http://127.0.0.1:{port}"
                submit, rate = await measure(kind, url, count, Path(tmp), args.durability)
                bare = "" if kind == "jsonl" else f"   bare client {await bare_client(kind, url, count):9.0f} events/s"
                print(
                    f"{kind:9s} {count:7d} events ({args.durability})   submit {submit:9.0f} events/s   "
                    f"sink {rate:9.0f} events/s{bare}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    asyncio.run(main())
