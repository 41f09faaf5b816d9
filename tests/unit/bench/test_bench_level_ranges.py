import pytest

from orchestrator.bench.level_ranges import LevelSyntaxError, parse_levels


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("1:8:1", (1, 2, 3, 4, 5, 6, 7, 8)),  # perf_analyzer's --concurrency-range
        ("1:8:3", (1, 4, 7)),  # the end is a bound, not a promise
        ("2:4", (2, 3, 4)),  # step 1 by default, as perf_analyzer
        ("4", (4,)),
        ("1,2,4,8", (1, 2, 4, 8)),  # pitchside's list form still works
        ("1:3,8", (1, 2, 3, 8)),
        ("5:15:5", (5, 10, 15)),
        ("2.5:5:1.25", (2.5, 3.75, 5.0)),  # request rates may be fractional
        (" 1 , 2 ", (1, 2)),
    ],
)
def test_ranges_and_lists_expand_to_levels(text: str, levels: tuple[float, ...]) -> None:
    assert parse_levels(text, "--concurrency") == levels


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,x", "--concurrency expects comma-separated numbers or start:end:step (e.g. 1,2,4 or 1:8:1), got '1,x'"),
        ("1:2:3:4", "expects comma-separated numbers or start:end:step"),
        ("", "expects comma-separated numbers or start:end:step"),
        ("8:1", "a range needs start <= end and a positive step, e.g. 1:8:1"),
        ("1:8:0", "a range needs start <= end and a positive step"),
        ("1:100000:1", "expands to 100000 levels; use a larger step"),
    ],
)
def test_bad_levels_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(LevelSyntaxError, match=None) as caught:
        parse_levels(text, "--concurrency")
    assert message in str(caught.value)
