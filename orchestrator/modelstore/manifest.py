"""A published version's manifest: what is in it, where it came from, and the evidence that it was validated."""

import datetime as dt
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

from orchestrator.modelstore.validation import sha256_of

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
    files: Mapping[str, Path],
    source_sha256: str | None,
    validation: Mapping[str, Any] | None,
    labels: Sequence[str],
) -> dict[str, Any]:
    """``files``: key relative to the model's directory in the store -> the local file."""
    return {
        "schema": MANIFEST_SCHEMA,
        "model": model,
        "version": model_version,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {
            key: {"sha256": sha256_of(path), "bytes": path.stat().st_size} for key, path in sorted(files.items())
        },
        "source_sha256": source_sha256,
        "tools": tool_versions(),
        "labels": list(labels),
        "validation": dict(validation) if validation is not None else None,
    }
