"""The one seam between pitchside and tritonclient's gRPC asyncio client for the detection ensemble."""

from collections.abc import Mapping
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

from orchestrator.contract import (
    DETECTOR_INPUT,
    ENSEMBLE_MODEL,
    INPUT_IMAGE_BYTES,
    INPUT_IMAGE_RAW,
    LETTERBOX,
    OUTPUT_DETECTIONS,
    OUTPUT_NUM_DETECTIONS,
)
from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import (
    InferenceExpiredError,
    InferenceFailedError,
    InferenceRejectedError,
    InferenceTimeoutError,
    TritonError,
    TritonUnavailableError,
)
from orchestrator.triton.labels import (
    NO_LABELS,
    LabelOutput,
    Labels,
    LabelsError,
    ensemble_steps,
    label_output,
    parse_classification,
    unlabelled,
)
from orchestrator.vision.letterbox import Letterbox, letterbox

DEFAULT_REQUEST_TIMEOUT_S: Final = 10.0
"""The one default deadline of an inference call, wherever one is made (``pitchside run``'s
``[triton] request_timeout_s``, ``detect``, the benchmarks). It only bounds a hung call: a live frame is bounded
much sooner by its staleness budget (Triton's queue timeout), and a saturated 2-core CPU holds a queued request
for a few seconds at most (``bench model``'s 64 outstanding requests at ~20 fps: ~3 s)."""
MAX_MESSAGE_BYTES: Final = 2**31 - 1
RECONNECT_BACKOFF_MS: Final = (100, 1000)
"""gRPC's default reconnect backoff grows to 120 s: far too slow to resume a live feed after a Triton restart."""


def channel_args() -> list[tuple[str, int | str]]:
    """gRPC channel options for Triton (passing any replaces tritonclient's defaults, so all are set here).

    ``round_robin`` balances calls across every address a name resolves to: with a Kubernetes headless
    Service (``dns:///triton-grpc.ns.svc:8001``) each call goes to the next Triton pod, not one pinned pod.
    """
    return [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", 10_000),
        ("grpc.keepalive_timeout_ms", 5_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
        ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
        ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[1]),
        ("grpc.lb_policy_name", "round_robin"),
    ]


_REJECTED: Final = ("StatusCode.INVALID_ARGUMENT", "StatusCode.OUT_OF_RANGE")
_UNAVAILABLE: Final = ("StatusCode.UNAVAILABLE", "StatusCode.CANCELLED", "StatusCode.NOT_FOUND")
"""NOT_FOUND is a model this server does not serve right now: a stopping Triton unloads its models while it still
answers ("Request for unknown model: 'detector' has no available versions", for seconds), so a frame sent to a
restarting or terminating pod must be retried or sent to another one, not refused. The models a run needs are
checked at connect, so a model missing for good shows there."""
_QUEUE_EXPIRED: Final = "Request timeout expired"
"""What Triton's queue policy answers (as UNAVAILABLE) for a request whose own timeout ran out in the queue."""


