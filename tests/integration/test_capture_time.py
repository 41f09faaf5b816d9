"""Capture time from real media: files and HLS streams encoded by a real ffmpeg, read by the real source readers
and source thread (no Triton needed). Each frame shows a square whose position tells which moment of the scene it
is (tests/scene_clips.py), so a frame's timestamps are checked against what it shows.

- a file's ``source_ts`` is its container's presentation time, gaps of a variable frame rate and a late start
  included (frame index / fps would be off by seconds);
- two cameras of one scene, the second starting 1.5 s later at another frame rate, line up by ``source_ts``
  when their containers share a clock, and by ``source_time`` when their HLS playlists state one
  (EXT-X-PROGRAM-DATE-TIME): every frame meets the other camera's frame of the same moment within one period.
"""

import asyncio
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest

from orchestrator.sources.capture import open_reader
from orchestrator.sources.frame import Frame
from orchestrator.sources.frame_buffer import DropPolicy, FrameBuffer
from orchestrator.sources.items import StatusMarker
from orchestrator.sources.source_thread import ReconnectPolicy, SourceThread
from orchestrator.sources.spec import parse_source
from tests.live_stream import serve_directory
from tests.scene_clips import ffmpeg, film, scene_time

pytestmark = pytest.mark.timeout(180)
PIXEL_S = 0.005
"""How exactly a frame's square tells the scene's time (half a pixel)."""
REPLAY_TOLERANCE_S = 0.05
"""How far a replayed frame's capture time may be off its scene time: the part of its decode (under a
millisecond for these 800 x 64 frames) and scheduling on a busy machine."""
NO_RETRY = ReconnectPolicy(initial_s=0.01, max_s=0.01, max_attempts=1)
PATIENT = ReconnectPolicy(initial_s=0.2, max_s=0.2, max_attempts=5)
"""For a stream whose server may not listen yet, and which then ends (a live stream's end is a stall)."""
SHARED_CLOCK = datetime(2026, 6, 1, 15, 0, 0, tzinfo=UTC)
"""When camera A's HLS encoder says its first frame was captured."""
PLAYLIST = "index.m3u8"


async def read_source(
    uri: str, reconnect: ReconnectPolicy = NO_RETRY, *, paced: bool = False
) -> tuple[list[Frame], list[StatusMarker]]:
    """Every frame of ``uri`` through the real reader and source thread (``paced``: a recording replayed live),
    and its status markers."""
    loop = asyncio.get_running_loop()
    buffer = FrameBuffer(4, DropPolicy.BLOCK, None, lambda frame, reason: None)
    source = SourceThread(parse_source(uri, "cam"), open_reader, buffer.put, loop, paced=paced, reconnect=reconnect)

    async def run_then_close() -> None:
        await loop.run_in_executor(None, source.run)
        await buffer.close()

    closing = asyncio.create_task(run_then_close())
    items = []
    while (item := await buffer.get()) is not None:
        items.append(item)
    await closing
    return [i for i in items if isinstance(i, Frame)], [i for i in items if isinstance(i, StatusMarker)]


def offsets(frames: list[Frame], timestamp: str, zero: float = 0.0) -> list[float]:
    """Each frame's ``timestamp`` (less ``zero``) minus the moment of the scene it shows."""
    return [getattr(f, timestamp) - zero - scene_time(f.image) for f in frames]


def nearest(frames: list[Frame], timestamp: str, value: float) -> Frame:
    return min(frames, key=lambda f: abs(getattr(f, timestamp) - value))


def assert_lined_up(a: list[Frame], b: list[Frame], timestamp: str, period_s: float) -> None:
    """Every frame of ``b`` inside ``a``'s span meets the frame of ``a`` nearest on ``timestamp`` showing the same
    moment within one frame period of ``a``."""
    first, last = getattr(a[0], timestamp), getattr(a[-1], timestamp)
    paired = [(f, nearest(a, timestamp, getattr(f, timestamp))) for f in b if first <= getattr(f, timestamp) <= last]
    assert len(paired) > 10
    misses = [round(scene_time(fb.image) - scene_time(fa.image), 3) for fb, fa in paired]
    assert max(map(abs, misses)) <= period_s + PIXEL_S, misses


def variable_rate_file(folder: Path) -> Path:
    """6 s of the scene: 10 fps for 2 s, 30 fps for 1 s, nothing for 1 s, then 15 fps."""
    master = film(folder / "master.mkv", start_s=0.0, seconds=6.0, fps=30)
    keep = "lt(t,2)*not(mod(n,3))+between(t,2,2.99)+gte(t,4)*not(mod(n,2))"
    vfr = folder / "vfr.mp4"
    ffmpeg("-i", str(master), "-vf", f"select='{keep}'", "-fps_mode", "vfr", "-an", "-c:v", "libx264",
           "-preset", "ultrafast", str(vfr))  # fmt: skip
    return vfr


