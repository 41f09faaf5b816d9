"""Rolling a new model version onto a Triton that serves the S3 model store, while cameras stream through it.

Everything is real: a moto S3 store, the embedded Triton started on ``s3://127.0.0.1:PORT/BUCKET/PREFIX`` with
explicit model control, `pitchside run`'s session streaming a video offline (every frame must arrive), and the
rollout staging, checking and swapping through Triton's own load API.
"""

import asyncio
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_feeds import unique
from restartable_moto import RestartableMotoServer

from orchestrator.config.run_config import Mode
from orchestrator.modelstore.golden import GoldenFrame, load_golden
from orchestrator.modelstore.publish import plan_publish, publish
from orchestrator.modelstore.rollout import RolloutError, reference_detections, rollout
from orchestrator.modelstore.store_read import read_version
from orchestrator.modelstore.store_uri import StoreUri
from orchestrator.modelstore.validation import validate_detector
from orchestrator.paths import MEDIA_DIR
from orchestrator.repository.detector_build import DetectorBuild
from orchestrator.repository.model_config import load_model
from orchestrator.repository.profiles import Profile, render
from orchestrator.sources.spec import parse_source
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from orchestrator.vision.letterbox import letterbox
from orchestrator.vision.onnx_detector import OnnxDetector
from tests.pipeline_run import of_stream, run_and_read, session_config

pytestmark = [pytest.mark.aws, pytest.mark.integration]
STREAMS = ("north", "south")
FRAMES_PER_STREAM = 160


@pytest.fixture
def repository(model_repository: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model_repository"
    shutil.copytree(model_repository, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def store(moto: RestartableMotoServer) -> StoreUri:
    bucket = unique("models")
    boto3.client("s3", endpoint_url=moto.url).create_bucket(Bucket=bucket)
    return StoreUri.parse(f"s3://{moto.url.removeprefix('http://')}/{bucket}/prod")


@pytest.fixture
def golden() -> list[GoldenFrame]:
    return [frame for frame in load_golden(MEDIA_DIR, frames_per_video=2) if frame.name.endswith(".png")]


async def publish_version(repository: Path, store: StoreUri, model: str, version: int) -> None:
    validation = None
    if model == "detector":
        validation = validate_detector(DetectorBuild.of(load_model(repository / model)), model).as_json()
    await publish(plan_publish(repository / model, version, validation), store)


def rebuild_with(repository: Path, old: str, new: str) -> None:
    config = repository / "detector" / "config.pbtxt"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new))
    DetectorBuild.of(load_model(repository / "detector")).write()


@pytest.fixture
def serving(repository: Path, store: StoreUri) -> Iterator[str]:
    for model in ("detector", "preprocess", "detection"):
        asyncio.run(publish_version(repository, store, model, 1))
    with EmbeddedTriton(EmbeddedTritonConfig(str(store), ServerPorts(0, 0, 0))) as server:
        yield server.endpoints.grpc_url


@pytest.fixture
def two_servers(repository: Path, store: StoreUri) -> Iterator[tuple[EmbeddedTriton, EmbeddedTriton]]:
    """Two Tritons serving one store, as two pods of the Deployment do."""
    for model in ("detector", "preprocess", "detection"):
        asyncio.run(publish_version(repository, store, model, 1))
    with (
        EmbeddedTriton(EmbeddedTritonConfig(str(store), ServerPorts(0, 0, 0))) as first,
        EmbeddedTriton(EmbeddedTritonConfig(str(store), ServerPorts(0, 0, 0))) as second,
    ):
        yield first, second


async def served_version(url: str, frame: GoldenFrame) -> str:
    """The detector version that answers a golden frame on the server at ``url``."""
    async with DetectionClient.connect(url, "detector") as client:
        boxed, plan = letterbox(frame.image, await client.input_size())
        return (await client.detect_letterboxed(boxed, plan)).model_version


def pinned_config(store: StoreUri) -> str:
    s3 = boto3.client("s3", endpoint_url=store.endpoint_url)
    return str(s3.get_object(Bucket=store.bucket, Key=store.key("detector", "config.pbtxt"))["Body"].read().decode())


