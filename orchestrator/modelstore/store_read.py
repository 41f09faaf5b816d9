"""Reading one published version back from the model store, every file checked against its manifest."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.exceptions import ClientError

from orchestrator.modelstore.manifest import MANIFEST_FILE
from orchestrator.modelstore.store_uri import StoreUri


class StoreReadError(Exception):
    """The version is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True)
class PublishedVersion:
    model: str
    version: int
    manifest: dict[str, Any]
    files: dict[str, bytes]
    """Every file of the manifest, by path relative to the model's directory (``labels.txt``, ``2/model.onnx``)."""

    @property
    def config_text(self) -> str:
        """The serving config this version was published (and validated) with."""
        return str(self.manifest["config"])


async def read_version(
    store: StoreUri, model: str, version: int, session: aioboto3.Session | None = None
) -> PublishedVersion:
    """Fetch ``model`` ``version`` and verify every file's sha256; a version without a manifest is incomplete."""
    kwargs = {} if store.endpoint_url is None else {"endpoint_url": store.endpoint_url}
    async with (session or aioboto3.Session()).client("s3", **kwargs) as s3:
        manifest_key = store.key(model, str(version), MANIFEST_FILE)
        manifest = json.loads(await _get(s3, store, manifest_key, f"{model} version {version} has no manifest"))
        files = {}
        for relative, facts in manifest["files"].items():
            data = await _get(s3, store, store.key(model, relative), f"{relative} listed in the manifest is missing")
            if hashlib.sha256(data).hexdigest() != facts["sha256"]:
                raise StoreReadError(f"{model}/{relative} in {store} does not match its manifest's sha256")
            files[relative] = data
    return PublishedVersion(model, version, manifest, files)


async def _get(s3: Any, store: StoreUri, key: str, missing: str) -> bytes:
    try:
        response = await s3.get_object(Bucket=store.bucket, Key=key)
    except ClientError as exc:
        raise StoreReadError(f"{missing} ({store}/{key}): {exc}") from exc
    async with response["Body"] as body:
        return bytes(await body.read())
