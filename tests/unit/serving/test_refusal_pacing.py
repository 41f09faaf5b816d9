import threading

import pytest

from orchestrator.serving.refusal_pacing import PacingPolicy, RefusalBudget, RefusalPacer

WAIT_S = 10.0
"""How long a test waits for the pacer's thread before failing (never a timing assertion: only a hang guard)."""


class Sent:
    """Records the answers sent, in order, and lets a test wait for them."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.threads: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def answer(self, number: int):  # type: ignore[no-untyped-def]
        def send() -> None:
            with self._changed:
                self.order.append(number)
                self.threads.append(threading.current_thread().name)
                self._changed.notify_all()

        return send

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.order) >= count, WAIT_S)


def test_the_budget_answers_a_burst_at_once_then_refills_at_its_rate() -> None:
    budget = RefusalBudget(PacingPolicy(prompt_per_s=10, burst=3), now=100.0)
    assert [budget.prompt(100.0) for _ in range(4)] == [True, True, True, False]
    assert not budget.prompt(100.05)  # half a token
    assert budget.prompt(100.15)
    assert [budget.prompt(200.0) for _ in range(4)] == [True, True, True, False]  # never more than the burst


def test_a_zero_rate_answers_only_the_burst_at_once() -> None:
    budget = RefusalBudget(PacingPolicy(prompt_per_s=0, burst=1), now=0.0)
    assert [budget.prompt(t) for t in (0.0, 10.0, 1000.0)] == [True, False, False]


def test_refusals_within_the_budget_are_answered_before_refuse_returns() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(burst=2, delay_s=60)), Sent()
    assert [pacer.refuse(sent.answer(n)) for n in (1, 2)] == [False, False]
    assert sent.order == [1, 2] and pacer.paced == 0 and pacer.waiting == 0
    pacer.close()


def test_refusals_beyond_the_budget_wait_and_close_answers_them_all_in_order() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(prompt_per_s=0, burst=1, delay_s=60)), Sent()
    assert [pacer.refuse(sent.answer(n)) for n in (1, 2, 3)] == [False, True, True]
    assert sent.order == [1] and pacer.waiting == 2 and pacer.paced == 2
    pacer.close()
    assert sent.order == [1, 2, 3] and pacer.waiting == 0


def test_a_paced_refusal_is_answered_by_the_pacer_thread_once_due() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(prompt_per_s=0, burst=1, delay_s=0.05)), Sent()
    pacer.refuse(sent.answer(1))
    pacer.refuse(sent.answer(2))
    pacer.refuse(sent.answer(3))
    assert sent.wait_for(3), sent.order
    assert sent.order == [1, 2, 3]
    assert sent.threads[0] == threading.current_thread().name and set(sent.threads[1:]) == {"refusal-pacer"}
    pacer.close()


def test_a_full_waiting_list_answers_at_once_instead_of_growing() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(prompt_per_s=0, burst=1, delay_s=60, max_pending=1)), Sent()
    assert [pacer.refuse(sent.answer(n)) for n in (1, 2, 3)] == [False, True, False]
    assert sent.order == [1, 3] and pacer.waiting == 1
    pacer.close()
    assert sent.order == [1, 3, 2]


def test_after_close_refusals_are_answered_at_once() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(prompt_per_s=0, burst=1, delay_s=60)), Sent()
    pacer.refuse(sent.answer(1))
    pacer.close()
    assert not pacer.refuse(sent.answer(2))
    assert sent.order == [1, 2]


def test_an_answer_that_cannot_be_sent_is_counted_and_the_others_still_go() -> None:
    pacer, sent = RefusalPacer(PacingPolicy(prompt_per_s=0, burst=1, delay_s=0.01)), Sent()

    def broken() -> None:
        raise RuntimeError("the client went away")

    pacer.refuse(broken)
    pacer.refuse(broken)
    pacer.refuse(sent.answer(3))
    assert sent.wait_for(1)
    pacer.close()
    assert sent.order == [3] and pacer.failed_sends == 2


def test_the_policy_comes_from_the_model_parameters() -> None:
    policy = PacingPolicy.from_parameters(
        {"refusal_prompt_per_s": "2.5", "refusal_burst": "4", "refusal_delay_ms": "250", "other": "x"}
    )
    assert policy == PacingPolicy(prompt_per_s=2.5, burst=4, delay_s=0.25)
    assert PacingPolicy.from_parameters({}) == PacingPolicy()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"refusal_delay_ms": "soon"}, "refusal_delay_ms: 'soon' is not a number"),
        ({"refusal_burst": "2.5"}, "refusal_burst: '2.5' is not a whole number"),
        ({"refusal_max_pending": "-1"}, "max_pending >= 0"),
        ({"refusal_burst": "0"}, "burst >= 1"),
        ({"refusal_prompt_per_s": "-3"}, "prompt_per_s >= 0"),
    ],
)
def test_bad_model_parameters_are_refused_naming_the_problem(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PacingPolicy.from_parameters(parameters)