async def test_every_server_is_checked_before_any_moves_and_all_end_on_the_new_version(
    two_servers: tuple[EmbeddedTriton, EmbeddedTriton], repository: Path, store: StoreUri, golden: list[GoldenFrame]
) -> None:
    urls = [server.endpoints.grpc_url for server in two_servers]
    rebuild_with(repository, 'key: "score_threshold", value: { string_value: "0.35"',
                 'key: "score_threshold", value: { string_value: "0.36"')  # fmt: skip
    await publish_version(repository, store, "detector", 2)
    messages: list[str] = []

    result = await rollout(urls, store, await read_version(store, "detector", 2), golden, messages.append)

    assert result.servers == tuple(urls) and result.previous_versions == ("1",) and result.version == 2
    assert [await served_version(url, golden[0]) for url in urls] == ["2", "2"]
    checked = [i for i, message in enumerate(messages) if "in-server check" in message]
    moved = [i for i, message in enumerate(messages) if "moving traffic" in message]
    assert len(checked) == len(moved) == 2 and max(checked) < min(moved), messages
    assert [messages[i].split(":")[0:2] for i in moved] == [url.split(":") for url in urls]
    assert "versions: 2" in pinned_config(store)


async def test_a_server_that_cannot_move_rolls_back_the_servers_moved_before_it(
    two_servers: tuple[EmbeddedTriton, EmbeddedTriton], repository: Path, store: StoreUri, golden: list[GoldenFrame]
) -> None:
    """The second server goes away just as traffic is to move to it: the first, already on version 2, is put back
    on version 1 and nothing is pinned."""
    first, second = two_servers
    urls = [first.endpoints.grpc_url, second.endpoints.grpc_url]
    await publish_version(repository, store, "detector", 2)

    def progress(message: str) -> None:
        if message.startswith(f"{urls[1]}: moving traffic"):
            second.stop()

    with pytest.raises(RolloutError) as stopped:
        await rollout(urls, store, await read_version(store, "detector", 2), golden, progress, load_timeout_s=30)

    assert str(stopped.value).startswith(f"{urls[1]}: Triton could not load detector")
    assert str(stopped.value).endswith(f"rolled back on {urls[0]} too")
    assert await served_version(urls[0], golden[0]) == "1"
    assert "versions: 1" in pinned_config(store) and "versions: 2" not in pinned_config(store)


async def test_a_new_version_takes_over_mid_stream_without_losing_a_frame(
    serving: str, repository: Path, store: StoreUri, golden: list[GoldenFrame], tmp_path: Path
) -> None:
    rebuild_with(repository, 'key: "score_threshold", value: { string_value: "0.35"',
                 'key: "score_threshold", value: { string_value: "0.36"')  # fmt: skip
    await publish_version(repository, store, "detector", 2)
    published = await read_version(store, "detector", 2)
    sources = tuple(parse_source(str(MEDIA_DIR / "vtest.avi"), name) for name in STREAMS)
    config = session_config(tmp_path, sources, serving, Mode.OFFLINE, max_frames=FRAMES_PER_STREAM)
    run = asyncio.create_task(run_and_read(config))
    await asyncio.sleep(3.0)  # the cameras are streaming on version 1
    result = await rollout([serving], store, published, golden, lambda message: None)
    summary, events = await run
    assert result.previous_versions == ("1",) and result.version == 2 and result.servers == (serving,)
    assert [e for e in events if e["type"] == "frame_error"] == []
    for stream in STREAMS:
        frames = of_stream(events, stream, "detections")
        assert [e["frame_seq"] for e in frames] == list(range(FRAMES_PER_STREAM)), "every frame, in order"
        versions = [e["model"]["version"] for e in frames]
        switch = versions.index("2")
        assert switch > 0 and versions == ["1"] * switch + ["2"] * (len(versions) - switch), "one switch, 1 -> 2"
    assert all(s.dropped == 0 for s in summary.streams)
    served = (
        boto3.client("s3", endpoint_url=store.endpoint_url)
        .get_object(Bucket=store.bucket, Key=store.key("detector", "config.pbtxt"))["Body"]
        .read()
        .decode()
    )
    assert "versions: 2" in served and "versions: 1" not in served, "a restarted Triton serves what is serving"


