"""Where a benchmark's results go (JSON report, perf_analyzer CSV, --input-data JSON, plots), checked before
the run starts so that a long run never ends on a path that cannot be written."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.bench.input_data import write_input_data
from orchestrator.bench.model_bench import ModelBenchResult
from orchestrator.bench.perf_csv import output_paths, write_csv
from orchestrator.bench.plots import require_matplotlib, write_plots

Json = dict[str, Any]


@dataclass(frozen=True)
class Outputs:
    json: Path | None = None
    csv: Path | None = None
    input_data: Path | None = None
    plot_dir: Path | None = None

    def check(self) -> None:
        """ValueError naming the option whose file cannot be written; PlotsUnavailableError without matplotlib."""
        for flag, path in (("--json", self.json), ("-f/--csv", self.csv), ("--export-input-data", self.input_data)):
            if path is None:
                continue
            if path.is_dir():
                raise ValueError(f"{flag} {path} is a directory: give a file name, e.g. {path / 'out'}")
            if not path.absolute().parent.is_dir():
                raise ValueError(f"{flag} {path}: directory {path.absolute().parent} does not exist; create it first")
        if self.plot_dir is not None:
            if self.plot_dir.exists() and not self.plot_dir.is_dir():
                raise ValueError(f"--plot-dir {self.plot_dir} is a file: give a directory")
            require_matplotlib()

    def write(self, report: Json, result: ModelBenchResult | None) -> list[Path]:
        """Write every requested output; the paths written, in order."""
        written: list[Path] = []
        if self.json is not None:
            self.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            written.append(self.json)
        if "model" in report:
            written += self._per_run(report["model"], result)
        if self.plot_dir is not None:
            written += write_plots(report, self.plot_dir)
        return written

    def _per_run(self, section: Json, result: ModelBenchResult | None) -> list[Path]:
        wires = [run["wire_format"] for run in section["runs"]]
        written: list[Path] = []
        if self.csv is not None:
            for path, run in zip(output_paths(self.csv, wires), section["runs"], strict=True):
                write_csv(path, section, run)
                written.append(path)
        if self.input_data is not None and result is not None:
            for path, wire_run in zip(output_paths(self.input_data, wires), result.runs, strict=True):
                write_input_data(path, wire_run.payloads)
                written.append(path)
        return written