async def test_a_variable_frame_rate_file_replayed_live_is_captured_at_its_own_timing(tmp_path: Path) -> None:
    """Replayed as a camera (paced), each frame is captured when the scene showed it, the pause included: its
    capture time since the first frame's equals its scene time since the first's (within a decode of these small
    frames; paced by the declared rate instead, the frames after the first 2 s were off by more than 0.5 s)."""
    frames, _ = await read_source(str(variable_rate_file(tmp_path)), paced=True)
    assert len(frames) == 20 + 30 + 30
    errors = [f.captured_at - frames[0].captured_at - scene_time(f.image) for f in frames]
    assert max(map(abs, errors)) <= REPLAY_TOLERANCE_S, [round(e, 3) for e in errors]


async def test_a_variable_frame_rate_file_gives_its_container_timestamps(tmp_path: Path) -> None:
    vfr = variable_rate_file(tmp_path)
    frames, _ = await read_source(str(vfr))
    assert len(frames) == 20 + 30 + 30
    assert max(map(abs, offsets(frames, "source_ts_s"))) <= PIXEL_S
    reader = open_reader(parse_source(str(vfr)))
    declared_fps = reader.fps
    reader.close()
    assert declared_fps, "the container declares a rate..."
    counted = [f.seq / declared_fps - scene_time(f.image) for f in frames]
    assert max(map(abs, counted)) > 0.5, "...and counting frames at it would be off by more than half a second"


@pytest.mark.parametrize("options", [("-f", "mp4"), ("-f", "matroska"), ("-f", "mpegts", "-muxdelay", "0")])
async def test_a_file_that_starts_late_on_its_containers_clock_keeps_that_start(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    late = film(tmp_path / "late", start_s=2.37, seconds=2.0, fps=10, options=("-output_ts_offset", "2.37", *options))
    frames, _ = await read_source(str(late))
    assert len(frames) == 20
    assert frames[0].source_ts_s == pytest.approx(2.37, abs=0.05), "not 0: the container's own time base"
    # the container's start is only exposed to the nearest frame period; every step after it is exact
    assert max(map(abs, offsets(frames, "source_ts_s"))) <= 0.05 + PIXEL_S
    assert [f.source_time for f in frames] == [None] * 20, "a recording states no wall-clock time"


async def test_two_cameras_on_a_shared_clock_line_up_by_source_ts(tmp_path: Path) -> None:
    """Camera B starts 1.5 s after A, at twice its frame rate, with B-frames, in MPEG-TS; both containers count
    from the same origin (as recorders stamped from one clock do)."""
    a = film(tmp_path / "a.mp4", start_s=0.0, seconds=5.0, fps=10)
    b = film(tmp_path / "b.ts", start_s=1.5, seconds=4.0, fps=20,
             options=("-bf", "2", "-output_ts_offset", "1.5", "-f", "mpegts", "-muxdelay", "0"))  # fmt: skip
    (frames_a, _), (frames_b, _) = await asyncio.gather(read_source(str(a)), read_source(str(b)))
    assert frames_b[0].source_ts_s == pytest.approx(1.5), "B's first frame is 1.5 s into the shared clock"
    for frames in (frames_a, frames_b):
        assert max(map(abs, offsets(frames, "source_ts_s"))) <= PIXEL_S
    assert_lined_up(frames_a, frames_b, "source_ts_s", 0.1)
    assert_lined_up(frames_b, frames_a, "source_ts_s", 0.05)


def hls(directory: Path, *, start_s: float, seconds: float, fps: int) -> Path:
    """A finished HLS stream of the scene with 1 s segments and ffmpeg's own EXT-X-PROGRAM-DATE-TIME."""
    directory.mkdir()
    options = ("-g", str(fps), "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
               "-hls_flags", "program_date_time+independent_segments")  # fmt: skip
    return film(directory / PLAYLIST, start_s=start_s, seconds=seconds, fps=fps, options=options)


def dates(playlist: Path) -> list[datetime]:
    return [datetime.fromisoformat(d) for d in re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist.read_text())]


