"""``pitchside model publish``: one model version into the S3 model store, immutable, manifest last.

Store layout is Triton's own repository layout, so Triton serves the store directly
(``--model-repository s3://…``)::

    <prefix>/<model>/config.pbtxt                          the serving config; its version_policy names the version
                                                           in service (the first one published, then what
                                                           `model rollout` moved traffic to), so a restarted
                                                           Triton serves what was serving, not the newest upload
    <prefix>/<model>/labels.txt, warmup/…                  written with the first version; identical afterwards
    <prefix>/<model>/<version>/model.onnx, model.py        the version's files, never overwritten
    <prefix>/<model>/<version>/manifest.json               written last: a version without one is incomplete;
                                                           it holds the config the version was validated with
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aioboto3
from botocore.exceptions import BotoCoreError, ClientError
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.modelstore.manifest import MANIFEST_FILE, build_manifest
from orchestrator.modelstore.source_check import read_labels
from orchestrator.modelstore.store_uri import StoreUri
from orchestrator.modelstore.validation import sha256_of
from orchestrator.repository.detector_build import SOURCE_PARAMETER, DetectorBuild
from orchestrator.repository.model_config import CONFIG_FILE, load_model

LABELS_FILE: Final = "labels.txt"
BUILD_PARAMETERS: Final = (
    "source_onnx",
    "score_threshold",
    "class_score_thresholds",
    "iou_threshold",
    "max_detections",
)
LOCAL_VERSION: Final = "1"
"""The version directory the repository in the checkout builds into; published under the version asked for."""


class PublishRefusedError(Exception):
    """The store or the evidence says no; the message says what to do instead."""


@dataclass(frozen=True)
class PublishPlan:
    model: str
    version: int
    config: pb.ModelConfig
    """The serving config: the repository's, without the settings baked into the graph (they are in the manifest)."""
    model_files: dict[str, bytes]
    """Beside the config: labels, warm-up data (not the source ONNX)."""
    version_files: dict[str, bytes]
    manifest: dict[str, Any]


