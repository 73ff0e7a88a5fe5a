"""A simulated OCPP 1.6J charge point (and 2.0.1 station) for developing and testing
levity_ocpp.

From a shell: ``scripts/simulate --help``. From a test::

    url = "ws://127.0.0.1:9000/SIM1"
    async with SimulatedChargePoint(url, interval=0.2, speed=20, seed=1) as sim:
        transaction_id = await sim.start_session(energy_wh=50)  # once charging
        async with asyncio.timeout(10):
            await sim.wait_session_finished()  # StopTransaction sent and answered

The simulator keeps its state (meter registers, configuration, sessions, queued
transaction messages) across reconnects, like a real charger keeps it in flash;
each websocket connection gets a fresh ``ocpp.v16.ChargePoint`` (``charge_point.Link``).

Modules: ``core`` (the class, its lifecycle and public API) is assembled from
``connection`` (connect, retry, boot, heartbeat, offline buffering), ``session``
(charging sessions), ``meter`` (the meter profile) and ``charge_point`` (answering
the central system's CALLs); ``config`` holds the configuration keys, ``model`` the
state and errors, ``logs`` the logging, ``cli`` the command line.

``SimulatedChargingStation`` (``v201_core``, ``scripts/simulate --ocpp 2.0.1``) is
the same charger speaking OCPP 2.0.1: its own link, commands, device model and
TransactionEvents (``v201_*``) on the shared connection, sessions and meter.
"""

from .cli import main
from .core import SimulatedChargePoint
from .model import ConnectionFailed, Fault, SessionError, SimulatorError
from .v201_core import SimulatedChargingStation

__all__ = [
    "ConnectionFailed",
    "Fault",
    "SessionError",
    "SimulatedChargePoint",
    "SimulatedChargingStation",
    "SimulatorError",
    "main",
]
