"""The benchmark's configuration: one frozen object built by the CLI and passed down."""

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.triton.client import DEFAULT_REQUEST_TIMEOUT_S
from orchestrator.triton.wire import WireFormat

DEFAULT_FOOTAGE: Final = MEDIA_DIR / "vtest.avi"
DEFAULT_FRAMES: Final = 32
"""Distinct frames cycled through: about 3 s of the bundled footage (42 MB raw), no frame sent twice in a row."""
DEFAULT_CONCURRENCY: Final = (1, 2, 4, 8)
"""Up to the ensemble's max_batch_size, where the dynamic batcher can form its largest batch."""
QUICK_CONCURRENCY: Final = (1, 2)
DEFAULT_MAX_INFLIGHT: Final = 64
BENCH_RELEASES_SERVER_MEMORY: Final = False
"""An embedded server for a benchmark runs with glibc's malloc defaults, as the production image does; the
memory-returning settings of ``pitchside run``/``serve`` cost about a third of the stand-in ceiling
(docs/PERFORMANCE.md)."""
"""Request-rate mode: requests beyond this many outstanding are skipped and counted, never queued."""


class LoadMode(StrEnum):
    CONCURRENCY = "concurrency"
    """A fixed number of requests always outstanding (closed loop), like perf_analyzer's default."""
    REQUEST_RATE = "request_rate"
    """Requests sent on a schedule whatever the latency (open loop), like a live feed."""


class Arrival(StrEnum):
    CONSTANT = "constant"
    POISSON = "poisson"


@dataclass(frozen=True)
class WindowSettings:
    """perf_analyzer's measurement rules: warm up, then fixed windows until the last few agree."""

    warmup_s: float = 2.0
    window_s: float = 3.0
    max_windows: int = 6
    stable_windows: int = 3
    """How many consecutive windows must agree; the report merges exactly these."""
    stability_pct: float = 10.0
    """perf_analyzer's rule: over those windows, max / min of the throughput, and max / min of the latency
    metric, each at most 1 + stability_pct / 100."""
    percentile: int | None = None
    """The latency metric of the stability rule: this percentile, or the mean when None (perf_analyzer's
    ``--percentile``, default average)."""

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.warmup_s < 0:
            raise ValueError("the measurement interval must be positive and the warm-up not negative")
        if not 1 <= self.stable_windows <= self.max_windows:
            raise ValueError(
                f"need 1 <= stable_windows <= max_windows, got stable_windows {self.stable_windows} and "
                f"max_windows {self.max_windows}: raise --max-windows or lower --stable-windows"
            )
        if self.stability_pct <= 0:
            raise ValueError("--stability-percentage must be positive, e.g. 10")
        if self.percentile is not None and not 1 <= self.percentile <= 99:
            raise ValueError(f"--percentile must be a whole number from 1 to 99, got {self.percentile}")

    @property
    def latency_metric(self) -> str:
        """``mean`` or ``p<N>``: the latency the stability rule compares across windows."""
        return "mean" if self.percentile is None else f"p{self.percentile}"


QUICK_WINDOWS: Final = WindowSettings(warmup_s=0.3, window_s=1.0, max_windows=1, stable_windows=1)
"""For CI: one short window per level; the figures are not meant to be read, only the plumbing checked."""


@dataclass(frozen=True)
class LoadSettings:
    mode: LoadMode
    levels: tuple[float, ...]
    """Concurrency levels (whole numbers) or request rates in requests per second."""
    arrival: Arrival = Arrival.CONSTANT
    max_inflight: int = DEFAULT_MAX_INFLIGHT

    def __post_init__(self) -> None:
        if not self.levels or any(level <= 0 for level in self.levels):
            raise ValueError("levels must be a non-empty list of positive numbers")
        if self.mode is LoadMode.CONCURRENCY and any(level != int(level) for level in self.levels):
            raise ValueError("concurrency levels must be whole numbers")


@dataclass(frozen=True)
class ModelBenchConfig:
    """Everything one ``pitchside bench model`` run needs."""

    load: LoadSettings
    windows: WindowSettings = field(default_factory=WindowSettings)
    model: str | None = None
    """None: the wire formats' own model (the detector for letterboxed frames, the ensemble otherwise)."""
    wire_formats: tuple[WireFormat, ...] = (WireFormat.LETTERBOX,)
    triton_url: str | None = None
    """None starts an embedded server on ``model_repository``."""
    model_repository: Path = DEFAULT_MODEL_REPOSITORY
    footage: Path = DEFAULT_FOOTAGE
    frames: int = DEFAULT_FRAMES
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    direct: bool = True
    """Measure the direct baseline next to every level."""
    frame_size: tuple[int, int] | None = None
    """(width, height) the footage is resized to; None keeps its own."""
    standin_detector: bool = False
    """Serve a zero-cost stand-in that replays the real detector's recorded outputs (embedded server only)."""

    def __post_init__(self) -> None:
        if self.standin_detector and self.triton_url:
            raise ValueError(
                "--standin-detector renders its own repository and needs the embedded server: leave out -u/--triton-url"
            )
        if self.model is None and len({wire.model for wire in self.wire_formats}) > 1:
            raise ValueError("letterbox frames go to the detector, raw and JPEG to the ensemble: bench them apart")

    @property
    def target_model(self) -> str:
        """The model named, or the one the wire formats talk to."""
        return self.model or self.wire_formats[0].model
