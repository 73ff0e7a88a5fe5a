"""The frame log shows the frames a plain list within its count and budget would keep."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.levity_ocpp.csms.framelog import (
    CHUNK_FRAMES,
    FRAME_LOG_SIZE,
    Direction,
    Frame,
    FrameLog,
    frame_of,
)

_START = datetime(2026, 1, 1, tzinfo=UTC)

texts = st.one_of(
    st.text(max_size=40),  # any code point, lone surrogates among them
    st.text(alphabet="ab\u00e9\u20ac\U0001f600", min_size=1000, max_size=5000),
    st.builds(lambda n: f'[2,"{n}","MeterValues",{{"connectorId":1}}]', st.integers(0, 999)),
)
frames = st.builds(
    lambda text, sent, second: replace(
        frame_of(Direction.SENT if sent else Direction.RECEIVED, text),
        time=_START + timedelta(seconds=second),
    ),
    texts,
    st.booleans(),
    st.integers(0, 10_000),
)


def _expected(frames: list[Frame], size: int, budget: int) -> list[Frame]:
    kept: list[Frame] = []
    for frame in frames:
        kept.append(frame)
        while len(kept) > size or (sum(f.cost for f in kept) > budget and len(kept) > 1):
            kept.pop(0)
    return kept


@settings(max_examples=60, deadline=None)
@given(
    sent=st.lists(frames, max_size=120),
    size=st.integers(1, 60),
    budget=st.integers(1, 40_000),
)
def test_frame_log_keeps_what_a_list_would(sent: list[Frame], size: int, budget: int) -> None:
    log = FrameLog(size=size, budget=budget)
    log.extend(sent)
    expected = _expected(sent, size, budget)
    assert list(log) == expected
    assert len(log) == len(expected)
    assert log.bytes == sum(frame.cost for frame in expected)
    if expected:
        assert log[0] == expected[0]
        assert log[-1] == expected[-1]
        assert log[len(expected) // 2] == expected[len(expected) // 2]


def test_a_full_log_of_meter_values_reads_back_in_order() -> None:
    log = FrameLog()
    sent = [
        Frame(
            _START + timedelta(seconds=n),
            Direction.RECEIVED if n % 2 == 0 else Direction.SENT,
            f'[2,"{n}","MeterValues",{{"connectorId":1,"meterValue":[{n * 30}]}}]'
            if n % 2 == 0
            else f'[3,"{n - 1}",{{}}]',
            60,
        )
        for n in range(FRAME_LOG_SIZE * 3 + CHUNK_FRAMES // 2)
    ]
    log.extend(sent)
    assert list(log) == sent[-FRAME_LOG_SIZE:]
    assert log[-1].text == sent[-1].text
    assert log[0].time == sent[-FRAME_LOG_SIZE].time


def test_an_empty_log_has_no_frames() -> None:
    log = FrameLog()
    assert list(log) == []
    with pytest.raises(IndexError):
        log[-1]
