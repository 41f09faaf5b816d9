"""Settings that could not be set before the file was typed end to end: each one set in TOML and seen in what
the run does (a Pipeline on a fake detector and scripted readers; no Triton)."""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.config.run_config import RunConfig, load_toml
from orchestrator.events.model import DetectionEvent, Event, StatusEvent, StreamState
from orchestrator.pipeline.annotated_video import AnnotatedVideoWriter
from orchestrator.pipeline.runner import Pipeline
from orchestrator.pipeline.session import _annotators
from orchestrator.sinks.settings import RetryPolicy
from orchestrator.sources.capture import FrameReader, SourceError
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropReason
from orchestrator.sources.spec import SourceSpec
from orchestrator.triton.client import DEFAULT_REQUEST_TIMEOUT_S
from orchestrator.triton.detections import Detections

BOX = np.array([[10, 10, 50, 50, 0.9, 0]], np.float32)
PRESENT, ABSENT = 200, 0
"""Frame pixel values: the fake detector sees a person in a PRESENT frame and nothing in an ABSENT one."""
RUN_TIMEOUT_S = 20.0
"""A setting that failed to arrive (a reconnect policy retrying forever) fails the test rather than hanging it."""


class ScriptedReader:
    def __init__(self, values: list[int], fps: float = 200.0) -> None:
        self._values = list(values)
        self.fps = fps

    def read(self) -> npt.NDArray[np.uint8] | None:
        return np.full((64, 64, 3), self._values.pop(0), np.uint8) if self._values else None

    def close(self) -> None:
        pass


