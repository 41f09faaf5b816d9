"""``pitchside model validate`` and ``model publish`` into a real moto S3 store, and Triton serving from that store.

The store URI is Triton's own form for an S3-compatible endpoint (``s3://127.0.0.1:PORT/BUCKET/PREFIX``), so the
string given to ``model publish`` is the one given to the embedded Triton. Credentials are the moto session's
dummy AWS variables, which the Triton child inherits.
"""

import asyncio
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from aws_feeds import client, unique
from google.protobuf import text_format
from restartable_moto import RestartableMotoServer
from tritonclient.grpc import model_config_pb2 as pb
from typer.testing import CliRunner

from orchestrator.cli.app import app
from orchestrator.modelstore.publish import plan_publish, publish
from orchestrator.modelstore.source_check import read_labels
from orchestrator.modelstore.store_uri import StoreUri
from orchestrator.paths import MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.detections import Detections
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts

pytestmark = [pytest.mark.integration, pytest.mark.aws, pytest.mark.timeout(600)]

runner = CliRunner()

DETECTOR_MODEL_FILES = {"config.pbtxt", "labels.txt", "PROVENANCE.md", "warmup/letterbox_identity"}
"""Beside the detector's config in the store: everything in its directory but versions and the source ONNX."""
DETECTOR_VERSION_FILES = {"1/model.onnx", "1/model.py", "1/manifest.json"}
FRAMES = ("basketball1.png", "astronaut.png")
MANIFEST, CONFIG = "1/manifest.json", "config.pbtxt"
BUILD_SETTINGS = ("source_onnx", "score_threshold", "class_score_thresholds", "iou_threshold", "max_detections")
"""Baked into the served graph: the manifest records them, the store's config does not repeat them."""


def new_store(moto: RestartableMotoServer, prefix: str = "models") -> tuple[str, str]:
    """A fresh bucket: (its store URI in Triton's host:port form, the bucket name)."""
    bucket = unique("models")

    async def create() -> None:
        async with client("s3", moto.url) as s3:
            await s3.create_bucket(Bucket=bucket)

    asyncio.run(create())
    return f"s3://{moto.url.removeprefix('http://')}/{bucket}/{prefix}", bucket


