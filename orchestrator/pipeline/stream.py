"""One camera stream: source thread -> frame buffer -> Triton (a window of frames in flight) ->
in-order release -> event builder (camera filter, tracker, pitch) -> events.

Every item taken from the buffer yields exactly one frame event, in frame order, whatever happens to it:
detections (then its zone events), a frame_error (rejected, failed, or unavailable through an outage), a counted
drop (the camera's fps cap, or stale in a live server queue), or a status change.
"""

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable
from typing import Final, Protocol

from orchestrator.config.camera import NO_CAMERA_SETTINGS, CameraSettings
from orchestrator.config.run_config import FlowSettings
from orchestrator.events.model import Event, FrameErrorCode, StreamState
from orchestrator.pipeline.event_builder import EventBuilder
from orchestrator.pipeline.fps_cap import FpsCap
from orchestrator.pipeline.outage_retry import Detector, RetryingDetector
from orchestrator.pipeline.reorder import Reorderer
from orchestrator.pipeline.results import Expired, Failed, Inferred, Result, failed
from orchestrator.sources.capture import FrameReader, open_reader
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropReason, FrameBuffer
from orchestrator.sources.items import BufferItem, StatusMarker, UndecodableFrame
from orchestrator.sources.source_thread import SourceThread
from orchestrator.sources.spec import SourceSpec
from orchestrator.tracing.frame_trace import NO_TRACING, UNTRACED, FrameTrace, FrameTracer
from orchestrator.tracking.tracker import Tracker
from orchestrator.triton.errors import (
    InferenceExpiredError,
    InferenceFailedError,
    InferenceRejectedError,
    TritonUnavailableError,
)

log = logging.getLogger(__name__)
MIN_QUEUE_TIMEOUT_S: Final = 0.001


class EventOutput(Protocol):
    def emit(self, event: Event, frame: Frame | None) -> None:
        """Hand an event on (to sinks, annotator, metrics); must not block the event loop."""

    def dropped(self, frame: Frame, reason: DropReason) -> None: ...

    def retried(self, stream_id: str) -> None: ...