class FakeDetector:
    """A person wherever the frame is PRESENT; records each call's deadline and queue timeout per stream."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float | None]] = []

    async def detect(
        self,
        image: npt.NDArray[np.uint8],
        timeout_s: float,
        queue_timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Detections, str]:
        self.calls.append((timeout_s, queue_timeout_s))
        rows = BOX if image[0, 0, 0] == PRESENT else np.zeros((0, 6), np.float32)
        return Detections.from_rows(rows), "fake:8001"


class Collected:
    def __init__(self) -> None:
        self.events: list[tuple[Event, Frame | None]] = []

    def emit(self, event: Event, frame: Frame | None) -> None:
        self.events.append((event, frame))

    def dropped(self, frame: Frame, reason: DropReason) -> None:
        pass

    def retried(self, stream_id: str) -> None:
        pass

    def of(self, stream_id: str, kind: type) -> list:
        return [e for e, _ in self.events if isinstance(e, kind) and _stream_of(e) == stream_id]

    def track_ids(self, stream_id: str) -> list[int]:
        return [d.track_id for e in self.of(stream_id, DetectionEvent) for d in e.detections]


def _stream_of(event: Event) -> str:
    return event.frame.stream_id if isinstance(event, DetectionEvent) else str(getattr(event, "stream_id", ""))


def config_file(tmp_path: Path, text: str) -> RunConfig:
    path = tmp_path / "pitchside.toml"
    path.write_text(text)
    return load_toml(path).validated()


async def run_pipeline(
    config: RunConfig, readers: Callable[[SourceSpec], FrameReader], detector: FakeDetector | None = None
) -> Collected:
    output = Collected()
    pipeline = Pipeline(config, detector or FakeDetector(), output, reader_factory=readers)
    await asyncio.wait_for(pipeline.run(), RUN_TIMEOUT_S)
    return output


def scripted(values: list[int]) -> Callable[[SourceSpec], FrameReader]:
    return lambda spec: ScriptedReader(values)


async def test_tracker_settings_reach_each_streams_tracker(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        """
mode = "offline"
[tracker]
max_age_frames = 0          # a track unseen for one frame is gone: the person comes back with a new id
[[streams]]
id = "forgetful"
source = "a.mp4"
[[streams]]
id = "patient"
source = "b.mp4"
[streams.tracker]
max_age_frames = 30         # this stream keeps the track through the gap
""",
    )
    output = await run_pipeline(config, scripted([PRESENT, ABSENT, ABSENT, PRESENT]))
    forgetful, patient = output.track_ids("forgetful"), output.track_ids("patient")
    assert len(forgetful) == len(patient) == 2
    assert forgetful[0] != forgetful[1], "max_age_frames = 0 from [tracker]"
    assert patient[0] == patient[1], "max_age_frames = 30 from [streams.tracker]"


async def test_a_per_stream_staleness_budget_and_the_request_timeout_reach_each_call(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        """
[triton]
request_timeout_s = 2.5
[[streams]]
id = "tight"
source = "a.mp4"
staleness_budget_s = 0.05
max_frames = 3
""",
    )
    detector = FakeDetector()
    await run_pipeline(config, scripted([PRESENT] * 3), detector)
    assert detector.calls and all(timeout == 2.5 for timeout, _ in detector.calls)
    assert all(queue is not None and queue <= 0.05 for _, queue in detector.calls), detector.calls
    default = config_file(tmp_path, '[[streams]]\nid = "loose"\nsource = "a.mp4"\n')
    loose = FakeDetector()
    await run_pipeline(default, scripted([PRESENT] * 3), loose)
    assert all(queue is not None and 0.05 < queue <= 0.5 for _, queue in loose.calls), loose.calls
    assert all(timeout == DEFAULT_REQUEST_TIMEOUT_S for timeout, _ in loose.calls)


async def test_the_reconnect_policy_reaches_the_source_thread(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        """
[reconnect]
initial_s = 0.01
max_s = 0.02
max_attempts = 3
[[streams]]
id = "dead"
source = "rtsp://dead.local/s"
[[streams]]
id = "dead-sooner"
source = "rtsp://dead.local/t"
[streams.reconnect]
max_attempts = 1
""",
    )

    def refuse(spec: SourceSpec) -> FrameReader:
        raise SourceError("connection refused")

    output = await run_pipeline(config, refuse)
    states = {sid: [e.state for e in output.of(sid, StatusEvent)] for sid in ("dead", "dead-sooner")}
    assert states["dead"] == [StreamState.RECONNECTING] * 3 + [StreamState.FAILED]
    assert states["dead-sooner"] == [StreamState.RECONNECTING, StreamState.FAILED]


async def test_annotate_in_the_file_reaches_the_session(tmp_path: Path) -> None:
    config = config_file(tmp_path, 'annotate = "videos"\nmode = "offline"\n[[streams]]\nsource = "a.mp4"\n')
    assert config.annotate == tmp_path / "videos", "relative to the config file"
    output = await run_pipeline(config, scripted([PRESENT] * 4))
    async with _annotators(config) as writers:
        writer = writers["a"]
        assert isinstance(writer, AnnotatedVideoWriter)
        for event, frame in output.events:
            if isinstance(event, DetectionEvent) and frame is not None:
                writer.submit(event, frame)
    assert (tmp_path / "videos" / "a.webm").stat().st_size > 0


def test_delivery_settings_reach_the_sinks_settings(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        """
[[streams]]
source = "a.mp4"
[delivery]
buffer_records = 100
flush_timeout_s = 0.5
durability = "write_ahead"
[delivery.retry]
base_s = 0.2
max_s = 1.0
""",
    )
    delivery = config.delivery
    assert delivery.retry == RetryPolicy(base_s=0.2, max_s=1.0) and delivery.retry.ceiling(10) == 1.0
    assert (delivery.buffer_records, delivery.flush_timeout_s, str(delivery.durability)) == (100, 0.5, "write_ahead")
    assert delivery.journal_dir == tmp_path / "out" / "journal"


def test_one_request_timeout_default_everywhere() -> None:
    from orchestrator.bench.settings import ModelBenchConfig
    from orchestrator.config.run_config import TritonSettings
    from orchestrator.triton.client import DetectionClient

    assert TritonSettings().request_timeout_s == DEFAULT_REQUEST_TIMEOUT_S
    bench_default = {f.name: f.default for f in fields(ModelBenchConfig)}["request_timeout_s"]
    assert bench_default == DEFAULT_REQUEST_TIMEOUT_S
    assert DetectionClient.connect.__defaults__ is not None
    assert DEFAULT_REQUEST_TIMEOUT_S in DetectionClient.connect.__defaults__
