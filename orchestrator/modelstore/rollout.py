"""``pitchside model rollout``: a published version onto a live Triton without dropping a frame, or not at all.

1. **Stage**: the version's files (from the store, checked against its manifest) are loaded under a candidate name
   (``<model>__candidate``) through Triton's load API; live traffic never sees it.
2. **Check through the server**: the golden frames go through the candidate; its detections must pass the accuracy
   gate against the version's served graph run here by ONNX Runtime (``<version>/model.onnx``: on a CPU store the
   file the candidate serves, on a GPU store the graph its TensorRT plans were built from, kept beside them; it
   must be the graph the version's validation report judged). A candidate that fails to load or to match is
   unloaded and the rollout stops: nothing served changed.
3. **Move traffic**: the model is reloaded with only the new version in its version policy. Triton loads it beside
   the old one, sends new requests to it once it is ready, lets in-flight requests finish on the old one, then
   unloads the old one: no request fails because of the swap.
4. **Confirm**: a golden frame through the served name must come back from the new version; if not, the model is
   reloaded on the old version (rolled back) and the rollout reports failure.
5. **Pin**: the store's config names the new version, so a restarted Triton serves it too.

Several servers (every pod of a Deployment: ``--every-pod`` resolves a headless Service to each) go through it
together: the version is staged and checked on every one before any moves, then moved and confirmed one after
another; a server that fails to move or to confirm rolls back every server moved before it, and nothing is pinned.
Each server is driven over one gRPC channel for both model control and inference, so the check and the
confirmation reach the server whose models were loaded even when its name resolves to several.

Needs a Triton started with explicit model control (``pitchside serve`` does this for an s3:// repository).
"""

import asyncio
import hashlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import tritonclient.grpc.aio as grpcclient
from google.protobuf import json_format, text_format
from tritonclient.grpc import model_config_pb2 as pb
from tritonclient.utils import InferenceServerException

from orchestrator.modelstore.gate import GateReport, Rows, run_gate
from orchestrator.modelstore.golden import GoldenFrame
from orchestrator.modelstore.publish import pin_serving_version
from orchestrator.modelstore.store_read import PublishedVersion
from orchestrator.modelstore.store_uri import StoreUri
from orchestrator.triton.client import DetectionClient
from orchestrator.vision.letterbox import letterbox
from orchestrator.vision.onnx_detector import OnnxDetector

log = logging.getLogger(__name__)
CANDIDATE_SUFFIX: Final = "__candidate"
SERVED_FILE: Final = "model.onnx"
LOAD_TIMEOUT_S: Final = 300.0
"""How long Triton may take to load a version: a pod's startup probe allows its models 300 s. A model whose
loading never finishes (Triton 2.51 waits for ever on a Python model that does not parse) stops the rollout."""


