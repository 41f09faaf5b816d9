"""EndpointPool with scripted clients: balancing, failover, health recovery, channel refresh."""

import asyncio

import numpy as np
import pytest

from orchestrator.triton.detections import Detections
from orchestrator.triton.errors import (
    InferenceExpiredError,
    InferenceRejectedError,
    InferenceTimeoutError,
    TritonUnavailableError,
)
from orchestrator.triton.labels import Labels, LabelsError
from orchestrator.triton.pool import Endpoint, EndpointPool
from orchestrator.triton.wire import WireFormat
from orchestrator.vision.letterbox import Letterbox

FRAME = np.zeros((4, 4, 3), np.uint8)
LABELS = Labels(("ball", "player", "referee"))


class ScriptedClient:
    def __init__(self, name: str, ready: bool = True) -> None:
        self.name, self.ready, self.closed, self.calls = name, ready, False, 0
        self.fail_with: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.queue_timeouts: list[float | None] = []
        self.headers: list[dict[str, str] | None] = []
        self.letterboxed: list[tuple[tuple[int, ...], Letterbox]] = []
        self.size_asked = 0
        self.labels_asked = 0
        self.labels: Labels | None = None
        self.labels_fail_with: Exception | None = None

    async def load_labels(self) -> Labels:
        self.labels_asked += 1
        if self.labels_fail_with is not None:
            raise self.labels_fail_with
        self.labels = LABELS
        return LABELS

    def use_labels(self, labels: Labels) -> None:
        self.labels = labels

    async def input_size(self) -> int:
        self.size_asked += 1
        return 32

    async def detect_letterboxed(self, boxed, plan, timeout_s=None, queue_timeout_s=None, *, headers=None):
        self.letterboxed.append((boxed.shape, plan))
        return await self.detect_raw(boxed, timeout_s, queue_timeout_s, headers=headers)

    async def detect_raw(self, frame, timeout_s=None, queue_timeout_s=None, *, headers=None) -> Detections:
        self.calls += 1
        self.queue_timeouts.append(queue_timeout_s)
        self.headers.append(headers)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return Detections.from_rows(np.array([[0, 0, 1, 1, 0.9, 0]], np.float32))

    async def is_ready(self) -> bool:
        return self.ready

    async def close(self) -> None:
        self.closed = True


def endpoint(client: ScriptedClient, reconnect=None) -> Endpoint:
    return Endpoint(client.name, client, reconnect or (lambda: client))  # type: ignore[arg-type]


async def test_calls_go_to_the_endpoint_with_fewest_in_flight() -> None:
    a, b = ScriptedClient("a"), ScriptedClient("b")
    a.gate, b.gate = asyncio.Event(), asyncio.Event()
    async with EndpointPool([endpoint(a), endpoint(b)], refresh_s=None) as pool:
        first = asyncio.create_task(pool.detect(FRAME, 1.0))
        await asyncio.sleep(0)
        second = asyncio.create_task(pool.detect(FRAME, 1.0))
        await asyncio.sleep(0)
        assert [e.in_flight for e in pool.endpoints] == [1, 1], "the second call avoids the busy endpoint"
        released = a
        a.gate.set()
        await asyncio.wait_for(asyncio.wait([first, second], return_when=asyncio.FIRST_COMPLETED), 1.0)
        third = await asyncio.wait_for(pool.detect(FRAME, 1.0), 1.0)
        assert third[1] == released.name, "the endpoint that became idle takes the next call"
        a.gate.set()
        b.gate.set()
        assert {(await first)[1], (await second)[1]} == {"a", "b"}


async def test_an_unavailable_endpoint_is_skipped_until_healthy_again() -> None:
    a, b = ScriptedClient("a"), ScriptedClient("b")
    a.fail_with = TritonUnavailableError("connection refused")
    async with EndpointPool([endpoint(a), endpoint(b)], refresh_s=None) as pool:
        with pytest.raises(TritonUnavailableError):
            while True:  # round robin reaches a, which fails and is marked unhealthy
                await pool.detect(FRAME, 1.0)
        assert [e.healthy for e in pool.endpoints] == [False, True]
        assert {(await pool.detect(FRAME, 1.0))[1] for _ in range(4)} == {"b"}
        a.fail_with, a.ready = None, True
        await pool.check_health()
        assert [e.healthy for e in pool.endpoints] == [True, True]


async def test_a_timeout_does_not_take_an_endpoint_out() -> None:
    a = ScriptedClient("a")
    a.fail_with = InferenceTimeoutError("deadline exceeded")
    async with EndpointPool([endpoint(a)], refresh_s=None) as pool:
        with pytest.raises(InferenceTimeoutError):
            await pool.detect(FRAME, 1.0)
        assert pool.endpoints[0].healthy


