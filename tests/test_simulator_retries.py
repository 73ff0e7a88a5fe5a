"""The simulator gives up on a central system that keeps refusing or closing it.

A bare websockets server plays the central system; no Home Assistant needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
import logging

import pytest
from websockets.asyncio.server import ServerConnection, serve

from scripts.simulator import ConnectionFailed, SimulatedChargePoint
from scripts.simulator.cli import main

type Handler = Callable[[ServerConnection], Awaitable[None]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


async def accept_boot_then_close(connection: ServerConnection) -> None:
    """Answer the first CALL, then hang up: the charger comes online, briefly.

    That CALL is the BootNotification the first time; reconnecting without a
    reboot, the simulator starts with a StatusNotification (its answer is empty).
    """
    _, unique_id, action, _ = json.loads(await connection.recv())
    reply = (
        {"status": "Accepted", "currentTime": "2026-11-01T10:00:00Z", "interval": 60}
        if action == "BootNotification"
        else {}
    )
    await connection.send(json.dumps([3, unique_id, reply]))
    await connection.close()


async def close_at_once(connection: ServerConnection) -> None:
    await connection.close(1002, "unsupported OCPP version; supported: ocpp1.6")


@pytest.fixture
async def central(socket_enabled: None, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A central system whose connections run the parametrized handler; yields its URL."""
    handler: Handler = request.param
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/SIM1"


@pytest.mark.parametrize(
    ("central", "boots"), [(accept_boot_then_close, 1), (close_at_once, 0)], indirect=["central"]
)
async def test_gives_up_on_a_central_system_that_keeps_closing(central: str, boots: int) -> None:
    """Before, an accepted boot started a new run of attempts: it retried forever."""
    sim = SimulatedChargePoint(central, retries=3, retry_delay=0.01, response_timeout=5)
    with pytest.raises(ConnectionFailed, match=r"gave up after 4 attempts"):
        await sim.run()
    assert sim.boot_count == boots


@pytest.mark.parametrize("central", [close_at_once], indirect=True)
async def test_cli_exits_non_zero_with_a_clear_message(
    central: str, caplog: pytest.LogCaptureFixture
) -> None:
    code = await main(["--url", central, "--retries", "2"])
    assert code == 1
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith(f"cannot connect to {central}:")
    assert "gave up after 3 attempts" in error.getMessage()
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2


def test_negative_retries_refused() -> None:
    with pytest.raises(ValueError, match="retries"):
        SimulatedChargePoint(retries=-1)