class _TimedControl:
    """Triton's model control with a deadline on loads and unloads."""

    def __init__(self, client: grpcclient.InferenceServerClient, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def get_model_repository_index(self, as_json: bool) -> dict[str, Any]:
        index: dict[str, Any] = await self.client.get_model_repository_index(as_json=as_json)
        return index

    async def load_model(self, name: str, config: str, files: dict[str, bytes] | None = None) -> None:
        await self.client.load_model(name, config=config, files=files, client_timeout=self.timeout_s)

    async def unload_model(self, name: str) -> None:
        await self.client.unload_model(name, client_timeout=self.timeout_s)

    async def close(self) -> None:
        await self.client.close()


class RolloutError(Exception):
    """The rollout stopped; the message says at which step and what is serving now."""


@dataclass(frozen=True)
class RolloutResult:
    model: str
    previous_versions: tuple[str, ...]
    """Every version that served before, on any of the servers."""
    version: int
    gate: GateReport
    """The in-server check of the first server (each server's passed)."""
    servers: tuple[str, ...]


@dataclass
class _Server:
    """One Triton server, driven over one channel for model control and inference alike."""

    url: str
    control: _TimedControl
    previous: tuple[str, ...] = ()
    """The versions it served before the rollout."""

    def client(self, model: str) -> DetectionClient:
        """Inference on ``model`` over this server's channel (closed with the control, not by the client)."""
        return DetectionClient(self.control.client, model)


@dataclass(frozen=True)
class Reference:
    """What the candidate must answer: the version's served graph run here on every golden frame."""

    input_size: int
    """S of the (S, S, 3) letterboxed frames the graph takes."""
    detections: dict[str, Rows]
    """Golden frame name -> (N, 6) rows (x1, y1, x2, y2, score, class_id) in source pixels."""


Progress = Callable[[str], None]


async def rollout(
    urls: Sequence[str],
    store: StoreUri,
    published: PublishedVersion,
    golden: list[GoldenFrame],
    progress: Progress,
    load_timeout_s: float = LOAD_TIMEOUT_S,
) -> RolloutResult:
    """Stage and check on every server in ``urls`` (gRPC host:port each), move traffic and confirm server by
    server, pin the version in the store's config (see the module docstring). Raises RolloutError when it stops."""
    if not urls:
        raise RolloutError("no Triton server to roll out on; nothing changed")
    reference = await asyncio.to_thread(reference_detections, published, golden)
    servers = [_Server(url, _TimedControl(grpcclient.InferenceServerClient(url), load_timeout_s)) for url in urls]
    try:
        for server in servers:
            server.previous = await _ready_versions(server.control, published.model)
            progress(f"{server.url}: {published.model} serving version(s) {', '.join(server.previous) or 'none'}")
        gates = [await _stage_and_check(server, published, reference, golden, progress) for server in servers]
        await _move_traffic(servers, published, golden[0], progress)
        await pin_serving_version(store, published.model, published.version)
        previous = tuple(sorted({version for server in servers for version in server.previous}))
        progress(
            f"{published.model} version {published.version} is serving on {len(servers)} server(s); "
            f"version(s) {', '.join(previous)} unloaded"
        )
        return RolloutResult(published.model, previous, published.version, gates[0], tuple(urls))
    finally:
        for server in servers:
            await server.control.close()


async def _stage_and_check(
    server: _Server,
    published: PublishedVersion,
    reference: Reference,
    golden: list[GoldenFrame],
    progress: Progress,
) -> GateReport:
    candidate = published.model + CANDIDATE_SUFFIX
    files = {
        f"file:{path}": data for path, data in published.files.items() if "/" in path or not path.endswith("pbtxt")
    }
    progress(f"{server.url}: staging version {published.version} as {candidate}")
    try:
        await _load(server.control, candidate, _config(published, candidate, [published.version]), files)
        gate = await _check_candidate(server.client(candidate), reference, golden)
    except RolloutError as exc:
        raise RolloutError(f"{server.url}: {exc}") from exc
    finally:
        await _unload_quietly(server.control, candidate)
    progress(
        f"{server.url}: in-server check: recall {gate.recall:.4f}, precision {gate.precision:.4f}, "
        f"drift {gate.max_score_drift:.4f}"
    )
    if not gate.passed:
        raise RolloutError(
            f"{server.url}: version {published.version} failed the in-server check ({'; '.join(gate.reasons)}): "
            "nothing changed, the current version keeps serving"
        )
    return gate


async def _move_traffic(
    servers: Sequence[_Server], published: PublishedVersion, frame: GoldenFrame, progress: Progress
) -> None:
    """Move each server to the new version in turn; on a failure roll back the ones moved before it."""
    moved: list[_Server] = []
    for server in servers:
        progress(f"{server.url}: moving traffic to {published.model} version {published.version}")
        try:
            await _load(server.control, published.model, _config(published, published.model, [published.version]))
            await _confirm_or_roll_back(server, published, frame)
        except RolloutError as exc:
            for earlier in moved:
                await _roll_back(earlier, published)
            also = f"; rolled back on {', '.join(s.url for s in moved)} too" if moved else ""
            raise RolloutError(f"{server.url}: {exc}{also}") from exc
        moved.append(server)


def reference_detections(published: PublishedVersion, golden: list[GoldenFrame]) -> Reference:
    """Run the version's served graph here on every golden frame (before the server is touched). RolloutError when
    the version has no graph, or not the one its validation report judged, or it does not load."""
    where = f"{published.model} version {published.version}"
    graph = published.files.get(f"{published.version}/{SERVED_FILE}")
    if graph is None:
        raise RolloutError(f"{where} has no {SERVED_FILE} to check the server's answers against; nothing changed")
    validated = (published.manifest.get("validation") or {}).get("served_sha256")
    if validated is not None and hashlib.sha256(graph).hexdigest() != validated:
        raise RolloutError(f"{where}: {SERVED_FILE} is not the graph its validation report judged; nothing changed")
    with tempfile.TemporaryDirectory(prefix="pitchside-rollout-") as scratch:
        path = Path(scratch) / SERVED_FILE
        path.write_bytes(graph)
        try:
            local = OnnxDetector.load(path)
        except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
            raise RolloutError(f"{where}: {SERVED_FILE} does not load here: {exc}; nothing changed") from exc

    def expected(frame: GoldenFrame) -> Rows:
        boxed, plan = letterbox(frame.image, local.input_size)
        return local.detect(boxed[None], plan.as_array()[None])[0]

    return Reference(local.input_size, {frame.name: expected(frame) for frame in golden})


async def _check_candidate(client: DetectionClient, reference: Reference, golden: list[GoldenFrame]) -> GateReport:
    served = {frame.name: await _served_rows(client, reference.input_size, frame) for frame in golden}
    return run_gate(golden, lambda frame: reference.detections[frame.name], lambda frame: served[frame.name])


async def _served_rows(client: DetectionClient, size: int, frame: GoldenFrame) -> Rows:
    boxed, plan = letterbox(frame.image, size)
    try:
        found = await client.detect_letterboxed(boxed, plan)
    except Exception as exc:  # any failure of the candidate is a failed check, reported with its cause
        raise RolloutError(f"the staged version failed on {frame.name}: {exc}; nothing changed") from exc
    rows: Rows = found.rows()
    return rows


async def _confirm_or_roll_back(server: _Server, published: PublishedVersion, frame: GoldenFrame) -> None:
    client = server.client(published.model)
    try:
        boxed, plan = letterbox(frame.image, await client.input_size())
        answered = (await client.detect_letterboxed(boxed, plan)).model_version
    except Exception as exc:  # any failure to answer from the new version means roll back
        answered = f"error: {exc}"
    if answered == str(published.version):
        return
    await _roll_back(server, published)
    raise RolloutError(
        f"after the swap {published.model} answered from {answered!r}, not version "
        f"{published.version}: rolled back to version(s) {', '.join(server.previous)}"
    )


async def _roll_back(server: _Server, published: PublishedVersion) -> None:
    """Reload the versions ``server`` served before (none: leave it as it is, there is nothing to go back to)."""
    if server.previous:
        versions = [int(v) for v in server.previous]
        await _load(server.control, published.model, _config(published, published.model, versions))


def _config(published: PublishedVersion, name: str, versions: list[int]) -> str:
    config = text_format.Parse(published.config_text, pb.ModelConfig())
    config.name = name
    config.version_policy.specific.versions[:] = versions
    return str(json_format.MessageToJson(config, preserving_proto_field_name=True))


async def _ready_versions(control: _TimedControl, model: str) -> tuple[str, ...]:
    index = await control.get_model_repository_index(as_json=True)
    return tuple(
        sorted(
            m.get("version", "")
            for m in index.get("models", [])
            if m.get("name") == model and m.get("state") == "READY"
        )
    )


async def _load(control: _TimedControl, name: str, config: str, files: dict[str, bytes] | None = None) -> None:
    try:
        await control.load_model(name, config=config, files=files)
    except InferenceServerException as exc:
        if "Deadline Exceeded" in str(exc):
            raise RolloutError(
                f"Triton did not finish loading {name} within {control.timeout_s:g} s; nothing changed"
            ) from exc
        raise RolloutError(f"Triton could not load {name}: {exc.message() or exc}; nothing changed") from exc


async def _unload_quietly(control: _TimedControl, name: str) -> None:
    try:
        await control.unload_model(name)
    except InferenceServerException as exc:
        log.warning("could not unload %s: %s", name, exc)