def stored_objects(moto: RestartableMotoServer, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under ``prefix``: key -> bytes."""

    async def read() -> dict[str, bytes]:
        objects: dict[str, bytes] = {}
        async with client("s3", moto.url) as s3:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            async for page in pages:
                for item in page.get("Contents", []):
                    response = await s3.get_object(Bucket=bucket, Key=item["Key"])
                    async with response["Body"] as body:
                        objects[item["Key"]] = bytes(await body.read())
        return objects

    return asyncio.run(read())


def publish_cli(store: str, version: int, *extra: str) -> Any:
    return runner.invoke(app, ["model", "publish", "--store", store, "--version", str(version), *extra])


def parse_config(data: bytes) -> pb.ModelConfig:
    return text_format.Parse(data.decode(), pb.ModelConfig())


def serving_contract(config: pb.ModelConfig) -> tuple[object, ...]:
    """What clients rely on in a model config: name, backend, batch size, inputs and outputs (the store's copy
    differs from the checkout's in comments, layout, the version it serves and the settings kept in the manifest)."""
    return config.name, config.backend, config.max_batch_size, list(config.input), list(config.output)


def errors(result: Any) -> list[str]:
    """The command's error lines on stderr (at the default INFO level the AWS SDK logs there too)."""
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_report(tmp_path: Path, report: dict[str, Any]) -> Path:
    path = tmp_path / "validation.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def detect(grpc_url: str, image: Path) -> Detections:
    async def one() -> Detections:
        async with DetectionClient.connect(grpc_url) as detection:
            return await detection.detect_encoded(image.read_bytes())

    return asyncio.run(one())


@pytest.fixture(scope="module")
def validation_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pitchside model validate --json`` of the committed build, on the bundled golden frames."""
    path = tmp_path_factory.mktemp("validation") / "validation.json"
    result = runner.invoke(app, ["model", "validate", "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "passed"
    return path


@pytest.fixture(scope="module")
def published(moto_server: RestartableMotoServer, validation_report: Path) -> tuple[str, str]:
    """A store holding version 1 of detector (validated), preprocess and detection: (store URI, bucket)."""
    store, bucket = new_store(moto_server)
    result = publish_cli(store, 1, "--validation", str(validation_report))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"published detector version 1 to {store} (7 objects, 80 labels)\n"
    for model in ("preprocess", "detection"):
        result = publish_cli(store, 1, "--model", model)
        assert result.exit_code == 0, result.output
    return store, bucket


@pytest.fixture
def repository_copy(model_repository: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model_repository"
    shutil.copytree(model_repository, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_validated_detector_lands_in_triton_layout_with_a_manifest_of_every_file(
    moto: RestartableMotoServer, published: tuple[str, str], validation_report: Path, model_repository: Path
) -> None:
    _, bucket = published
    objects = stored_objects(moto, bucket, "models/detector/")

    assert set(objects) == {f"models/detector/{name}" for name in DETECTOR_MODEL_FILES | DETECTOR_VERSION_FILES}
    local = model_repository / "detector"
    for name in (DETECTOR_MODEL_FILES | DETECTOR_VERSION_FILES) - {MANIFEST, CONFIG}:
        assert objects[f"models/detector/{name}"] == (local / name).read_bytes(), name
    stored_config = parse_config(objects["models/detector/config.pbtxt"])
    local_config = parse_config((local / "config.pbtxt").read_bytes())
    assert serving_contract(stored_config) == serving_contract(local_config)
    assert list(stored_config.version_policy.specific.versions) == [1]  # a restarted Triton serves version 1

    manifest = json.loads(objects["models/detector/1/manifest.json"])
    assert manifest["schema"] == "pitchside-model-manifest/v1"
    assert (manifest["model"], manifest["version"]) == ("detector", 1)
    assert set(manifest["files"]) == (DETECTOR_MODEL_FILES | DETECTOR_VERSION_FILES) - {MANIFEST, CONFIG}
    for name, entry in manifest["files"].items():
        data = objects[f"models/detector/{name}"]
        assert entry == {"sha256": sha256(data), "bytes": len(data)}, name
        assert entry["sha256"] == sha256((local / name).read_bytes()), name
    validated_config = text_format.Parse(manifest["config"], pb.ModelConfig())
    assert serving_contract(validated_config) == serving_contract(local_config)
    assert manifest["build_settings"] == {key: local_config.parameters[key].string_value for key in BUILD_SETTINGS}
    assert manifest["build_settings"]["score_threshold"] == "0.35"
    assert manifest["source_sha256"] == sha256((local / "source.onnx").read_bytes())
    assert manifest["labels"] == list(read_labels(local / "labels.txt"))
    assert len(manifest["labels"]) == 80 and manifest["labels"][:3] == ["person", "bicycle", "car"]
    report = json.loads(validation_report.read_text(encoding="utf-8"))
    assert manifest["validation"] == report
    assert manifest["validation"]["served_sha256"] == manifest["files"]["1/model.onnx"]["sha256"]
    assert manifest["tools"]["onnx"] and manifest["tools"]["onnxruntime"]


def test_models_without_a_source_onnx_are_published_without_a_validation(
    moto: RestartableMotoServer, published: tuple[str, str], model_repository: Path
) -> None:
    _, bucket = published

    preprocess = stored_objects(moto, bucket, "models/preprocess/")
    detection = stored_objects(moto, bucket, "models/detection/")

    assert set(preprocess) == {
        "models/preprocess/config.pbtxt",
        "models/preprocess/1/model.py",
        "models/preprocess/1/manifest.json",
    }
    assert preprocess["models/preprocess/1/model.py"] == (model_repository / "preprocess/1/model.py").read_bytes()
    assert set(detection) == {
        "models/detection/config.pbtxt",
        "models/detection/1/.gitkeep",
        "models/detection/1/manifest.json",
    }
    manifest = json.loads(detection["models/detection/1/manifest.json"])
    assert (manifest["validation"], manifest["source_sha256"], manifest["labels"]) == (None, None, [])


def test_publishing_an_existing_version_again_is_refused_and_changes_nothing(
    moto: RestartableMotoServer, published: tuple[str, str], validation_report: Path
) -> None:
    store, bucket = published
    before = stored_objects(moto, bucket)

    result = publish_cli(store, 1, "--validation", str(validation_report))

    assert result.exit_code == 1
    assert errors(result) == [
        f"error: detector version 1 already exists in {store}: versions are immutable, "
        "publish under a new version number"
    ]
    assert stored_objects(moto, bucket) == before


def test_a_detector_without_a_validation_report_is_refused(moto: RestartableMotoServer) -> None:
    store, bucket = new_store(moto)

    result = publish_cli(store, 1)

    assert result.exit_code == 1
    assert errors(result) == [
        "error: detector is built from a researcher's model: run `pitchside model validate` first"
    ]
    assert stored_objects(moto, bucket) == {}


def test_a_failed_validation_report_is_refused_with_its_reasons(moto: RestartableMotoServer, tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    assert cv2.imwrite(str(golden / "empty_pitch.png"), np.full((360, 640, 3), (40, 140, 40), np.uint8))
    report = tmp_path / "failed.json"
    validation = runner.invoke(app, ["model", "validate", "--golden", str(golden), "--json", str(report)])
    assert validation.exit_code == 1  # nothing to judge the build on: a real failed report of this very build
    assert json.loads(report.read_text(encoding="utf-8"))["passed"] is False
    store, bucket = new_store(moto)

    result = publish_cli(store, 1, "--validation", str(report))

    assert result.exit_code == 1
    assert errors(result) == [
        "error: detector failed validation (the source model finds nothing on the golden frames: nothing to judge "
        "the build on; recall 0.0000 < 0.99: the build misses what the source model finds): it cannot be published"
    ]
    assert stored_objects(moto, bucket) == {}


def test_a_validation_report_of_another_build_is_refused(
    moto: RestartableMotoServer, validation_report: Path, tmp_path: Path
) -> None:
    other = json.loads(validation_report.read_text(encoding="utf-8"))
    other["served_sha256"] = sha256(b"a different build of the detector")
    store, bucket = new_store(moto)

    result = publish_cli(store, 1, "--validation", str(write_report(tmp_path, other)))

    assert result.exit_code == 1
    assert errors(result) == [
        "error: the validation report is for another build of detector (sha256 differs): validate this build again"
    ]
    assert stored_objects(moto, bucket) == {}


def test_a_served_graph_its_config_no_longer_builds_is_refused(
    moto: RestartableMotoServer, validation_report: Path, repository_copy: Path
) -> None:
    config = repository_copy / "detector" / "config.pbtxt"
    text = config.read_text(encoding="utf-8")
    edited = 'key: "score_threshold", value: { string_value: "0.5" }'
    config.write_text(text.replace('key: "score_threshold", value: { string_value: "0.35" }', edited), "utf-8")
    store, bucket = new_store(moto)

    result = publish_cli(store, 1, "--repository", str(repository_copy), "--validation", str(validation_report))

    assert result.exit_code == 1
    assert errors(result) == [
        "error: detector/1/model.onnx is not what its config builds: run `pitchside model build`, then validate again"
    ]
    assert stored_objects(moto, bucket) == {}


def test_a_new_version_shares_the_model_files_and_its_manifest_is_written_last(
    moto: RestartableMotoServer, validation_report: Path, model_repository: Path
) -> None:
    store, bucket = new_store(moto, prefix="team/models")
    report = json.loads(validation_report.read_text(encoding="utf-8"))
    target = StoreUri.parse(store)

    first = asyncio.run(publish(plan_publish(model_repository / "detector", 1, report), target))
    second = asyncio.run(publish(plan_publish(model_repository / "detector", 2, report), target))

    assert first[-1] == "team/models/detector/1/manifest.json"
    assert {key.removeprefix("team/models/detector/") for key in first} == DETECTOR_MODEL_FILES | DETECTOR_VERSION_FILES
    assert second == [
        "team/models/detector/2/model.onnx",
        "team/models/detector/2/model.py",
        "team/models/detector/2/manifest.json",
    ]
    objects = stored_objects(moto, bucket)
    assert objects["team/models/detector/2/model.onnx"] == (model_repository / "detector/1/model.onnx").read_bytes()
    assert json.loads(objects["team/models/detector/2/manifest.json"])["version"] == 2


def test_a_config_that_differs_only_in_comments_and_layout_is_the_same_model(
    moto: RestartableMotoServer, validation_report: Path, repository_copy: Path
) -> None:
    store, bucket = new_store(moto)
    assert publish_cli(store, 1, "--validation", str(validation_report)).exit_code == 0
    first_config = stored_objects(moto, bucket)["models/detector/config.pbtxt"]
    config = repository_copy / "detector" / "config.pbtxt"
    lines = config.read_text(encoding="utf-8").splitlines()
    config.write_text("# reformatted\n" + "\n".join(line for line in lines if not line.startswith("#")) + "\n", "utf-8")

    result = publish_cli(store, 2, "--repository", str(repository_copy), "--validation", str(validation_report))

    assert result.exit_code == 0, result.output
    objects = stored_objects(moto, bucket)
    assert objects["models/detector/config.pbtxt"] == first_config  # the model's config is not rewritten
    assert "models/detector/2/manifest.json" in objects


def test_changed_labels_are_a_new_model_not_a_new_version(
    moto: RestartableMotoServer, validation_report: Path, repository_copy: Path
) -> None:
    store, bucket = new_store(moto)
    assert publish_cli(store, 1, "--validation", str(validation_report)).exit_code == 0
    labels = repository_copy / "detector" / "labels.txt"
    labels.write_text(labels.read_text(encoding="utf-8").replace("sports ball", "ball"), encoding="utf-8")

    result = publish_cli(store, 2, "--repository", str(repository_copy), "--validation", str(validation_report))

    assert result.exit_code == 1
    assert errors(result) == [
        f"error: detector/labels.txt in {store} differs from this one: a version shares its model's config and "
        "labels, so a change there is a new model name, not a new version"
    ]
    assert not any(key.startswith("models/detector/2/") for key in stored_objects(moto, bucket))


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("https://bucket/models", "error: 'https://bucket/models': a model store is s3://BUCKET/PREFIX or "),
        ("s3://", "error: 's3://' names no bucket"),
    ],
)
def test_a_store_that_is_not_an_s3_uri_is_one_error_line(store: str, message: str) -> None:
    result = publish_cli(store, 1, "--model", "preprocess")

    assert result.exit_code == 1
    assert len(errors(result)) == 1 and errors(result)[0].startswith(message)


def test_version_0_is_refused(moto: RestartableMotoServer) -> None:
    store, bucket = new_store(moto)

    result = publish_cli(store, 0, "--model", "preprocess")

    assert result.exit_code == 1
    assert errors(result) == ["error: version must be a positive whole number, got 0"]
    assert stored_objects(moto, bucket) == {}


def test_a_store_that_cannot_be_reached_is_one_error_line() -> None:
    port = ServerPorts(0, 0, 0).resolved().http  # free, nothing listens on it

    result = publish_cli(f"s3://127.0.0.1:{port}/models/prod", 1, "--model", "preprocess")

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    (line,) = errors(result)
    assert line.startswith(f"error: the store s3://127.0.0.1:{port}/models/prod refused: Could not connect to ")


@pytest.fixture(scope="module")
def store_triton(published: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTriton]:
    store, _ = published
    log = tmp_path_factory.mktemp("triton-s3") / "tritonserver.log"
    config = EmbeddedTritonConfig(model_repository=store, ports=ServerPorts(0, 0, 0), log_path=log)
    with EmbeddedTriton(config) as server:
        yield server


@pytest.mark.parametrize("frame", FRAMES)
def test_triton_serving_the_store_detects_what_the_local_repository_detects(
    grpc_url: str, store_triton: EmbeddedTriton, frame: str
) -> None:
    local = detect(grpc_url, MEDIA_DIR / frame)
    from_store = detect(store_triton.endpoints.grpc_url, MEDIA_DIR / frame)

    assert len(local) > 0
    assert len(from_store) == len(local)
    assert from_store.class_ids.tolist() == local.class_ids.tolist()
    assert abs(from_store.boxes - local.boxes).max() <= 1.0
    assert abs(from_store.scores - local.scores).max() <= 1e-3


def test_the_store_server_loaded_every_published_model_explicitly(store_triton: EmbeddedTriton) -> None:
    async def index() -> list[dict[str, Any]]:
        from tritonclient.grpc.aio import InferenceServerClient

        triton = InferenceServerClient(store_triton.endpoints.grpc_url)
        try:
            return list((await triton.get_model_repository_index(as_json=True))["models"])
        finally:
            await triton.close()

    models = {(m["name"], m.get("version"), m.get("state")) for m in asyncio.run(index())}

    assert models == {("detector", "1", "READY"), ("preprocess", "1", "READY"), ("detection", "1", "READY")}
