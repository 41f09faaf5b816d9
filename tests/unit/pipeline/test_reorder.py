import pytest

from orchestrator.pipeline.reorder import Reorderer


def test_results_leave_in_dispatch_order() -> None:
    reorder: Reorderer[str] = Reorderer()
    slots = [reorder.reserve() for _ in range(4)]
    assert reorder.complete(slots[2], "c") == []
    assert reorder.complete(slots[1], "b") == []
    assert reorder.complete(slots[0], "a") == ["a", "b", "c"]
    assert reorder.pending == 1
    assert reorder.complete(slots[3], "d") == ["d"]
    assert reorder.pending == 0


def test_a_slot_completes_once() -> None:
    reorder: Reorderer[int] = Reorderer()
    slot = reorder.reserve()
    reorder.complete(slot, 1)
    with pytest.raises(ValueError):
        reorder.complete(slot, 2)
    with pytest.raises(ValueError):
        reorder.complete(99, 3)
