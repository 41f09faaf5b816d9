"""A published version's manifest: what is in it, where it came from, and the evidence that it was validated."""

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

MANIFEST_FILE: Final = "manifest.json"
MANIFEST_SCHEMA: Final = "pitchside-model-manifest/v1"
TOOLS: Final = ("pitchside", "onnx", "onnx-graphsurgeon", "onnxruntime", "numpy", "opencv-python-headless")


def tool_versions() -> dict[str, str | None]:
    def one(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: one(name) for name in TOOLS}


def build_manifest(
    model: str,
    model_version: int,
    files: Mapping[str, bytes],
    source_sha256: str | None,
    validation: Mapping[str, Any] | None,
    labels: Sequence[str],
    build_settings: Mapping[str, str],
) -> dict[str, Any]:
    """``files``: path relative to the model's directory in the store -> the bytes published there."""
    return {
        "schema": MANIFEST_SCHEMA,
        "model": model,
        "version": model_version,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {
            key: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for key, data in sorted(files.items())
        },
        "source_sha256": source_sha256,
        "build_settings": dict(build_settings),
        "tools": tool_versions(),
        "labels": list(labels),
        "validation": dict(validation) if validation is not None else None,
    }
