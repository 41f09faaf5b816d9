"""Measure the transport choices of the orchestrator against a real Triton server, side by side.

* unary calls with an in-flight window (what pitchside uses) vs one bidirectional gRPC stream
  (``stream_infer``) carrying the same requests;
* raw uint8 frames vs JPEG (encoded client-side, decoded in the ensemble).

Usage: .venv/bin/python scripts/measure_transport.py [--frames 60] [--concurrency 2] [--triton-url HOST:PORT]
Without --triton-url an embedded server is started. Each variant runs twice, interleaved, after a warm-up;
the table gives frames/s and the p50 round trip. The machine is noisy: compare ratios within one run.
"""

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import numpy as np
import tritonclient.grpc.aio as grpcclient

from orchestrator.bench.footage import load_footage
from orchestrator.contract import ENSEMBLE_MODEL, INPUT_IMAGE_BYTES, INPUT_IMAGE_RAW, OUTPUT_DETECTIONS
from orchestrator.paths import DEFAULT_MODEL_REPOSITORY, MEDIA_DIR
from orchestrator.triton.client import channel_args
from orchestrator.triton.endpoint import triton_endpoint

Requests = list[list[grpcclient.InferInput]]
Client = grpcclient.InferenceServerClient
Variant = Callable[[Client, Requests, int], Coroutine[Any, Any, list[float]]]


def raw_inputs(frames: tuple[np.ndarray, ...]) -> Requests:
    out = []
    for frame in frames:
        tensor = grpcclient.InferInput(INPUT_IMAGE_RAW, [1, *frame.shape], "UINT8")
        tensor.set_data_from_numpy(frame[None])
        out.append([tensor])
    return out


def jpeg_inputs(encoded: tuple[np.ndarray, ...]) -> Requests:
    out = []
    for data in encoded:
        tensor = grpcclient.InferInput(INPUT_IMAGE_BYTES, [1, data.size], "UINT8")
        tensor.set_data_from_numpy(data[None])
        out.append([tensor])
    return out


async def unary(client: Client, inputs: Requests, window: int) -> list[float]:
    latencies: list[float] = []
    queue = iter(inputs)

    async def worker() -> None:
        for request in queue:
            started = time.perf_counter()
            await client.infer(ENSEMBLE_MODEL, request, outputs=[grpcclient.InferRequestedOutput(OUTPUT_DETECTIONS)])
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(window)))
    return latencies


async def streaming(client: Client, inputs: Requests, window: int) -> list[float]:
    latencies: list[float] = []
    sent: dict[str, float] = {}
    slots = asyncio.Semaphore(window)

    async def requests() -> AsyncIterator[dict[str, Any]]:
        for index, request in enumerate(inputs):
            await slots.acquire()
            sent[str(index)] = time.perf_counter()
            yield {
                "model_name": ENSEMBLE_MODEL,
                "inputs": request,
                "request_id": str(index),
                "outputs": [grpcclient.InferRequestedOutput(OUTPUT_DETECTIONS)],
            }

    async for result, error in client.stream_infer(requests()):
        if error is not None:
            raise RuntimeError(error)
        latencies.append(time.perf_counter() - sent[result.get_response().id])
        slots.release()
        if len(latencies) == len(inputs):
            break
    return latencies


async def measure(url: str, frames: int, window: int) -> None:
    footage = load_footage(MEDIA_DIR / "vtest.avi", frames)
    payloads = {"raw": raw_inputs(footage.raw), "jpeg": jpeg_inputs(footage.jpeg)}
    variants: dict[str, Variant] = {"unary": unary, "stream": streaming}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    async with grpcclient.InferenceServerClient(url, channel_args=channel_args()) as client:
        await unary(client, payloads["raw"][:8], window)  # warm-up
        for _ in range(2):
            for wire, inputs in payloads.items():
                for name, variant in variants.items():
                    started = time.perf_counter()
                    latencies = await variant(client, inputs, window)
                    elapsed = time.perf_counter() - started
                    p50_ms = float(np.median(latencies)) * 1e3
                    results.setdefault((name, wire), []).append((len(inputs) / elapsed, p50_ms))
    print(f"{frames} frames of vtest.avi (768x576), {window} requests in flight; two interleaved rounds")
    print(f"{'transport':<10}{'wire':<6}{'frames/s':>10}{'p50 ms':>10}")
    for (name, wire), rounds in results.items():
        fps = np.mean([r[0] for r in rounds])
        p50 = np.mean([r[1] for r in rounds])
        print(f"{name:<10}{wire:<6}{fps:>10.1f}{p50:>10.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--triton-url")
    args = parser.parse_args()
    async with triton_endpoint(args.triton_url, DEFAULT_MODEL_REPOSITORY) as url:
        await measure(url, args.frames, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
