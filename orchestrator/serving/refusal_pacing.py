"""Refusal pacing: once refusals come faster than a client mending its input would cause them, they are answered late.

A refused request costs the server little once the decode limits refuse it from its header (about 0.5 ms of CPU
between tritonserver and the Python stub), but a client looping a refused request (a decode bomb, or any junk) has
its answer at once and sends the next: two such clients on the project's 2-core machine made about 800 refusals
a second, and their CPU and the server's left a normal client 0.53 of its solo throughput. A client that waits
for its answer can only be slowed by answering it later, so refusals beyond a small budget (a token bucket of
``prompt_per_s``, ``burst`` deep) are answered ``delay_s`` late, from one thread of their own: the model instance
goes straight on with the next request, and a paced refusal costs no CPU while it waits. A client that sends an
occasional bad frame gets its error at once.

A client that keeps many refused requests in flight is paced only up to ``max_pending`` waiting answers; beyond
that refusals are answered at once again (no memory grows without bound). Limiting each client's rate belongs to
a proxy in front of the server: Triton has no per-client limit.

Nothing here imports Triton: the preprocess model hands :meth:`RefusalPacer.refuse` a callable that sends its
error response.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_PROMPT_PER_S: Final = 10.0
"""Refusals a second answered at once: far above what a camera with a corrupt frame now and then causes."""
DEFAULT_BURST: Final = 10
"""Refusals answered at once in a burst, before the rate applies."""
DEFAULT_DELAY_S: Final = 0.5
"""How late a paced refusal is answered: a client looping refused requests one at a time sends two a second."""
DEFAULT_MAX_PENDING: Final = 1024
"""Paced answers waiting at most; each holds one refused request (its input stays in the server meanwhile)."""
PARAMETERS: Final = {
    "refusal_prompt_per_s": "prompt_per_s",
    "refusal_burst": "burst",
    "refusal_delay_ms": "delay_s",
    "refusal_max_pending": "max_pending",
}
"""The model config's ``parameters`` keys and the PacingPolicy fields they set."""


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    prompt_per_s: float = DEFAULT_PROMPT_PER_S
    burst: int = DEFAULT_BURST
    delay_s: float = DEFAULT_DELAY_S
    max_pending: int = DEFAULT_MAX_PENDING

    def __post_init__(self) -> None:
        if self.prompt_per_s < 0 or self.burst < 1 or self.delay_s < 0 or self.max_pending < 0:
            raise ValueError(
                f"refusal pacing needs prompt_per_s >= 0, burst >= 1, delay >= 0 and max_pending >= 0, got {self}"
            )

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, str]) -> "PacingPolicy":
        """The policy set by a model config's ``parameters`` (string values, as Triton hands them over); keys
        other than PARAMETERS' are ignored, missing ones keep their default. Raises ValueError naming the key."""
        values: dict[str, float | int] = {}
        for key, field in PARAMETERS.items():
            if key not in parameters:
                continue
            try:
                number = float(parameters[key])
            except ValueError:
                raise ValueError(f"model parameter {key}: {parameters[key]!r} is not a number") from None
            if field == "delay_s":
                values[field] = number / 1000
            elif field in ("burst", "max_pending"):
                if not number.is_integer():
                    raise ValueError(f"model parameter {key}: {parameters[key]!r} is not a whole number")
                values[field] = int(number)
            else:
                values[field] = number
        return cls(**values)  # type: ignore[arg-type]


class RefusalBudget:
    """A token bucket: ``burst`` refusals answered at once, refilled at ``prompt_per_s``. Clock values in seconds."""

    def __init__(self, policy: PacingPolicy, now: float) -> None:
        self._policy = policy
        self._tokens = float(policy.burst)
        self._updated = now

    def prompt(self, now: float) -> bool:
        """Whether a refusal at ``now`` is answered at once (it then uses a token)."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._policy.burst), self._tokens + elapsed * self._policy.prompt_per_s)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class RefusalPacer:
    """``pacer.refuse(send)`` calls ``send`` now within the budget, else ``delay_s`` later from the pacer's own
    thread (started on first use). ``close()`` sends every waiting answer at once and stops the thread.

    ``send`` must not raise; if it does, the exception is counted in ``failed_sends`` and pacing goes on."""

    def __init__(self, policy: PacingPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._budget = RefusalBudget(policy, clock())
        self._waiting: deque[tuple[float, Callable[[], None]]] = deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.paced = 0
        """Refusals answered late so far."""
        self.failed_sends = 0

    def refuse(self, send: Callable[[], None]) -> bool:
        """Answer one refusal; True when it was paced (``send`` runs later), False when ``send`` ran now."""
        now = self._clock()
        with self._changed:
            paced = not (self._closed or self._budget.prompt(now) or len(self._waiting) >= self.policy.max_pending)
            if paced:
                self._waiting.append((now + self.policy.delay_s, send))
                self.paced += 1
                self._start_thread()
                self._changed.notify()
        if not paced:
            self._send(send)
        return paced

    @property
    def waiting(self) -> int:
        """Answers waiting for their time."""
        with self._changed:
            return len(self._waiting)

    def close(self) -> None:
        """Send every waiting answer now (the server is unloading the model) and stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._answer_when_due, name="refusal-pacer", daemon=True)
            self._thread.start()

    def _answer_when_due(self) -> None:
        while (send := self._next_due()) is not None:
            self._send(send)

    def _next_due(self) -> Callable[[], None] | None:
        """The next answer once it is due (at once after close); None when closed with nothing left."""
        with self._changed:
            while True:
                if self._waiting and (self._closed or self._waiting[0][0] <= self._clock()):
                    return self._waiting.popleft()[1]
                if self._closed:
                    return None
                timeout = self._waiting[0][0] - self._clock() if self._waiting else None
                self._changed.wait(timeout)

    def _send(self, send: Callable[[], None]) -> None:
        try:
            send()
        except Exception:  # one answer that cannot be sent (its client went away) must not stop the others
            with self._changed:
                self.failed_sends += 1
