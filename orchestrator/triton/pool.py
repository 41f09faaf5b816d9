"""Client-side balancing, health checks and failover across several Triton endpoints.

A Kubernetes Service balances TCP connections, not gRPC calls, so a long-lived channel pins one pod.
The pool spreads calls itself: each call goes to the healthy endpoint with the fewest calls in flight;
an endpoint that fails with UNAVAILABLE is taken out until a background health check sees it ready.
Each endpoint URL may itself be a headless-Service name resolved to many pods (gRPC round_robin); every
channel is reopened every CHANNEL_REFRESH_S so that pods added by the autoscaler since get calls too.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Self

import numpy as np
import numpy.typing as npt

from orchestrator.triton.client import DetectionClient
from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import InferenceRejectedError, InferenceTimeoutError, TritonUnavailableError
from orchestrator.triton.labels import Labels
from orchestrator.triton.wire import WireFormat, encode_jpeg
from orchestrator.vision.frame_input import FrameError, validate_raw_frame
from orchestrator.vision.letterbox import Letterbox, letterbox

log = logging.getLogger(__name__)
HEALTH_INTERVAL_S: Final = 1.0
HEALTH_TIMEOUT_S: Final = 2.0
CHANNEL_REFRESH_S: Final = 300.0
"""gRPC resolves a name when a channel connects: a channel kept for hours never sees new Triton pods."""


@dataclass
class Endpoint:
    url: str
    client: DetectionClient
    reconnect: Callable[[], DetectionClient]
    """Opens a fresh channel to ``url`` (names are resolved again)."""
    opened: float = field(default_factory=time.monotonic)
    healthy: bool = True
    in_flight: int = 0
    failures: int = 0
    last_change: float = field(default_factory=time.monotonic)


class EndpointPool:
    """Use as ``async with EndpointPool.connect(urls) as pool``; the health-check task is owned here."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        wire: WireFormat = WireFormat.RAW,
        refresh_s: float | None = CHANNEL_REFRESH_S,
        retire_after_s: float = 30.0,
    ) -> None:
        """``retire_after_s``: how long a replaced channel stays open for the calls still on it (at least
        the request deadline)."""
        if not endpoints:
            raise ValueError("at least one Triton endpoint is needed")
        self._endpoints = list(endpoints)
        self._wire = wire
        self._refresh_s = refresh_s
        self._retire_after_s = retire_after_s
        self._retiring: set[asyncio.Task[None]] = set()
        self._health_task: asyncio.Task[None] | None = None
        self._turn = 0
        self._input_size: int | None = None
        self._labels: Labels | None = None
        self._any_healthy = asyncio.Event()
        self._any_healthy.set()

    @classmethod
    def connect(
        cls, urls: Sequence[str], model: str | None, timeout_s: float, wire: WireFormat = WireFormat.RAW
    ) -> Self:
        """``model`` None: the wire's own model (the detector for letterboxed frames, else the ensemble)."""
        model = model or wire.model

        def endpoint(url: str) -> Endpoint:
            def reconnect() -> DetectionClient:
                return DetectionClient.connect(url, model, timeout_s)

            return Endpoint(url, reconnect(), reconnect)

        return cls([endpoint(url) for url in urls], wire, retire_after_s=timeout_s + 1.0)

    @property
    def endpoints(self) -> list[Endpoint]:
        return list(self._endpoints)

    async def __aenter__(self) -> Self:
        """Check every endpoint and, when one is ready, read the model's class names from it: a labels file that
        does not name the model's classes fails here (LabelsError), before any frame is read."""
        await self.check_health()
        try:
            if any(e.healthy for e in self._endpoints):
                await self._ensure_labels()
        except BaseException:
            await self._close_clients()
            raise
        self._health_task = asyncio.create_task(self._health_loop(), name="triton-health")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await self._close_clients()

    async def _close_clients(self) -> None:
        for endpoint in self._endpoints:
            await endpoint.client.close()

    async def detect(
        self,
        image: npt.NDArray[np.uint8],
        timeout_s: float,
        queue_timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Detections, str]:
        """Detections for one frame and the URL that served it. Raises TritonUnavailableError when no
        endpoint is healthy or the chosen one fails to answer (the caller decides whether to retry);
        ``queue_timeout_s``: Triton drops the frame (InferenceExpiredError) if it waits in the queue longer;
        ``headers``: the request's gRPC metadata (the frame's trace context)."""
        if self._labels is None:
            await self._ensure_labels()
        boxed = await self._letterbox(image) if self._wire is WireFormat.LETTERBOX else None
        endpoint = self._pick()
        endpoint.in_flight += 1
        try:
            if boxed is not None:
                detections = await endpoint.client.detect_letterboxed(
                    *boxed, timeout_s, queue_timeout_s, headers=headers
                )
            elif self._wire is WireFormat.JPEG:
                data = await asyncio.to_thread(encode_jpeg, image)
                detections = await endpoint.client.detect_encoded(
                    data.tobytes(), timeout_s, queue_timeout_s, headers=headers
                )
            else:
                detections = await endpoint.client.detect_raw(image, timeout_s, queue_timeout_s, headers=headers)
        except InferenceTimeoutError:
            raise  # slow is not down: the health check decides
        except TritonUnavailableError:
            self._mark(endpoint, healthy=False)
            raise
        finally:
            endpoint.in_flight -= 1
        return detections, endpoint.url

    async def _letterbox(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], Letterbox]:
        """The frame letterboxed to the detector's size in a worker thread; a frame no detector could take is
        rejected here, as the server would."""
        if self._input_size is None:
            self._input_size = await self._pick().client.input_size()
        try:
            return await asyncio.to_thread(_letterbox_frame, image, self._input_size)
        except FrameError as exc:
            raise InferenceRejectedError(str(exc)) from exc

    @property
    def labels(self) -> Labels | None:
        """The model's class names once read (None until an endpoint was ready)."""
        return self._labels

    async def _ensure_labels(self) -> None:
        """Read the class names once, from one ready endpoint, and give them to every endpoint's client."""
        if self._labels is None:
            labels = await self._pick().client.load_labels()
            for endpoint in self._endpoints:
                endpoint.client.use_labels(labels)
            self._labels = labels

    async def wait_healthy(self, timeout_s: float) -> bool:
        """Wait until some endpoint is healthy; False on timeout."""
        try:
            await asyncio.wait_for(self._any_healthy.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def check_health(self) -> None:
        results = await asyncio.gather(*(self._probe(e) for e in self._endpoints))
        for endpoint, ready in zip(self._endpoints, results, strict=True):
            self._mark(endpoint, healthy=ready)

    def _pick(self) -> Endpoint:
        healthy = [e for e in self._endpoints if e.healthy]
        if not healthy:
            raise TritonUnavailableError(f"no healthy Triton endpoint among {[e.url for e in self._endpoints]}")
        self._turn += 1
        return min(healthy, key=lambda e: (e.in_flight, (self._endpoints.index(e) - self._turn) % len(self._endpoints)))

    def _mark(self, endpoint: Endpoint, healthy: bool) -> None:
        if endpoint.healthy != healthy:
            log.warning("Triton endpoint %s is now %s", endpoint.url, "healthy" if healthy else "unavailable")
            endpoint.healthy, endpoint.last_change = healthy, time.monotonic()
            endpoint.failures += 0 if healthy else 1
        if any(e.healthy for e in self._endpoints):
            self._any_healthy.set()
        else:
            self._any_healthy.clear()

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_INTERVAL_S)
            self.refresh_old_channels()
            await self.check_health()

    def refresh_old_channels(self) -> None:
        """Give every endpoint whose channel is older than ``refresh_s`` a new one; the old one is closed
        once the calls already on it have had ``retire_after_s`` to finish."""
        now = time.monotonic()
        for endpoint in self._endpoints:
            if self._refresh_s is not None and now - endpoint.opened >= self._refresh_s:
                old, endpoint.client, endpoint.opened = endpoint.client, endpoint.reconnect(), now
                if self._labels is not None:
                    endpoint.client.use_labels(self._labels)
                task = asyncio.create_task(self._retire(old), name=f"retire-{endpoint.url}")
                self._retiring.add(task)
                task.add_done_callback(self._retiring.discard)

    async def _retire(self, client: DetectionClient) -> None:
        try:
            await asyncio.sleep(self._retire_after_s)
        finally:
            await client.close()

    @staticmethod
    async def _probe(endpoint: Endpoint) -> bool:
        try:
            return await asyncio.wait_for(endpoint.client.is_ready(), HEALTH_TIMEOUT_S)
        except TimeoutError:
            return False


def _letterbox_frame(image: npt.NDArray[np.uint8], size: int) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    return letterbox(np.ascontiguousarray(validate_raw_frame(image)), size)
