"""Inference through a Triton outage: the Detector interface, and a detector that retries it with backoff while
the frame's budget lasts, so the stream path only ever sees a frame's final outcome."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import InferenceExpiredError, TritonUnavailableError

RETRY_BACKOFF_S: Final = (0.05, 1.0)
"""First pause and longest pause between attempts (doubling in between)."""


class Detector(Protocol):
    async def detect(
        self,
        image: npt.NDArray[np.uint8],
        timeout_s: float,
        queue_timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Detections, str]:
        """Detections for one (H, W, 3) uint8 BGR frame, and which endpoint served them; ``queue_timeout_s``
        lets Triton drop the frame if it is still queued then (InferenceExpiredError); ``headers`` travel as the
        request's gRPC metadata (the frame's trace context)."""


OnRetry = Callable[[str], None]
"""Told the reason each time an attempt is retried."""


class RetryingDetector:
    """Retries ``detect`` on TritonUnavailableError (no endpoint answered) until ``budget_s`` has passed since
    the first attempt; then raises TritonUnavailableError saying how many attempts over how long. Every other
    outcome (detections, rejected, failed, expired) is returned or raised at once."""

    def __init__(
        self,
        detector: Detector,
        backoff_s: tuple[float, float] = RETRY_BACKOFF_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._detector = detector
        self._backoff_s = backoff_s
        self._sleep = sleep

    async def detect(
        self,
        image: npt.NDArray[np.uint8],
        timeout_s: float,
        budget_s: float,
        queue_timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        on_retry: OnRetry = lambda reason: None,
    ) -> tuple[Detections, str]:
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                return await self._detector.detect(image, timeout_s, queue_timeout_s, headers)
            except InferenceExpiredError:
                raise  # the frame went stale in a healthy server's queue: a drop, not an outage
            except TritonUnavailableError as exc:
                attempt += 1
                waited = time.perf_counter() - started
                if waited >= budget_s:
                    raise TritonUnavailableError(
                        f"{exc} (gave up after {attempt} attempts over {waited:.1f} s)"
                    ) from exc
                on_retry(str(exc))
                first, longest = self._backoff_s
                await self._sleep(min(longest, first * 2**attempt, budget_s - waited))