async def test_no_healthy_endpoint_is_unavailable() -> None:
    a = ScriptedClient("a", ready=False)
    async with EndpointPool([endpoint(a)], refresh_s=None) as pool:
        assert not await pool.wait_healthy(0.05)
        with pytest.raises(TritonUnavailableError, match="no healthy Triton endpoint"):
            await pool.detect(FRAME, 1.0)


async def test_labels_are_read_once_at_start_and_given_to_every_client() -> None:
    a, b = ScriptedClient("a"), ScriptedClient("b")
    async with EndpointPool([endpoint(a), endpoint(b)], refresh_s=None) as pool:
        assert pool.labels is LABELS
        await pool.detect(FRAME, 1.0)
    assert a.labels_asked + b.labels_asked == 1
    assert a.labels is LABELS and b.labels is LABELS


async def test_labels_that_do_not_name_the_classes_fail_the_start_and_close_the_clients() -> None:
    a = ScriptedClient("a")
    a.labels_fail_with = LabelsError("detector: the labels file does not name its 3 classes")
    with pytest.raises(LabelsError, match="does not name its 3 classes"):
        async with EndpointPool([endpoint(a)], refresh_s=None):
            pass
    assert a.closed


async def test_labels_are_read_on_the_first_frame_when_no_endpoint_was_ready_at_start() -> None:
    a = ScriptedClient("a", ready=False)
    async with EndpointPool([endpoint(a)], refresh_s=None) as pool:
        assert pool.labels is None and a.labels_asked == 0
        a.ready = True
        await pool.check_health()
        await pool.detect(FRAME, 1.0)
        assert pool.labels is LABELS and a.labels_asked == 1


async def test_old_channels_are_replaced_and_closed_after_their_calls_had_time() -> None:
    first, second = ScriptedClient("a"), ScriptedClient("a")
    fresh = iter([second])
    pool = EndpointPool([endpoint(first, lambda: next(fresh))], refresh_s=0.0, retire_after_s=0.05)
    async with pool:
        pool.refresh_old_channels()
        assert pool.endpoints[0].client is second and not first.closed
        assert second.labels is LABELS, "a fresh channel's client gets the labels read at start"
        for _ in range(100):
            if first.closed:
                break
            await asyncio.sleep(0.01)
        assert first.closed and not second.closed
        assert (await pool.detect(FRAME, 1.0))[1] == "a" and second.calls == 1
    assert second.closed


async def test_letterbox_wire_sends_the_frame_letterboxed_to_the_detectors_size() -> None:
    client = ScriptedClient("a")
    frame = np.zeros((48, 64, 3), np.uint8)
    async with EndpointPool([endpoint(client)], WireFormat.LETTERBOX, refresh_s=None) as pool:
        await pool.detect(frame, 1.0, 0.25)
        await pool.detect(frame, 1.0)
    assert client.size_asked == 1  # read from the server once
    (shape, plan), _ = client.letterboxed
    assert shape == (32, 32, 3)
    assert (plan.scale, plan.pad_x, plan.pad_y, plan.source_width, plan.source_height) == (0.5, 0, 4, 64, 48)
    assert client.queue_timeouts == [0.25, None]


async def test_letterbox_wire_rejects_a_frame_no_detector_can_take_without_a_call() -> None:
    client = ScriptedClient("a")
    async with EndpointPool([endpoint(client)], WireFormat.LETTERBOX, refresh_s=None) as pool:
        with pytest.raises(InferenceRejectedError, match="empty"):
            await pool.detect(np.zeros((0, 10, 3), np.uint8), 1.0)
    assert client.calls == 0


async def test_a_frame_expired_in_tritons_queue_leaves_the_endpoint_healthy() -> None:
    client = ScriptedClient("a")
    client.fail_with = InferenceExpiredError("StatusCode.UNAVAILABLE: Request timeout expired")
    async with EndpointPool([endpoint(client)], refresh_s=None) as pool:
        with pytest.raises(InferenceExpiredError):
            await pool.detect(FRAME, 1.0, 0.01)
        assert pool.endpoints[0].healthy


@pytest.mark.parametrize("wire", [WireFormat.RAW, WireFormat.LETTERBOX])
async def test_the_frames_trace_context_reaches_the_client_as_request_metadata(wire: WireFormat) -> None:
    client = ScriptedClient("a")
    traceparent = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    async with EndpointPool([endpoint(client)], wire=wire, refresh_s=None) as pool:
        await pool.detect(FRAME, 1.0, headers=traceparent)
        await pool.detect(FRAME, 1.0)
    assert client.headers == [traceparent, None]
