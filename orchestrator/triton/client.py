"""The one seam between pitchside and tritonclient's gRPC asyncio client for the detection ensemble."""

from typing import Final, Self

import numpy as np
import numpy.typing as npt
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from orchestrator.contract import (
    ENSEMBLE_MODEL,
    INPUT_IMAGE_BYTES,
    INPUT_IMAGE_RAW,
    OUTPUT_DETECTIONS,
    OUTPUT_NUM_DETECTIONS,
)
from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import (
    InferenceFailedError,
    InferenceRejectedError,
    TritonError,
    TritonUnavailableError,
)

DEFAULT_REQUEST_TIMEOUT_S: Final = 10.0
_REJECTED: Final = ("StatusCode.INVALID_ARGUMENT", "StatusCode.OUT_OF_RANGE", "StatusCode.NOT_FOUND")
_UNAVAILABLE: Final = ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED", "StatusCode.CANCELLED")


class DetectionClient:
    """Sends one frame per request to the detection ensemble over gRPC."""

    def __init__(
        self, client: grpcclient.InferenceServerClient, model: str = ENSEMBLE_MODEL,
        timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
    ) -> None:  # fmt: skip
        self._client = client
        self._model = model
        self._timeout_s = timeout_s

    @classmethod
    def connect(cls, url: str, model: str = ENSEMBLE_MODEL, timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S) -> Self:
        """A client for ``host:port`` (the connection is opened lazily by the first call)."""
        return cls(grpcclient.InferenceServerClient(url), model, timeout_s)

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

    async def detect_raw(self, frame: npt.NDArray[np.uint8]) -> Detections:
        """Detect on an (H, W, 3) uint8 BGR frame."""
        frame = np.ascontiguousarray(frame)
        return await self._infer(INPUT_IMAGE_RAW, frame[None], _dtype_name(frame))

    async def detect_encoded(self, data: bytes) -> Detections:
        """Detect on an encoded image (JPEG, PNG, ...)."""
        return await self._infer(INPUT_IMAGE_BYTES, np.frombuffer(data, dtype=np.uint8)[None], "UINT8")

    async def _infer(self, name: str, batch: npt.NDArray[np.generic], datatype: str) -> Detections:
        tensor = grpcclient.InferInput(name, list(batch.shape), datatype)
        tensor.set_data_from_numpy(batch)
        outputs = [
            grpcclient.InferRequestedOutput(OUTPUT_DETECTIONS),
            grpcclient.InferRequestedOutput(OUTPUT_NUM_DETECTIONS),
        ]
        try:
            result = await self._client.infer(self._model, [tensor], outputs=outputs, client_timeout=self._timeout_s)
        except InferenceServerException as exc:
            raise translate_error(exc) from exc
        rows = result.as_numpy(OUTPUT_DETECTIONS)
        count = result.as_numpy(OUTPUT_NUM_DETECTIONS)
        if rows is None or count is None:
            raise InferenceFailedError(f"{self._model} returned no {OUTPUT_DETECTIONS}/{OUTPUT_NUM_DETECTIONS}")
        return Detections.from_rows(rows[0][: int(count.reshape(-1)[0])])


def translate_error(exc: InferenceServerException) -> TritonError:
    """Map a tritonclient exception onto pitchside's error hierarchy."""
    status = str(exc.status())
    message = exc.message() or str(exc)
    if status in _REJECTED:
        return InferenceRejectedError(message)
    if status in _UNAVAILABLE:
        return TritonUnavailableError(f"{status}: {message}")
    return InferenceFailedError(f"{status}: {message}")


def _dtype_name(array: npt.NDArray[np.generic]) -> str:
    from tritonclient.utils import np_to_triton_dtype

    return str(np_to_triton_dtype(array.dtype))
