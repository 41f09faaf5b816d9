"""All streams of a run side by side: each in its own task, sharing Triton's dynamic batcher."""

import asyncio
import concurrent.futures
import uuid
from collections.abc import Callable

from orchestrator.config.run_config import RunConfig
from orchestrator.pipeline.outage_retry import Detector
from orchestrator.pipeline.stream import EventOutput, StreamPipeline
from orchestrator.sources.capture import FrameReader, open_reader
from orchestrator.sources.spec import SourceSpec
from orchestrator.tracing.frame_trace import NO_TRACING, FrameTracer
from orchestrator.tracking.tracker import Tracker


class Pipeline:
    """``await run()`` until every stream has ended or failed; ``stop()`` ends them gracefully."""

    def __init__(
        self,
        config: RunConfig,
        detector: Detector,
        output: EventOutput,
        run_id: str | None = None,
        reader_factory: Callable[[SourceSpec], FrameReader] = open_reader,
        tracer: FrameTracer = NO_TRACING,
    ) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:12]
        window = asyncio.Semaphore(config.triton.max_in_flight)
        self.streams = [
            StreamPipeline(
                spec,
                config.flow_for(spec),
                detector,
                window,
                output,
                Tracker(config.tracker_for(spec)),
                self.run_id,
                config.triton.request_timeout_s,
                reader_factory,
                tracer,
                config.camera_for(spec),
            )
            for spec in config.streams
        ]

    async def run(self) -> None:
        # One thread per source: a stalled camera's blocking read never takes another stream's thread.
        executor = concurrent.futures.ThreadPoolExecutor(len(self.streams), thread_name_prefix="source")
        try:
            async with asyncio.TaskGroup() as tasks:
                for stream in self.streams:
                    tasks.create_task(stream.run(executor), name=f"stream-{stream.stream_id}")
        finally:
            self.stop()
            executor.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        for stream in self.streams:
            stream.stop()
