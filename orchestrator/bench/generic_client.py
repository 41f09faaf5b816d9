"""A model-agnostic seam over tritonclient's gRPC asyncio client: any model, its config, its statistics.

``orchestrator.triton.client.DetectionClient`` speaks the detection contract; the benchmark needs to drive
any model or ensemble with prepared tensors, so it gets its own small seam with the same error translation.
"""

from collections.abc import Sequence
from typing import Any, Self

import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from orchestrator.bench.server_stats import ModelCounters, parse_statistics
from orchestrator.triton.client import translate_error
from orchestrator.triton.errors import TritonUnavailableError


class GenericTritonClient:
    def __init__(self, client: grpcclient.InferenceServerClient, timeout_s: float) -> None:
        self._client = client
        self._timeout_s = timeout_s

    @classmethod
    def connect(cls, url: str, timeout_s: float) -> Self:
        return cls(grpcclient.InferenceServerClient(url), timeout_s)

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def infer(
        self, model: str, inputs: Sequence[grpcclient.InferInput], outputs: Sequence[str] | None = None
    ) -> None:
        """One request; raises a pitchside TritonError on failure. ``outputs`` (None: all the model's) are
        received, not decoded."""
        requested = None if outputs is None else [grpcclient.InferRequestedOutput(name) for name in outputs]
        try:
            await self._client.infer(model, list(inputs), outputs=requested, client_timeout=self._timeout_s)
        except InferenceServerException as exc:
            raise translate_error(exc) from exc

    async def model_config(self, model: str) -> dict[str, Any]:
        """The model's config as Triton's JSON (``max_batch_size``, ``input``, ``parameters``...)."""
        response = await self._call(self._client.get_model_config(model, as_json=True))
        return dict(response.get("config", {}))

    async def statistics(self, models: tuple[str, ...]) -> dict[str, ModelCounters]:
        return parse_statistics(await self._call(self._client.get_inference_statistics("", as_json=True)), models)

    async def server_version(self) -> str:
        return str((await self._call(self._client.get_server_metadata(as_json=True))).get("version", "unknown"))

    async def require_ready(self, model: str) -> None:
        ready = await self._call(self._client.is_model_ready(model))
        if not ready:
            raise TritonUnavailableError(f"model {model!r} is not ready on the server")

    async def composing_models(self, model: str) -> tuple[str, ...]:
        """Every model an ensemble runs, in step order, nested ensembles expanded; () for a plain model."""
        steps = (await self.model_config(model)).get("ensemble_scheduling", {}).get("step", [])
        names: list[str] = []
        for step in steps:
            name = str(step["model_name"])
            names += [name, *await self.composing_models(name)]
        return tuple(dict.fromkeys(names))

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except InferenceServerException as exc:
            raise translate_error(exc) from exc
