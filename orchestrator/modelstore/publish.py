"""``pitchside model publish``: one model version into the S3 model store, immutable, manifest last.

Store layout is Triton's own repository layout, so Triton serves the store directly
(``--model-repository s3://…``)::

    <prefix>/<model>/config.pbtxt, labels.txt, warmup/…   written with the first version; identical afterwards
    <prefix>/<model>/<version>/model.onnx, model.py        the version's files, never overwritten
    <prefix>/<model>/<version>/manifest.json               written last: a version without one is incomplete
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aioboto3
from botocore.exceptions import ClientError
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as pb

from orchestrator.modelstore.manifest import MANIFEST_FILE, build_manifest
from orchestrator.modelstore.source_check import read_labels
from orchestrator.modelstore.store_uri import StoreUri
from orchestrator.modelstore.validation import sha256_of
from orchestrator.repository.detector_build import SOURCE_PARAMETER, DetectorBuild
from orchestrator.repository.model_config import CONFIG_FILE, load_model

LABELS_FILE: Final = "labels.txt"
LOCAL_VERSION: Final = "1"
"""The version directory the repository in the checkout builds into; published under the version asked for."""


class PublishRefusedError(Exception):
    """The store or the evidence says no; the message says what to do instead."""


@dataclass(frozen=True)
class PublishPlan:
    model: str
    version: int
    model_files: dict[str, Path]
    """Beside the config: config.pbtxt, labels, warm-up data (not the researcher's source ONNX)."""
    version_files: dict[str, Path]
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
        str(path.relative_to(model_dir)): path
        for path in sorted(model_dir.rglob("*"))
        if path.is_file() and not _skipped(path.relative_to(model_dir), source)
    }
    version_dir = model_dir / LOCAL_VERSION
    version_files = {
        f"{version}/{path.relative_to(version_dir)}": path
        for path in sorted(version_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    if not version_files:
        raise PublishRefusedError(f"{model_dir.name}/{LOCAL_VERSION}/ holds no files to publish")
    source_sha = None
    if source:
        build = DetectorBuild.of(entry, LOCAL_VERSION)
        _require_validation(validation, sha256_of(build.served), model_dir.name)
        source_sha = sha256_of(build.source)
    labels = read_labels(model_dir / LABELS_FILE) if (model_dir / LABELS_FILE).is_file() else ()
    manifest = build_manifest(model_dir.name, version, {**model_files, **version_files}, source_sha, validation, labels)
    return PublishPlan(model_dir.name, version, model_files, version_files, manifest)


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
        for key, path in plan.version_files.items():
            written.append(await _put(s3, store, store.key(plan.model, key), path.read_bytes()))
        manifest = json.dumps(plan.manifest, indent=2).encode()
        written.append(await _put(s3, store, store.key(plan.model, str(plan.version), MANIFEST_FILE), manifest))
        return written


async def _model_files(s3: Any, store: StoreUri, plan: PublishPlan) -> list[str]:
    """Write the model-level files the first time; afterwards they must be what the store holds."""
    written = []
    for relative, path in plan.model_files.items():
        key = store.key(plan.model, relative)
        existing = await _get(s3, store, key)
        data = path.read_bytes()
        if existing is None:
            written.append(await _put(s3, store, key, data))
        elif existing != data and not _same_config(relative, existing, data):
            raise PublishRefusedError(
                f"{plan.model}/{relative} in {store} differs from this one: a version shares its model's config and "
                "labels, so a change there is a new model name, not a new version"
            )
    return written


def _same_config(relative: str, stored: bytes, ours: bytes) -> bool:
    if relative != CONFIG_FILE:
        return False
    return bool(_parse_config(stored) == _parse_config(ours))


def _parse_config(data: bytes) -> pb.ModelConfig:
    return text_format.Parse(data.decode(), pb.ModelConfig())


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
    return top.isdigit() or "__pycache__" in relative.parts or (bool(source) and str(relative) == source)


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
    async with response["Body"] as body:
        return bytes(await body.read())


async def _call(call: Any, store: StoreUri) -> Any:
    try:
        return await call
    except ClientError as exc:
        raise PublishRefusedError(f"the store {store} refused: {exc}") from exc
