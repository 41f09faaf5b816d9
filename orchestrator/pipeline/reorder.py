"""Release results in dispatch order even when they complete out of order."""

from typing import Generic, TypeVar

T = TypeVar("T")


class Reorderer(Generic[T]):
    """``reserve()`` a slot when work is dispatched; ``complete(slot, value)`` returns what may now leave.

    Every reserved slot must be completed exactly once, or later results wait for it forever.
    """

    def __init__(self) -> None:
        self._next_slot = 0
        self._next_release = 0
        self._done: dict[int, T] = {}

    def reserve(self) -> int:
        slot = self._next_slot
        self._next_slot += 1
        return slot

    def complete(self, slot: int, value: T) -> list[T]:
        if not self._next_release <= slot < self._next_slot or slot in self._done:
            raise ValueError(f"slot {slot} was not reserved or is already complete")
        self._done[slot] = value
        ready: list[T] = []
        while self._next_release in self._done:
            ready.append(self._done.pop(self._next_release))
            self._next_release += 1
        return ready

    @property
    def pending(self) -> int:
        """Slots reserved but not yet released."""
        return self._next_slot - self._next_release