class DetectionClient:
    """Sends one frame per request over gRPC: to the detection ensemble (raw or encoded frames) or straight to
    the detector (letterboxed frames)."""

    def __init__(
        self,
        client: grpcclient.InferenceServerClient,
        model: str = ENSEMBLE_MODEL,
        timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        labels: Labels = NO_LABELS,
    ) -> None:
        """``labels``: the class names every Detections returned carries (``load_labels`` reads the model's)."""
        self._client = client
        self._model = model
        self._timeout_s = timeout_s
        self._labels = labels

    @classmethod
    def connect(cls, url: str, model: str = ENSEMBLE_MODEL, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> Self:
        """A client for ``host:port`` (the connection is opened lazily by the first call)."""
        return cls(grpcclient.InferenceServerClient(url, channel_args=channel_args()), model, timeout_s)

    @property
    def model(self) -> str:
        return self._model

    @property
    def labels(self) -> Labels:
        return self._labels

    def use_labels(self, labels: Labels) -> None:
        """Attach ``labels`` (read once, shared by every client of a run) to the detections returned from now on."""
        self._labels = labels

    async def load_labels(self) -> Labels:
        """Read the model's class names from the server and use them from now on.

        The model's config (or, for an ensemble, the config of the step model that has one) names a labels file
        on an output of C class scores; one classification request of a black frame for that output returns
        the C names (see orchestrator/triton/labels.py). A model with no labels file gets ``class_<id>`` names
        and one warning; a labels file that does not name the C classes raises LabelsError."""
        source = await self._label_output(self._model)
        self._labels = unlabelled(self._model) if source is None else await self._classify(source)
        return self._labels

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def is_ready(self) -> bool:
        """True when the server and the ensemble are ready; False when unreachable."""
        try:
            return bool(await self._client.is_server_ready() and await self._client.is_model_ready(self._model))
        except InferenceServerException:
            return False

    async def detect_raw(
        self,
        frame: npt.NDArray[np.uint8],
        timeout_s: float | None = None,
        queue_timeout_s: float | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Detections:
        """Detect on an (H, W, 3) uint8 BGR frame; ``timeout_s`` overrides the client's deadline;
        ``queue_timeout_s`` lets Triton drop the request if it waits in the detector's queue longer;
        ``headers`` go in the request's gRPC metadata (a W3C ``traceparent`` joins Triton's spans to a trace)."""
        tensor = _tensor(INPUT_IMAGE_RAW, np.ascontiguousarray(frame)[None])
        return await self._infer(tensor, deadline_s=timeout_s, queue_timeout_s=queue_timeout_s, headers=headers)

    async def detect_encoded(
        self,
        data: bytes,
        timeout_s: float | None = None,
        queue_timeout_s: float | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Detections:
        """Detect on an encoded image (JPEG, PNG, ...); timeouts and headers as for ``detect_raw``."""
        tensor = _tensor(INPUT_IMAGE_BYTES, np.frombuffer(data, dtype=np.uint8)[None])
        return await self._infer(tensor, deadline_s=timeout_s, queue_timeout_s=queue_timeout_s, headers=headers)

    async def detect_letterboxed(
        self,
        boxed: npt.NDArray[np.uint8],
        plan: Letterbox,
        timeout_s: float | None = None,
        queue_timeout_s: float | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Detections:
        """Detect on an (S, S, 3) uint8 letterboxed frame; boxes come back in the source frame's pixels;
        timeouts and headers as for ``detect_raw``."""
        images = _tensor(DETECTOR_INPUT, np.ascontiguousarray(boxed)[None])
        letterbox = _tensor(LETTERBOX, plan.as_array()[None])
        return await self._infer(
            images, letterbox, deadline_s=timeout_s, queue_timeout_s=queue_timeout_s, headers=headers
        )

    async def input_size(self) -> int:
        """S of the model's (S, S, 3) ``images`` input, read from the server's config of the model."""
        return await self._input_size_of(self._model)

    async def _input_size_of(self, model: str) -> int:
        for spec in (await self._config(model)).get("input", []):
            if spec.get("name") == DETECTOR_INPUT:
                return int(spec["dims"][0])
        raise InferenceFailedError(f"{model} has no {DETECTOR_INPUT!r} input: it does not take letterboxed frames")

    async def _config(self, model: str) -> dict[str, Any]:
        """The server's config of ``model`` as JSON."""
        try:
            response = await self._client.get_model_config(model, as_json=True)
        except InferenceServerException as exc:
            raise translate_error(exc) from exc
        config: dict[str, Any] = response.get("config", {})
        return config

    async def _label_output(self, model: str) -> LabelOutput | None:
        """The labelled output of ``model``, or of the first step model of an ensemble that has one."""
        config = await self._config(model)
        found = label_output(model, config)
        for step in ensemble_steps(config) if found is None else []:
            found = await self._label_output(step)
            if found is not None:
                break
        return found

    async def _classify(self, source: LabelOutput) -> Labels:
        """The class names, from one classification request of a black letterboxed frame."""
        size = await self._input_size_of(source.model)
        boxed, plan = letterbox(np.zeros((size, size, 3), np.uint8), size)
        tensors = [_tensor(DETECTOR_INPUT, boxed[None]), _tensor(LETTERBOX, plan.as_array()[None])]
        output = grpcclient.InferRequestedOutput(source.output, class_count=source.num_classes)
        try:
            result = await self._client.infer(source.model, tensors, outputs=[output], client_timeout=self._timeout_s)
        except InferenceServerException as exc:
            raise translate_error(exc) from exc
        entries = result.as_numpy(source.output)
        if entries is None:
            raise LabelsError(f"{source.model} returned no {source.output} for the class-name request")
        return parse_classification(entries.reshape(-1), source)

    async def _infer(
        self,
        *tensors: grpcclient.InferInput,
        deadline_s: float | None,
        queue_timeout_s: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> Detections:
        timeout = self._timeout_s if deadline_s is None else deadline_s
        queue_us = None if queue_timeout_s is None else max(1, int(queue_timeout_s * 1e6))
        outputs = [
            grpcclient.InferRequestedOutput(OUTPUT_DETECTIONS),
            grpcclient.InferRequestedOutput(OUTPUT_NUM_DETECTIONS),
        ]
        try:
            result = await self._client.infer(
                self._model,
                list(tensors),
                outputs=outputs,
                client_timeout=timeout,
                timeout=queue_us,
                headers=dict(headers) if headers else None,
            )
        except InferenceServerException as exc:
            raise translate_error(exc) from exc
        rows = result.as_numpy(OUTPUT_DETECTIONS)
        count = result.as_numpy(OUTPUT_NUM_DETECTIONS)
        if rows is None or count is None:
            raise InferenceFailedError(f"{self._model} returned no {OUTPUT_DETECTIONS}/{OUTPUT_NUM_DETECTIONS}")
        response = result.get_response()
        found = rows[0][: int(count.reshape(-1)[0])]
        return Detections.from_rows(found, response.model_name, response.model_version, self._labels)


def translate_error(exc: InferenceServerException) -> TritonError:
    """Map a tritonclient exception onto pitchside's error hierarchy."""
    status = str(exc.status())
    message = exc.message() or str(exc)
    if status in _REJECTED:
        return InferenceRejectedError(message)
    if status == "StatusCode.UNAVAILABLE" and _QUEUE_EXPIRED in message:
        return InferenceExpiredError(f"{status}: {message}")
    if status == "StatusCode.DEADLINE_EXCEEDED":
        return InferenceTimeoutError(f"{status}: {message}")
    if status in _UNAVAILABLE:
        return TritonUnavailableError(f"{status}: {message}")
    return InferenceFailedError(f"{status}: {message}")


def _tensor(name: str, batch: npt.NDArray[np.generic]) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput(name, list(batch.shape), str(np_to_triton_dtype(batch.dtype)))
    tensor.set_data_from_numpy(batch)
    return tensor
