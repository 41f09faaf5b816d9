"""What one load level measured: through Triton, and directly."""

from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.bench.cpu import CpuUsage
from orchestrator.bench.server_stats import ModelCounters
from orchestrator.bench.stages import Stage
from orchestrator.bench.windows import Window


@dataclass(frozen=True)
class WindowsOutcome:
    """The windows a level measured; ``reported`` merges the last ``stable_windows`` of them."""

    reported: Window
    measured: int
    stable: bool
    cpu: CpuUsage
    """Over the reported windows."""
    windows: tuple[Window, ...] = ()
    """The reported windows one by one: their spread is the run-to-run noise ``bench compare`` weighs."""


@dataclass(frozen=True)
class ServerLevel:
    level: float
    """Concurrency or request rate."""
    outcome: WindowsOutcome
    server: Mapping[str, ModelCounters]
    """Triton's counters over the reported windows (snapshots taken while the load ran)."""
    totals: Mapping[str, ModelCounters]
    """Triton's counters over the whole level, warm-up included, taken idle before and after: exact."""
    sent: int
    completed: int
    failed: int
    skipped: int
    first_error: str | None


@dataclass(frozen=True)
class DirectLevel:
    batch_size: int
    outcome: WindowsOutcome
    stage_ms_per_batch: Mapping[Stage, float]
    """Mean time of each stage per batch over the reported windows."""
