"""The holder the answers to our requests wait in: asyncio.Queue's order and waking."""

from __future__ import annotations

import asyncio

from custom_components.levity_ocpp.csms.routes import Answers


async def test_answers_come_out_in_the_order_they_arrived() -> None:
    """Two answers read before `call()` looks (one late, one awaited) keep their order."""
    answers = Answers()
    answers.put_nowait("late")
    answers.put_nowait("awaited")

    assert await answers.get() == "late"
    assert await answers.get() == "awaited"


async def test_a_request_waits_for_its_answer() -> None:
    """`get` sleeps until an answer is kept, then returns it."""
    answers = Answers()
    waiting = asyncio.ensure_future(answers.get())
    await asyncio.sleep(0)
    assert not waiting.done()

    answers.put_nowait("answer")

    assert await waiting == "answer"


async def test_an_answer_after_the_request_gave_up_waits_for_the_next() -> None:
    """A request that timed out leaves no waiter behind: a later answer is kept, not lost."""
    answers = Answers()
    try:
        async with asyncio.timeout(0.01):
            await answers.get()
    except TimeoutError:
        pass

    answers.put_nowait("late")

    assert await answers.get() == "late"
