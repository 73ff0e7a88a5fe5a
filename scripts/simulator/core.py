"""The simulated charge point: its settings, lifecycle and public API."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine, Iterable
import contextlib
import random
from typing import Any
from urllib.parse import urlsplit

from ocpp.v16 import call
from ocpp.v16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    RegistrationStatus,
)
from websockets.asyncio.client import ClientConnection

from .behaviour import V16_RULES, Behaviour
from .charge_point import Link, LinkBase
from .charging_commands import ChargingCommands
from .commands import CoreCommands
from .config import default_config
from .connection import STABLE_CONNECTION_SECONDS, SUBPROTOCOL, Connection, Outgoing
from .logs import LOGGER, Prefixed
from .management import Management
from .meter import Meter
from .model import ConnectionFailed, Connector, Fault, now_iso
from .session import Sessions
from .smart_charging import ProfileStack

DEFAULT_URL = "ws://localhost:9000/SIM1"
METER_START_WH = 1_000_000.0


class SimulatedChargePoint(Connection, Sessions, Meter, CoreCommands, ChargingCommands, Management):
    """A scriptable OCPP 1.6J charge point that talks to a central system.

    ``run()`` connects (retrying with backoff), boots, heartbeats, answers the
    central system's CALLs and reconnects after faults until ``stop()``. The
    session methods work while ``run()`` is active, e.g. inside ``async with``.
    """

    RULES = V16_RULES
    SUBPROTOCOL = SUBPROTOCOL

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        connectors: int = 1,
        vendor: str = "Levity",
        model: str = "SimCharger",
        serial: str | None = None,
        firmware: str = "1.0.0-sim",
        subprotocol: bool = True,
        energy_wh: float = 5000.0,
        interval: float = 10.0,
        phases: int = 3,
        amps: float = 16.0,
        volts: float = 230.0,
        id_tag: str = "SIMTAG",
        fault: Fault | str | None = None,
        speed: float = 1.0,
        meter_start_wh: float = METER_START_WH,
        offline_intervals: int = 3,
        boot_on_reconnect: bool = False,
        retries: int = 10,
        retry_delay: float = 1.0,
        stable_connection: float = STABLE_CONNECTION_SECONDS,
        response_timeout: float = 30.0,
        seed: int | None = None,
        reject: Iterable[str] = (),
        not_supported: Iterable[str] = (),
        time_out: Iterable[str] = (),
        reject_purposes: Iterable[str] = (),
        vendor_ids: Iterable[str] = (),
        transfer_seconds: float = 2.0,
    ) -> None:
        """Configure the simulated charger; nothing happens until ``run()``.

        ``speed`` scales the energy delivered per real second (for quick demos
        and tests); ``retries`` counts consecutive failed connection attempts
        before giving up (0: never give up), a connection closed by the central
        system within ``stable_connection`` seconds being one; ``boot_on_reconnect`` makes it send
        BootNotification after a network loss too, not only after a (re)boot.

        Commands named (by OCPP action, e.g. "Reset") in ``reject`` are refused,
        in ``not_supported`` answered CALLERROR NotSupported, in ``time_out``
        never answered; SetChargingProfile is Rejected for ``reject_purposes``;
        DataTransfer is Accepted only for ``vendor_ids``. Simulated firmware
        updates and diagnostics uploads pause ``transfer_seconds / speed``
        between their status notifications.
        """
        self.cp_id = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "SIM"
        serial = serial or f"SIM-{self.cp_id}"[:25]
        for name, value, limit in (
            ("vendor", vendor, 20),
            ("model", model, 20),
            ("serial", serial, 25),
            ("firmware", firmware, 50),
            ("id_tag", id_tag, 20),
        ):
            if not value or len(value) > limit:
                raise ValueError(f"{name} must be 1 to {limit} characters")
        if connectors < 1:
            raise ValueError("connectors must be at least 1")
        if retries < 0:
            raise ValueError("retries must be 0 (never give up) or more")
        if phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if min(interval, speed, amps, volts, energy_wh) <= 0:
            raise ValueError("interval, speed, amps, volts and energy_wh must be > 0")
        if transfer_seconds < 0:
            raise ValueError("transfer_seconds must be 0 or more")
        self.behaviour = Behaviour.build(
            reject=reject,
            not_supported=not_supported,
            time_out=time_out,
            rejected_purposes=reject_purposes,
            vendor_ids=vendor_ids,
            rules=self.RULES,
        )
        self.url = url
        self.vendor, self.model, self.serial = vendor, model, serial
        self.firmware = firmware
        self.subprotocol = subprotocol
        self.energy_wh = energy_wh
        self.interval = interval
        self.phases = phases
        self.amps = amps
        self.volts = volts
        self.id_tag = id_tag
        self.fault = Fault(fault) if fault else None
        self.speed = speed
        self.offline_intervals = offline_intervals
        self.boot_on_reconnect = boot_on_reconnect
        self.retries = retries
        self.retry_delay = retry_delay
        self.stable_connection = stable_connection
        self.response_timeout = response_timeout
        self.transfer_seconds = transfer_seconds

        self.connectors = {
            n: Connector(n, meter_wh=float(meter_start_wh)) for n in range(1, connectors + 1)
        }
        self.operative = True  # connector 0: the charge point as a whole
        self.profiles = ProfileStack()
        self.heartbeat_interval = 60.0
        self.config = default_config(connectors, self.heartbeat_interval, interval, phases)
        self.boot_count = 0
        self.registration: RegistrationStatus | None = None
        self.local_list: dict[str, dict[str, Any]] = {}
        self.local_list_version = 0
        self.firmware_status = FirmwareStatus.idle
        self.diagnostics_status = DiagnosticsStatus.idle
        self._firmware_task: asyncio.Task[None] | None = None

        self._log = Prefixed(LOGGER, {"cp_id": self.cp_id})
        self._rng = random.Random(seed)
        self._link: LinkBase | None = None
        self._online = asyncio.Event()
        self._stopping = asyncio.Event()
        self._need_boot = True
        self._offline_until = 0.0
        self._tx_queue: deque[Outgoing] = deque()
        self._tx_wakeup = asyncio.Event()
        self._hb_wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_task: asyncio.Task[None] | None = None
        for conn in self.connectors.values():
            self._measure(conn, 0.0)

    @property
    def online(self) -> bool:
        """Whether a connection is up and (if it needed one) boot was accepted."""
        return self._online.is_set()

    def meter_wh(self, connector_id: int = 1) -> float:
        """Return a connector's energy register in Wh."""
        return self._connector(connector_id).meter_wh

    def status(self, connector_id: int = 1) -> ChargePointStatus:
        """Return the last status of a connector (0: the charge point)."""
        if connector_id == 0:
            return self._cp_status()
        return self._connector(connector_id).status

    async def run(self, *, session: bool = False, duration: float | None = None) -> None:
        """Connect and serve until ``stop()`` (or ``duration`` seconds).

        With ``session`` a session starts on connector 1 after the first boot.
        Raises :class:`ConnectionFailed` when the retries are exhausted.
        """
        self._stopping.clear()
        loop = asyncio.get_running_loop()
        timer = loop.call_later(duration, self.stop) if duration else None
        if session:
            self.spawn(self._auto_session())
        try:
            await self._connection_loop()
        finally:
            if timer:
                timer.cancel()
            await self._shutdown()

    def stop(self) -> None:
        """Ask ``run()`` to end sessions (StopTransaction), disconnect and return."""
        self._stopping.set()

    async def wait_online(self) -> None:
        """Wait until connected and booted (wrap in ``asyncio.timeout``)."""
        await self._online.wait()

    async def send_status(
        self,
        connector_id: int,
        status: ChargePointStatus,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        info: str | None = None,
    ) -> None:
        """Set a connector's status (e.g. Faulted) and send StatusNotification."""
        if connector_id == 0:
            await self._notify_status(0, status, error_code, info)
            return
        conn = self._connector(connector_id)
        conn.error_code = error_code
        await self._set_status(conn, status, info)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; log its failure; cancel it on shutdown."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    async def __aenter__(self) -> SimulatedChargePoint:
        """Start ``run()`` in the background and wait until online."""
        self._run_task = asyncio.create_task(self.run())
        online = asyncio.create_task(self._online.wait())
        done, _ = await asyncio.wait(
            {self._run_task, online},
            timeout=self.response_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        online.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await online
        if self._run_task in done:
            self._run_task.result()  # raises ConnectionFailed
            raise ConnectionFailed("stopped before coming online")
        if not done:
            await self.__aexit__(None, None, None)
            raise ConnectionFailed(f"not online after {self.response_timeout} s")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop and wait for ``run()`` to return."""
        self.stop()
        if self._run_task is None:
            return
        try:
            async with asyncio.timeout(self.response_timeout):
                await self._run_task
        except TimeoutError:
            self._run_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._run_task
        except ConnectionFailed:
            pass
        finally:
            self._run_task = None

    async def _shutdown(self) -> None:
        tasks = [*self._tasks] + [
            c.session.task for c in self.connectors.values() if c.session and c.session.task
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while self._tx_queue:
            if (fut := self._tx_queue.popleft().future) and not fut.done():
                fut.cancel()

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()):
            self._log.error("background task failed: %r", err, exc_info=err)

    def _new_link(self, ws: ClientConnection) -> Link:
        return Link(self, ws)

    def _heartbeat_payload(self) -> Any:
        return call.Heartbeat()

    def _cp_status(self) -> ChargePointStatus:
        return ChargePointStatus.available if self.operative else ChargePointStatus.unavailable

    def _idle_status(self, conn: Connector) -> ChargePointStatus:
        if not (conn.operative and self.operative):
            return ChargePointStatus.unavailable
        if conn.reservation is not None:
            return ChargePointStatus.reserved
        return ChargePointStatus.available

    async def _set_status(
        self, conn: Connector, status: ChargePointStatus, info: str | None = None
    ) -> None:
        if conn.status != status:
            self._log.info("connector %d: %s", conn.connector_id, status)
        conn.status = status
        await self._notify_status(conn.connector_id, info=info)

    async def _notify_status(
        self,
        connector_id: int,
        status: ChargePointStatus | None = None,
        error_code: ChargePointErrorCode | None = None,
        info: str | None = None,
    ) -> None:
        """Send StatusNotification with a connector's current status (if online)."""
        if connector_id == 0:
            status = status or self._cp_status()
            error_code = error_code or ChargePointErrorCode.no_error
        else:
            conn = self.connectors[connector_id]
            status = status or conn.status
            error_code = error_code or conn.error_code
        await self._send(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=now_iso(),
                info=info,
            )
        )