class StreamPipeline:
    def __init__(
        self,
        spec: SourceSpec,
        flow: FlowSettings,
        detector: Detector,
        window: asyncio.Semaphore,
        output: EventOutput,
        tracker: Tracker,
        run_id: str,
        request_timeout_s: float,
        reader_factory: Callable[[SourceSpec], FrameReader] = open_reader,
        tracer: FrameTracer = NO_TRACING,
        camera: CameraSettings = NO_CAMERA_SETTINGS,
    ) -> None:
        self._spec = spec
        self._flow = flow
        self._detector = RetryingDetector(detector)
        self._window = window
        self._output = output
        self._events = EventBuilder(spec.stream_id, run_id, tracker, camera)
        self._fps_cap = FpsCap(camera.max_fps)
        self._run_id = run_id
        self._timeout_s = request_timeout_s
        self._reader_factory = reader_factory
        self._tracer = tracer
        self._traces: dict[int, FrameTrace] = {}
        """Frames sent to inference and not yet finished, by seq: at most the frames in flight."""
        self._reorder: Reorderer[Result] = Reorderer()
        self._source: SourceThread | None = None
        self._buffer: FrameBuffer | None = None

    @property
    def stream_id(self) -> str:
        return self._spec.stream_id

    @property
    def queue_depth(self) -> int:
        return 0 if self._buffer is None else self._buffer.depth

    @property
    def in_flight(self) -> int:
        """Items dispatched and not yet released in order."""
        return self._reorder.pending

    @property
    def frames_read(self) -> int:
        return 0 if self._source is None else self._source.frames_read

    def stop(self) -> None:
        """Stop reading; frames already read are still processed and emitted."""
        if self._source is not None:
            self._source.stop()

    async def run(self, executor: concurrent.futures.Executor) -> None:
        """Run until the source ends or fails and every frame read has been emitted. Never raises
        (but CancelledError): a broken stream must not stop the others."""
        loop = asyncio.get_running_loop()
        policy = self._flow.policy_for(self._spec)
        self._buffer = FrameBuffer(
            self._flow.buffer_for(self._spec), policy, self._flow.staleness_budget_s, self._output.dropped
        )
        self._source = SourceThread(
            self._spec,
            self._reader_factory,
            self._buffer.put,
            loop,
            paced=self._flow.paced(self._spec),
            reconnect=self._flow.reconnect,
            max_frames=self._flow.max_frames,
        )
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._read(loop, executor, self._source, self._buffer))
                await self._dispatch(self._buffer, tasks)
        except Exception as exc:  # one stream's failure is reported, never spread
            log.exception("stream %s failed", self.stream_id)
            self._emit_status(self._failure_marker(exc))
        finally:
            self._source.stop()

    async def _read(
        self,
        loop: asyncio.AbstractEventLoop,
        executor: concurrent.futures.Executor,
        source: SourceThread,
        buffer: FrameBuffer,
    ) -> None:
        try:
            await loop.run_in_executor(executor, source.run)
        finally:
            source.stop()
            await buffer.close()

    async def _dispatch(self, buffer: FrameBuffer, tasks: asyncio.TaskGroup) -> None:
        slots = asyncio.Semaphore(self._flow.in_flight_for(self._spec))
        while True:
            await slots.acquire()  # a free slot first, then the freshest frame: no frame ages waiting for a slot
            item = await buffer.get()
            if item is None:
                slots.release()
                return
            if isinstance(item, Frame) and not self._fps_cap.admits(item.source_ts_s):
                self._output.dropped(item, DropReason.FPS_CAP)
                slots.release()
                continue
            slot = self._reorder.reserve()
            tasks.create_task(self._process(item, slot, slots))

    async def _process(self, item: BufferItem, slot: int, slots: asyncio.Semaphore) -> None:
        try:
            result = await self._resolve(item)
        except Exception as exc:  # a bug fails this frame only, and it is still reported in order
            log.exception("stream %s: frame processing failed", self.stream_id)
            result = (
                failed(item, FrameErrorCode.FAILED, f"internal error: {exc!r}")
                if isinstance(item, Frame)
                else self._failure_marker(exc)
            )
        finally:
            slots.release()
        for ready in self._reorder.complete(slot, result):
            self._finish(ready)

    async def _resolve(self, item: BufferItem) -> Result:
        if isinstance(item, StatusMarker):
            return item
        if isinstance(item, UndecodableFrame):
            return Failed(
                item.stream_id,
                item.seq,
                item.source_ts_s,
                item.captured_at,
                None,
                None,
                FrameErrorCode.REJECTED,
                item.message,
            )
        return await self._infer(item)

    async def _infer(self, frame: Frame) -> Result:
        queue_ms = (time.monotonic() - frame.ready_mono) * 1e3
        trace = self._traces[frame.seq] = self._tracer.begin(frame, self._run_id)
        async with self._window:
            trace.infer_started()
            result = await self._attempt(frame, queue_ms, trace)
        _end_infer_span(trace, result)
        return result

    async def _attempt(self, frame: Frame, queue_ms: float, trace: FrameTrace) -> Inferred | Failed | Expired:
        """The frame's final outcome: retried through an outage within its budget (RetryingDetector)."""
        budget_s = self._flow.staleness_budget_s if self._flow.is_live(self._spec) else self._flow.outage_timeout_s
        started = time.perf_counter()

        def on_retry(reason: str) -> None:
            self._output.retried(self.stream_id)
            trace.retried(reason)

        try:
            detections, endpoint = await self._detector.detect(
                frame.image, self._timeout_s, budget_s, self._queue_timeout(frame), trace.headers(), on_retry
            )
        except InferenceExpiredError:
            return Expired(frame)
        except InferenceRejectedError as exc:
            return failed(frame, FrameErrorCode.REJECTED, str(exc))
        except InferenceFailedError as exc:
            return failed(frame, FrameErrorCode.FAILED, str(exc))
        except TritonUnavailableError as exc:
            return failed(frame, FrameErrorCode.UNAVAILABLE, str(exc))
        return Inferred(frame, detections, queue_ms, (time.perf_counter() - started) * 1e3, endpoint)

    def _queue_timeout(self, frame: Frame) -> float | None:
        """Live: what is left of the frame's staleness budget, so Triton drops it rather than compute it stale."""
        if not self._flow.is_live(self._spec):
            return None
        return max(self._flow.staleness_budget_s - (time.monotonic() - frame.ready_mono), MIN_QUEUE_TIMEOUT_S)

    def _finish(self, result: Result) -> None:
        now = time.time()
        trace = self._take_trace(result)
        if isinstance(result, StatusMarker):
            self._emit_status(result)
        elif isinstance(result, Expired):
            self._output.dropped(result.frame, DropReason.STALE)
            trace.finish("stale")
        elif isinstance(result, Failed):
            with trace.stage("deliver"):
                self._output.emit(self._events.frame_error(result, now), result.frame)
            trace.finish("frame_error", f"{result.code}: {result.message}")
        else:
            with trace.stage("track"):
                events = self._events.detections(result, now)
            with trace.stage("deliver"):
                for event in events:
                    self._output.emit(event, result.frame)
            trace.finish("detections")

    def _take_trace(self, result: Result) -> FrameTrace:
        if isinstance(result, StatusMarker):
            return UNTRACED
        seq = result.seq if isinstance(result, Failed) else result.frame.seq
        return self._traces.pop(seq, UNTRACED)

    def _failure_marker(self, exc: BaseException) -> StatusMarker:
        frames_read = 0 if self._source is None else self._source.frames_read
        return StatusMarker(StreamState.FAILED, f"internal error: {exc!r}", frames_read)

    def _emit_status(self, marker: StatusMarker) -> None:
        self._output.emit(self._events.status(marker), None)


def _end_infer_span(trace: FrameTrace, result: Inferred | Failed | Expired) -> None:
    if isinstance(result, Inferred):
        trace.infer_ended({"pitchside.triton.endpoint": result.endpoint, "pitchside.model": result.detections.model})
    elif isinstance(result, Failed):
        trace.infer_ended({}, f"{result.code}: {result.message}")
    else:
        trace.infer_ended({"pitchside.outcome": "stale"})