def restate_dates(playlist: Path, first: datetime) -> None:
    """Shift every PROGRAM-DATE-TIME so the first is ``first``: what an encoder on a synchronised clock states."""
    shift = first - dates(playlist)[0]

    def shifted(match: re.Match[str]) -> str:
        moved = datetime.fromisoformat(match.group(1)) + shift
        return f"#EXT-X-PROGRAM-DATE-TIME:{moved.isoformat(timespec='milliseconds')}"

    playlist.write_text(re.sub(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", shifted, playlist.read_text()))


async def test_hls_with_program_date_time_gives_wall_clock_capture_times(tmp_path: Path) -> None:
    playlist = hls(tmp_path / "hls", start_s=0.0, seconds=3.0, fps=10)
    stated = dates(playlist)
    assert len(stated) == 3, "one PROGRAM-DATE-TIME per segment, as ffmpeg wrote them"
    with serve_directory(playlist.parent) as (base, _):
        frames, markers = await read_source(f"{base}/{PLAYLIST}")
    assert markers[0].detail.endswith("capture clock: source)")
    assert len(frames) == 30
    assert all(f.source_time is not None and f.captured_at == f.source_time for f in frames)
    zero = stated[0].timestamp()
    assert max(map(abs, offsets(frames, "source_time", zero))) <= PIXEL_S + 0.001  # PDT is written in ms
    for index, date in enumerate(stated):  # each segment's frames start at its own stated time
        segment = frames[index * 10 : index * 10 + 10]
        assert segment[0].source_time == pytest.approx(date.timestamp(), abs=0.001)


async def test_two_hls_cameras_line_up_by_source_time(tmp_path: Path) -> None:
    """Camera B starts 1.5 s after A at twice its rate; their encoders state capture times on one clock. Their
    TS timestamps do not share an origin (each encoder starts its own), so only ``source_time`` lines them up."""
    a = hls(tmp_path / "a", start_s=0.0, seconds=4.0, fps=10)
    b = hls(tmp_path / "b", start_s=1.5, seconds=4.0, fps=20)
    restate_dates(a, SHARED_CLOCK)
    restate_dates(b, SHARED_CLOCK + timedelta(seconds=1.5))
    with serve_directory(tmp_path) as (base, _):
        (frames_a, _), (frames_b, _) = await asyncio.gather(
            read_source(f"{base}/a/{PLAYLIST}"), read_source(f"{base}/b/{PLAYLIST}")
        )
    assert len(frames_a) == 40 and len(frames_b) == 80
    zero = SHARED_CLOCK.timestamp()
    for frames in (frames_a, frames_b):
        assert max(map(abs, offsets(frames, "source_time", zero))) <= PIXEL_S + 0.001
    assert_lined_up(frames_a, frames_b, "source_time", 0.1)
    assert_lined_up(frames_b, frames_a, "source_time", 0.05)
    assert abs(frames_b[0].source_ts_s - frames_a[0].source_ts_s) < 1.0, "each TS clock starts afresh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving_live(clip: Path, url: str) -> Iterator[None]:
    """ffmpeg serving ``clip`` as live MPEG-TS at ``url``, in real time from when a client connects."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-i", str(clip),
               "-c", "copy", "-f", "mpegts", "-listen", "1", url]  # fmt: skip
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        yield
    finally:
        server.kill()
        server.wait()


async def test_a_live_stream_without_a_clock_is_placed_from_when_it_was_opened(tmp_path: Path) -> None:
    """MPEG-TS over HTTP from ffmpeg, sent in real time from the moment pitchside connects: the stream states no
    capture time, so its frames are placed by an anchor at the open plus their PTS. Opening probes about two
    seconds of frames, which then arrive at once: their arrival (``captured_at``) says little; ``source_time``
    keeps them where the encoder sent them."""
    clip = film(tmp_path / "clip.mp4", start_s=0.0, seconds=4.0, fps=10, options=("-g", "10"))
    url = f"http://127.0.0.1:{free_port()}/live.ts"
    with serving_live(clip, url):
        await asyncio.sleep(0.5)  # it must listen before the first connection; a refused one is retried anyway
        began = time.time()
        frames, _ = await read_source(url, PATIENT)
    assert len(frames) >= 35, "the whole clip (a busy machine may lose the first frames to a retry)"
    placed = [f.source_time for f in frames if f.source_time is not None]
    assert len(placed) == len(frames) and placed == sorted(placed)
    sent = [began + scene_time(f.image) for f in frames]  # the encoder sends scene time t at about connect + t
    error = [p - s for p, s in zip(placed, sent, strict=True)]
    assert max(map(abs, error)) < 0.5, error
    assert all(f.source_time != f.captured_at for f in frames), "placed, not stated: captured_at is the arrival"
