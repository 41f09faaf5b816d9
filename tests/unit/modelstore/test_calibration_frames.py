"""The frames polygraphy calibrates and compares on: letterboxed as the orchestrator sends them, batched whole,
and loadable by the loader script alone (polygraphy's Python 3.10, without pitchside)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from orchestrator.modelstore import frames_loader
from orchestrator.modelstore.calibration_frames import LOADER_FILE, LetterboxedFrames, write_frames
from orchestrator.modelstore.golden import GoldenFrame
from orchestrator.vision.letterbox import letterbox


def _frames(count: int) -> list[GoldenFrame]:
    rng = np.random.default_rng(7)
    return [GoldenFrame(f"f{i}", rng.integers(0, 255, (90 + i, 160, 3), dtype=np.uint8)) for i in range(count)]


def test_frames_are_letterboxed_exactly_as_the_orchestrator_sends_them() -> None:
    frames = _frames(3)
    boxed = LetterboxedFrames.of(frames, 64)
    assert boxed.images.shape == (3, 64, 64, 3) and boxed.images.dtype == np.uint8
    assert boxed.letterboxes.shape == (3, 5) and boxed.letterboxes.dtype == np.float32
    image, plan = letterbox(frames[2].image, 64)
    np.testing.assert_array_equal(boxed.images[2], image)
    np.testing.assert_array_equal(boxed.letterboxes[2], plan.as_array())
    assert set(boxed.feeds()) == {"images", "LETTERBOX"}


def test_no_frames_is_refused() -> None:
    with pytest.raises(ValueError, match="no frames"):
        LetterboxedFrames.of([], 64)


@pytest.mark.parametrize(
    ("count", "batch", "expected"),
    [(4, 2, [[0, 1], [2, 3]]), (5, 2, [[0, 1], [2, 3], [4, 0]]), (2, 5, [[0, 1, 0, 1, 0]]), (3, 1, [[0], [1], [2]])],
)
def test_every_frame_is_fed_once_in_order_in_full_batches(count: int, batch: int, expected) -> None:
    assert frames_loader.batch_indices(count, batch) == expected


@pytest.mark.parametrize(("count", "batch"), [(0, 4), (3, 0)])
def test_an_empty_set_or_batch_is_refused(count: int, batch: int) -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        frames_loader.batch_indices(count, batch)


def test_the_written_loader_feeds_the_frames_in_batches(tmp_path: Path) -> None:
    boxed = LetterboxedFrames.of(_frames(5), 32)
    loader = write_frames(boxed, tmp_path / "calibration", batch=2)
    assert loader == tmp_path / "calibration" / LOADER_FILE
    feeds = list(frames_loader.load_data(loader.with_name(frames_loader.FRAMES_FILE)))
    assert len(feeds) == 3 and all(f["images"].shape == (2, 32, 32, 3) for f in feeds)
    np.testing.assert_array_equal(feeds[2]["images"], boxed.images[[4, 0]])
    np.testing.assert_array_equal(feeds[1]["LETTERBOX"], boxed.letterboxes[[2, 3]])


def test_write_refuses_a_batch_below_one_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_frames(LetterboxedFrames.of(_frames(1), 32), tmp_path / "c", batch=0)
    assert not (tmp_path / "c").exists()


def test_the_copied_script_runs_on_its_own_as_polygraphy_would_load_it(tmp_path: Path) -> None:
    """polygraphy imports the script from its path and calls load_data(): no pitchside on sys.path (-I, another
    working directory), the frames found beside the script."""
    loader = write_frames(LetterboxedFrames.of(_frames(3), 32), tmp_path / "c", batch=2)
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('loader', {str(loader)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "assert 'orchestrator' not in sys.modules\n"
        "print(json.dumps([{k: list(v.shape) for k, v in feed.items()} for feed in module.load_data()]))\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"images": [2, 32, 32, 3], "LETTERBOX": [2, 5]}] * 2


def test_the_loader_is_python_3_10_and_imports_only_numpy_and_the_standard_library() -> None:
    source = Path(frames_loader.__file__).read_text()
    tree = ast.parse(source, feature_version=(3, 10))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"numpy", "pathlib", "typing", "collections"} | set(sys.stdlib_module_names)
    assert "numpy" in imported and "orchestrator" not in imported