@pytest.mark.parametrize(
    ("broken", "stops"),
    [
        ("graph", "model.onnx is not the graph its validation report judged"),
        ("config", "Triton could not load detector__candidate"),
        ("model.py", "Triton did not finish loading detector__candidate within 5 s"),
    ],
)
async def test_a_broken_version_is_never_given_traffic(
    serving: str, store: StoreUri, golden: list[GoldenFrame], broken: str, stops: str
) -> None:
    """Version 3 is version 1 copied in the store with its manifest rewritten to match, validation report kept:
    with its graph truncated it is refused before the server is touched; with a config asking for a GPU this
    server lacks, the staged candidate fails to load; with its Python model cut short, Triton 2.51 never finishes
    loading it and the rollout's load deadline stops it. Either way the rollout stops, version 1 keeps serving
    and stays pinned."""
    s3 = boto3.client("s3", endpoint_url=store.endpoint_url)
    manifest = json.loads(
        s3.get_object(Bucket=store.bucket, Key=store.key("detector", "1", "manifest.json"))["Body"].read()
    )
    files = {}
    for relative in manifest["files"]:
        body = s3.get_object(Bucket=store.bucket, Key=store.key("detector", relative))["Body"].read()
        if relative.startswith("1/"):
            relative = "3/" + relative.removeprefix("1/")
            truncated = (broken, relative.rsplit(".", 1)[-1]) in {("graph", "onnx"), ("model.py", "py")}
            body = body[: len(body) // 2] if truncated else body  # a truncated upload
            s3.put_object(Bucket=store.bucket, Key=store.key("detector", relative), Body=body)
        files[relative] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    manifest.update(version=3, files=files)
    if broken == "config":
        manifest["config"] += "instance_group { kind: KIND_GPU count: 1 }\n"
    s3.put_object(Bucket=store.bucket, Key=store.key("detector", "3", "manifest.json"), Body=json.dumps(manifest))
    published = await read_version(store, "detector", 3)
    with pytest.raises(RolloutError, match="nothing changed") as stopped:
        await rollout([serving], store, published, golden, lambda message: None, load_timeout_s=5.0)
    assert stops in str(stopped.value)
    async with DetectionClient.connect(serving, "detector") as client:
        boxed, plan = letterbox(golden[0].image, await client.input_size())
        answer = await client.detect_letterboxed(boxed, plan)
    assert answer.model_version == "1" and len(answer) > 0
    served = s3.get_object(Bucket=store.bucket, Key=store.key("detector", "config.pbtxt"))["Body"].read().decode()
    assert "versions: 1" in served


async def test_a_gpu_store_version_is_checked_against_the_graph_its_plans_were_built_from(
    repository: Path, store: StoreUri, golden: list[GoldenFrame], tmp_path: Path
) -> None:
    """The GPU profile's plans cannot be served here (no TensorRT); what stopped its rollout comes before them: the
    reference the server's answers are judged against, read from a GPU repository published to the store."""
    plan = tmp_path / "model.sm86.plan"
    plan.write_bytes(b"a TensorRT engine built on an A10G")
    gpu = tmp_path / "gpu-repository"
    render(repository, Profile.GPU, gpu, {"8.6": plan})
    validation = validate_detector(DetectorBuild.of(load_model(repository / "detector")), "detector").as_json()
    await publish(plan_publish(gpu / "detector", 1, validation), store)
    published = await read_version(store, "detector", 1)
    assert published.files["1/model.sm86.plan"] == plan.read_bytes()

    reference = reference_detections(published, golden)

    graph = OnnxDetector.load(repository / "detector" / "1" / "model.onnx")
    assert reference.input_size == graph.input_size
    for frame in golden:
        boxed, box_plan = letterbox(frame.image, graph.input_size)
        expected = graph.detect(boxed[None], box_plan.as_array()[None])[0]
        assert len(expected) > 0 and (reference.detections[frame.name] == expected).all(), frame.name