def plan_publish(model_dir: Path, version: int, validation: Mapping[str, Any] | None) -> PublishPlan:
    """What would be published, after checking the evidence: a detector needs a passed validation of this file."""
    if version < 1:
        raise PublishRefusedError(f"version must be a positive whole number, got {version}")
    entry = load_model(model_dir)
    source = (
        entry.config.parameters[SOURCE_PARAMETER].string_value if SOURCE_PARAMETER in entry.config.parameters else ""
    )
    model_files = {
        str(path.relative_to(model_dir)): path.read_bytes()
        for path in sorted(model_dir.rglob("*"))
        if path.is_file() and not _skipped(path.relative_to(model_dir), source)
    }
    config = serving_config(entry.config)
    version_dir = model_dir / LOCAL_VERSION
    version_files = {
        f"{version}/{path.relative_to(version_dir)}": path.read_bytes()
        for path in sorted(version_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    if not version_files:
        raise PublishRefusedError(f"{model_dir.name}/{LOCAL_VERSION}/ holds no files to publish")
    source_sha = None
    if source:
        build = DetectorBuild.of(entry, LOCAL_VERSION)
        _require_validation(validation, sha256_of(build.served), model_dir.name)
        if not build.is_current():  # a setting edited after the build would ship a config the graph ignores
            raise PublishRefusedError(
                f"{model_dir.name}/{LOCAL_VERSION}/{build.served.name} is not what its config builds: "
                "run `pitchside model build`, then validate again"
            )
        source_sha = sha256_of(build.source)
    labels = read_labels(model_dir / LABELS_FILE) if (model_dir / LABELS_FILE).is_file() else ()
    settings = {k: entry.config.parameters[k].string_value for k in BUILD_PARAMETERS if k in entry.config.parameters}
    manifest = build_manifest(
        model_dir.name, version, {**model_files, **version_files}, source_sha, validation, labels, settings
    )
    manifest["config"] = text_format.MessageToString(config)
    return PublishPlan(model_dir.name, version, config, model_files, version_files, manifest)


async def publish(plan: PublishPlan, store: StoreUri, session: aioboto3.Session | None = None) -> list[str]:
    """Upload ``plan`` into ``store``; the keys written, manifest last. Refuses to overwrite anything."""
    kwargs = {} if store.endpoint_url is None else {"endpoint_url": store.endpoint_url}
    async with (session or aioboto3.Session()).client("s3", **kwargs) as s3:
        version_prefix = store.key(plan.model, str(plan.version)) + "/"
        listed = await _call(s3.list_objects_v2(Bucket=store.bucket, Prefix=version_prefix, MaxKeys=1), store)
        if listed.get("KeyCount", 0):
            raise PublishRefusedError(
                f"{plan.model} version {plan.version} already exists in {store}: versions are immutable, "
                "publish under a new version number"
            )
        written = await _model_files(s3, store, plan)
        written += await _config_file(s3, store, plan)
        for key, data in plan.version_files.items():
            written.append(await _put(s3, store, store.key(plan.model, key), data))
        manifest = json.dumps(plan.manifest, indent=2).encode()
        written.append(await _put(s3, store, store.key(plan.model, str(plan.version), MANIFEST_FILE), manifest))
        return written


async def _model_files(s3: Any, store: StoreUri, plan: PublishPlan) -> list[str]:
    """Write the model-level files the first time; afterwards they must be what the store holds."""
    written = []
    for relative, data in plan.model_files.items():
        key = store.key(plan.model, relative)
        existing = await _get(s3, store, key)
        if existing is None:
            written.append(await _put(s3, store, key, data))
        elif existing != data:
            raise PublishRefusedError(_shared_file_changed(plan.model, relative, store))
    return written


async def _config_file(s3: Any, store: StoreUri, plan: PublishPlan) -> list[str]:
    """The first version writes the serving config pinned to itself; later ones must agree with it but for the pin."""
    key = store.key(plan.model, CONFIG_FILE)
    existing = await _get(s3, store, key)
    if existing is None:
        return [await _put(s3, store, key, text_format.MessageToString(pinned(plan.config, plan.version)).encode())]
    if unpinned(parse_config(existing)) != plan.config:
        raise PublishRefusedError(_shared_file_changed(plan.model, CONFIG_FILE, store))
    return []


def _shared_file_changed(model: str, relative: str, store: StoreUri) -> str:
    return (
        f"{model}/{relative} in {store} differs from this one: a version shares its model's config and "
        "labels, so a change there is a new model name, not a new version"
    )


def parse_config(data: bytes) -> pb.ModelConfig:
    return text_format.Parse(data.decode(), pb.ModelConfig())


def pinned(config: pb.ModelConfig, version: int) -> pb.ModelConfig:
    """``config`` serving exactly ``version``."""
    result = pb.ModelConfig()
    result.CopyFrom(config)
    result.version_policy.specific.versions[:] = [version]
    return result


def unpinned(config: pb.ModelConfig) -> pb.ModelConfig:
    result = pb.ModelConfig()
    result.CopyFrom(config)
    result.ClearField("version_policy")
    return result


def serving_config(config: pb.ModelConfig) -> pb.ModelConfig:
    """The config as the store serves it: the settings baked into a version's graph live in its manifest, so
    versions built with other thresholds share one model config."""
    served = unpinned(config)
    for key in BUILD_PARAMETERS:
        if key in served.parameters:
            del served.parameters[key]
    return served


async def pin_serving_version(
    store: StoreUri, model: str, version: int, session: aioboto3.Session | None = None
) -> None:
    """Record in the store's config that ``version`` is the one in service (what a restarted Triton loads)."""
    kwargs = {} if store.endpoint_url is None else {"endpoint_url": store.endpoint_url}
    async with (session or aioboto3.Session()).client("s3", **kwargs) as s3:
        key = store.key(model, CONFIG_FILE)
        existing = await _get(s3, store, key)
        if existing is None:
            raise PublishRefusedError(f"{model} has no config in {store}")
        await _put(s3, store, key, text_format.MessageToString(pinned(parse_config(existing), version)).encode())


def _require_validation(validation: Mapping[str, Any] | None, served_sha256: str, model: str) -> None:
    if validation is None:
        raise PublishRefusedError(f"{model} is built from a researcher's model: run `pitchside model validate` first")
    if not validation.get("passed"):
        reasons = "; ".join(validation.get("gate", {}).get("reasons", [])) or "no reason recorded"
        raise PublishRefusedError(f"{model} failed validation ({reasons}): it cannot be published")
    if validation.get("served_sha256") != served_sha256:
        raise PublishRefusedError(
            f"the validation report is for another build of {model} (sha256 differs): validate this build again"
        )


def _skipped(relative: Path, source: str) -> bool:
    top = relative.parts[0]
    skipped_file = str(relative) == CONFIG_FILE or (bool(source) and str(relative) == source)
    return top.isdigit() or "__pycache__" in relative.parts or skipped_file


async def _put(s3: Any, store: StoreUri, key: str, data: bytes) -> str:
    await _call(s3.put_object(Bucket=store.bucket, Key=key, Body=data), store)
    return key


async def _get(s3: Any, store: StoreUri, key: str) -> bytes | None:
    try:
        response = await s3.get_object(Bucket=store.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise PublishRefusedError(f"cannot read {key} in {store}: {exc}") from exc
    except BotoCoreError as exc:  # unreachable endpoint, no credentials: not a response from the store
        raise PublishRefusedError(f"cannot read {key} in {store}: {exc}") from exc
    async with response["Body"] as body:
        return bytes(await body.read())


async def _call(call: Any, store: StoreUri) -> Any:
    try:
        return await call
    except (ClientError, BotoCoreError) as exc:
        raise PublishRefusedError(f"the store {store} refused: {exc}") from exc
