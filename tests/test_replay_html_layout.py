"""Replay timelines stay readable (issue 25, I3/P5): marker labels never overlap (neighbours share a label or
take the second row), date labels are thinned to the room the drawing has, long stays are drawn wider."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from medcom.reports.replay_html import LEFT, RIGHT, TICK_LABEL, WIDTH, _label_width, _lay_labels, _tick_step

SHORT = st.sampled_from(["AA", "AR", "CP", "ACK", "r", "tel", "COR", "FM", "DA", "DR", "ready", "dis", "adm"])


@given(st.lists(st.tuples(st.floats(LEFT, WIDTH - RIGHT), SHORT), max_size=60))
def test_labels_of_a_lane_never_overlap_and_name_every_marker(marks: list[tuple[float, str]]) -> None:
    laid = _lay_labels([(x, short, f"{short} at {x}") for x, short in marks])
    assert sum(count for *_, count in laid) == len(marks)
    for row in (0, 1):
        spans = sorted((x - _label_width(text) / 2, x + _label_width(text) / 2)
                       for x, text, _titles, r, _count in laid if r == row)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    for x, short in marks:  # every marker is named by the label of its group, and that label's tooltip
        assert any(short in text.split("/") and f"{short} at {x}" in titles for _lx, text, titles, *_ in laid)


@given(st.integers(1, 5000), st.floats(WIDTH, 4 * WIDTH))
def test_date_labels_have_room(days: int, width: float) -> None:
    step = _tick_step(days, width)
    assert step * (width - LEFT - RIGHT) / days >= TICK_LABEL or step >= days


def test_the_walkthroughs_stays_are_thinned() -> None:
    assert _tick_step(19, WIDTH) >= 2  # 19 days at 1,100: daily labels ran into each other ("Mon 03 FebTue 04 Feb")
    assert _tick_step(5, WIDTH) == 1
