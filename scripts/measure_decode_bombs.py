"""A normal client's throughput while two other clients loop a decode bomb, against its solo throughput.

    .venv/bin/python -m scripts.measure_decode_bombs [--seconds 20] [--triton-url HOST:PORT]   # from the repo root

The normal client sends real frames (media/vtest.avi, JPEG-encoded as pitchside's jpeg wire does) to the
`detection` ensemble one request at a time. Each bomb client is its own process with its own gRPC channel,
looping a ~630-byte JPEG that declares 8000 x 8000 pixels (tests/image_bombs.py) as fast as the server answers.
Phases in one run, same server: solo, with the two bomb clients, with two clients looping 631 bytes that are no
image at all (the control: the cheapest request the preprocess model refuses), with two clients looping the bomb
as INT8 (refused by Triton itself before any model: refusal pacing cannot reach it), solo again; the ratios
compare a phase with the mean of the two solo phases. All of it shares this machine's cores; --bomber-nice N
runs the looping clients' own processes at a lower priority, as if they ran elsewhere (the server's work stays).
Without --triton-url an embedded server is started.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.bench.footage import load_footage
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.embedded import EmbeddedTriton, EmbeddedTritonConfig, ServerPorts
from tests.bomb_clients import BombClients
from tests.image_bombs import jpeg_bomb

BOMB_CLIENTS = 2
FRAMES = 50


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def line(self) -> str:
        p50 = statistics.median(self.latencies_ms)
        p99 = float(np.percentile(self.latencies_ms, 99))
        return (
            f"{self.name:>12}: {self.rate:6.1f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({len(self.latencies_ms)})"
        )


async def normal_client(url: str, frames: tuple[npt.NDArray[np.uint8], ...], name: str, seconds: float) -> Phase:
    """Sequential requests for ``seconds``; every one must succeed."""
    latencies: list[float] = []
    async with DetectionClient.connect(url) as client:
        started = time.perf_counter()
        while (now := time.perf_counter()) - started < seconds:
            await client.detect_encoded(frames[len(latencies) % len(frames)].tobytes())
            latencies.append((time.perf_counter() - now) * 1000)
        return Phase(name, time.perf_counter() - started, latencies)


async def measure(url: str, seconds: float, niceness: int) -> None:
    frames = load_footage(MEDIA_DIR / "vtest.avi", FRAMES).jpeg
    mean_kb = np.mean([frame.size for frame in frames]) / 1000
    print(f"{len(frames)} JPEG frames of vtest.avi, mean {mean_kb:.0f} kB; bomb {len(jpeg_bomb())} bytes")
    await normal_client(url, frames, "warm-up", 3)
    solo = await normal_client(url, frames, "solo", seconds)
    with BombClients(url, BOMB_CLIENTS, niceness=niceness) as bombers:
        attacked = await normal_client(url, frames, "with bombs", seconds)
    with BombClients(url, BOMB_CLIENTS, bomb=bytes(len(jpeg_bomb())), niceness=niceness) as junkers:
        control = await normal_client(url, frames, "with junk", seconds)
    with BombClients(url, BOMB_CLIENTS, niceness=niceness, dtype="INT8") as mistypers:
        mistyped = await normal_client(url, frames, "with INT8", seconds)
    after = await normal_client(url, frames, "solo again", seconds)
    for phase in (solo, attacked, control, mistyped, after):
        print(phase.line())
    for name, clients in (("bomb", bombers), ("junk", junkers), ("INT8", mistypers)):
        print(f"{name} answers ({BOMB_CLIENTS} clients, niceness {niceness}, while the normal client ran with them):")
        for answer, count in clients.answers.most_common():
            print(f"  {count:6d}  {answer}")
    baseline = (solo.rate + after.rate) / 2
    print(f"normal client with bombs / solo: {attacked.rate / baseline:.2f} (goal >= 0.80)")
    print(f"normal client with junk / solo: {control.rate / baseline:.2f} (control)")
    print(f"normal client with INT8 bombs / solo: {mistyped.rate / baseline:.2f} (refused by Triton, not paced)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--triton-url", help="a running server (host:port); default: start an embedded one")
    parser.add_argument("--bomber-nice", type=int, default=0, help="nice increment of the looping clients")
    args = parser.parse_args()
    if args.triton_url:
        asyncio.run(measure(args.triton_url, args.seconds, args.bomber_nice))
        return
    with tempfile.TemporaryDirectory() as workdir:
        config = EmbeddedTritonConfig(DEFAULT_MODEL_REPOSITORY, ServerPorts(0, 0, 0), log_path=Path(workdir) / "log")
        with EmbeddedTriton(config) as server:
            asyncio.run(measure(server.endpoints.grpc_url, args.seconds, args.bomber_nice))


if __name__ == "__main__":
    main()
