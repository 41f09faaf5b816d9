"""CPU use over an interval: this process, and the whole machine (which includes a local Triton server)."""

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_PROC_STAT: Final = Path("/proc/stat")
_IDLE_FIELDS: Final = (3, 4)
"""idle and iowait among the ``cpu`` line's counters."""


@dataclass(frozen=True)
class CpuSample:
    wall_s: float
    process_s: float
    """User + system CPU seconds of this process, all threads."""
    machine_busy_ticks: int | None
    machine_total_ticks: int | None


@dataclass(frozen=True)
class CpuUsage:
    process_pct: float
    """100 = one core fully used by this process."""
    machine_busy_pct: float | None
    """Busy share of all cores (0-100), every process included; None where /proc/stat is unavailable."""

    def to_dict(self) -> dict[str, float | None]:
        return {"process_pct": self.process_pct, "machine_busy_pct": self.machine_busy_pct}


def sample_cpu() -> CpuSample:
    busy, total = _machine_ticks()
    return CpuSample(time.perf_counter(), time.process_time(), busy, total)


def usage_between(start: CpuSample, end: CpuSample) -> CpuUsage:
    wall = max(end.wall_s - start.wall_s, 1e-9)
    return CpuUsage(100.0 * (end.process_s - start.process_s) / wall, _machine_pct(start, end))


def logical_cpus() -> int:
    return os.cpu_count() or 1


def _machine_pct(start: CpuSample, end: CpuSample) -> float | None:
    if None in (start.machine_busy_ticks, end.machine_busy_ticks, start.machine_total_ticks, end.machine_total_ticks):
        return None
    total = int(end.machine_total_ticks or 0) - int(start.machine_total_ticks or 0)
    busy = int(end.machine_busy_ticks or 0) - int(start.machine_busy_ticks or 0)
    return 100.0 * busy / total if total > 0 else None


def _machine_ticks() -> tuple[int | None, int | None]:
    try:
        fields = [int(v) for v in _PROC_STAT.read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None, None
    total = sum(fields[:8])  # guest time is already counted in user
    return total - sum(fields[i] for i in _IDLE_FIELDS), total
