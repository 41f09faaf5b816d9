"""Clients that loop a decode bomb at the detection ensemble, each its own process with its own gRPC channel.

``dtype="INT8"`` sends the same bytes as a tensor of a type the ensemble does not declare: Triton itself refuses
it before any model sees it (the refusals no model can pace)."""

import asyncio
import multiprocessing
import multiprocessing.synchronize
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from orchestrator.contract import ENSEMBLE_MODEL, INPUT_IMAGE_BYTES
from orchestrator.triton.client import DetectionClient
from orchestrator.triton.errors import TritonError
from tests.image_bombs import jpeg_bomb

ANSWER_CHARS = 160
"""Answers are counted by kind: the error type and the first characters of its message."""


class BombClients:
    """``with BombClients(url, 2) as bombers:`` loops the bomb from 2 processes until the block ends;
    ``bombers.answers`` then counts what the server answered ("decoded", or the error)."""

    def __init__(
        self, url: str, count: int, bomb: bytes | None = None, niceness: int = 0, dtype: str = "UINT8"
    ) -> None:
        """``bomb``: what to send (default: tests.image_bombs.jpeg_bomb()); ``niceness``: the processes' nice
        increment, to leave the CPU they use themselves to the server (as clients on other machines would);
        ``dtype``: the tensor type the bytes are sent as (the ensemble declares UINT8)."""
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._started = context.Semaphore(0)
        self._results: multiprocessing.Queue[Counter[str]] = context.Queue()
        body = jpeg_bomb() if bomb is None else bomb
        args = (url, body, dtype, niceness, self._stop, self._started, self._results)
        self._processes = [context.Process(target=_loop, args=args, daemon=True) for _ in range(count)]
        self.answers: Counter[str] = Counter()

    def __enter__(self) -> Self:
        for process in self._processes:
            process.start()
        deadline = time.monotonic() + 60
        for _ in self._processes:  # each has its first answer: it is really looping
            if not self._started.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise TimeoutError("a bomb client did not get its first answer within 60 s")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for _ in self._processes:
            self.answers.update(self._results.get(timeout=120))
        for process in self._processes:
            process.join(timeout=30)


def _loop(
    url: str,
    bomb: bytes,
    dtype: str,
    niceness: int,
    stop: multiprocessing.synchronize.Event,
    started: multiprocessing.synchronize.Semaphore,
    results: "multiprocessing.Queue[Counter[str]]",
) -> None:
    os.nice(niceness)
    sender = _ensemble_answers if dtype == "UINT8" else _mistyped_answers
    results.put(asyncio.run(sender(url, bomb, dtype, lambda send: _count_answers(send, stop, started))))


Send = Callable[[], Awaitable[str]]
"""Sends the bomb once; returns the answer's kind."""
Count = Callable[[Send], Awaitable[Counter[str]]]


async def _count_answers(
    send: Send, stop: multiprocessing.synchronize.Event, started: multiprocessing.synchronize.Semaphore
) -> Counter[str]:
    answers: Counter[str] = Counter()
    while not stop.is_set():
        answers[await send()] += 1
        if answers.total() == 1:
            started.release()
    return answers


async def _ensemble_answers(url: str, bomb: bytes, dtype: str, count: Count) -> Counter[str]:
    """Through pitchside's client, as an encoded image: its answers are pitchside's error types."""
    async with DetectionClient.connect(url, timeout_s=120) as client:

        async def send() -> str:
            try:
                await client.detect_encoded(bomb)
                return "decoded"
            except TritonError as exc:
                return f"{type(exc).__name__}: {str(exc)[:ANSWER_CHARS]}"

        return await count(send)


async def _mistyped_answers(url: str, bomb: bytes, dtype: str, count: Count) -> Counter[str]:
    """Through tritonclient, as a ``dtype`` tensor the ensemble does not declare: its answers are gRPC statuses."""
    client = grpcclient.InferenceServerClient(url)
    element = np.dtype(triton_to_np_dtype(dtype))
    data = np.frombuffer(bomb[: len(bomb) // element.itemsize * element.itemsize], element)[None]
    tensor = grpcclient.InferInput(INPUT_IMAGE_BYTES, list(data.shape), dtype)
    tensor.set_data_from_numpy(data)

    async def send() -> str:
        try:
            await client.infer(ENSEMBLE_MODEL, [tensor])
            return "answered"
        except InferenceServerException as exc:
            return f"{exc.status()}: {exc.message()[:ANSWER_CHARS]}"

    try:
        return await count(send)
    finally:
        await client.close()
