"""The connection: connect and retry with backoff, boot, heartbeat, offline buffering.

Transaction messages (Start/StopTransaction, MeterValues) go through a queue
that is kept while offline and sent in order once connected again. All but the
OCPP version's messages is the same for every version: the sim gives its
``SUBPROTOCOL``, ``_new_link``, ``_boot_payload`` and ``_heartbeat_payload``
(the defaults here are OCPP 1.6's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import contextlib
from dataclasses import dataclass
import socket
import time
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import Reason, RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from .charge_point import LinkBase
from .logs import describe
from .model import ConnectionFailed, Disconnected

SUBPROTOCOL = Subprotocol("ocpp1.6")
MAX_BACKOFF = 30.0
# A connection the central system closes sooner than this counts as a failed attempt,
# even after an accepted boot: a server that keeps closing is given up on in the end.
STABLE_CONNECTION_SECONDS = 60.0


@dataclass
class Outgoing:
    """A transaction message waiting to be sent (kept while offline)."""

    payload: Any
    future: asyncio.Future[Any] | None


def consume(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as retrieved (nobody may be waiting for it)."""
    if not future.cancelled():
        future.exception()


class Connection:
    """Mixin of :class:`~.core.SimulatedChargePoint`: its link to the central system."""

    def go_offline(self, seconds: float) -> None:
        """Simulate a network outage: drop the socket, reconnect after ``seconds``.

        Transaction messages (Start/StopTransaction, MeterValues) are queued with
        their real timestamps and sent after reconnecting; no BootNotification
        is sent then unless ``boot_on_reconnect``.
        """
        self._log.warning("network down for %.1f s: buffering messages", seconds)
        self._offline_until = time.monotonic() + seconds
        self._online.clear()
        if self._link:
            self._link.drop(abort=True)

    async def _connection_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            offline = self._offline_until - time.monotonic()
            if offline > 0 and await self._sleep_or_stop(offline):
                break
            self._offline_until = 0.0
            try:
                ws = await connect(
                    self.url,
                    subprotocols=[self.SUBPROTOCOL] if self.subprotocol else None,
                    open_timeout=10,
                )
            except InvalidURI as err:
                raise ConnectionFailed(f"invalid URL {self.url!r}: {err}") from err
            except (OSError, TimeoutError, InvalidHandshake) as err:
                failures += 1
                if await self._backoff(failures, _connect_error(err)):
                    break
                continue
            connected_at = time.monotonic()
            link = await self._serve_connection(ws)
            lasted = time.monotonic() - connected_at
            if link.dropped.is_set():  # our own doing: a fault or Reset
                failures = 0
                if not self._offline_until and await self._sleep_or_stop(self.retry_delay):
                    break
            elif not self._stopping.is_set():
                # Closed by the other side: a new run of attempts only if it had
                # been online for a while.
                stable = link.online and lasted >= self.stable_connection
                failures = 1 if stable else failures + 1
                reason = "connection closed" if link.online else "closed before boot was accepted"
                if await self._backoff(failures, reason):
                    break

    async def _backoff(self, failures: int, reason: str) -> bool:
        """Wait before reconnect attempt ``failures + 1``; True if stopped.

        Raises ConnectionFailed once ``retries`` consecutive attempts failed.
        """
        if self.retries and failures > self.retries:
            raise ConnectionFailed(
                f"cannot connect to {self.url}: {reason} (gave up after {failures} attempts)"
            )
        delay = min(self.retry_delay * 2 ** (failures - 1), MAX_BACKOFF)
        self._log.warning(
            "%s: %s; retrying in %.1f s (attempt %d of %s)",
            self.url,
            reason,
            delay,
            failures + 1,
            self.retries + 1 if self.retries else "unlimited",
        )
        return await self._sleep_or_stop(delay)

    async def _serve_connection(self, ws: ClientConnection) -> LinkBase:
        link = self._new_link(ws)
        link.serve_task = asyncio.create_task(link.start())
        self._link = link
        self._log.info("connected to %s (subprotocol %s)", self.url, ws.subprotocol or "none")
        if self.subprotocol and ws.subprotocol != self.SUBPROTOCOL:
            self._log.warning("central system did not select subprotocol %s", self.SUBPROTOCOL)
        setup = asyncio.create_task(self._go_online(link))
        stopping = asyncio.create_task(self._stopping.wait())
        dropped = asyncio.create_task(link.dropped.wait())
        try:
            await asyncio.wait(
                {link.serve_task, setup, stopping, dropped},
                return_when=asyncio.FIRST_COMPLETED,
            )
            if setup.done() and not setup.cancelled() and setup.exception():
                self._log.error(
                    "internal error, disconnecting: %r",
                    setup.exception(),
                    exc_info=setup.exception(),
                )
                await ws.close()
            elif stopping.done() and not link.serve_task.done():
                await self._end_sessions(Reason.local)
                await ws.close()
            elif dropped.done() and not link.abort:
                await ws.close()
        finally:
            self._link = None
            self._online.clear()
            link.defer(None)  # a reply that never went out: skip its follow-up
            for conn in self.connectors.values():
                if conn.session and conn.session.task is None:  # remote start never launched
                    conn.session = None
            for task in (setup, stopping, dropped, link.serve_task):
                task.cancel()
            results = await asyncio.gather(
                setup, link.serve_task, stopping, dropped, return_exceptions=True
            )
            await ws.close()
        closed = results[1]
        if (
            isinstance(closed, ConnectionClosed)
            and not link.dropped.is_set()
            and not self._stopping.is_set()
        ):
            self._log.warning("connection closed by the central system: %s", closed)
        return link

    async def _go_online(self, link: LinkBase) -> None:
        buffered = len(self._tx_queue)
        try:
            if self._need_boot or self.boot_on_reconnect:
                await self._boot(link)
            else:
                self._log.info("reconnected without reboot: no BootNotification")
            link.online = True
            for connector_id in (0, *self.connectors):
                await self._notify_status(connector_id)
            self._online.set()
            if buffered:
                self._log.info("sending %d buffered transaction message(s)", buffered)
            async with asyncio.TaskGroup() as group:
                for loop in self._online_loops(link):
                    group.create_task(loop)
        except* Disconnected:
            pass

    def _online_loops(self, link: LinkBase) -> list[Coroutine[Any, Any, None]]:
        """What runs while connected: heartbeats, and the transaction message queue."""
        return [self._heartbeat_loop(link), self._tx_sender(link)]

    def _boot_payload(self) -> Any:
        return call.BootNotification(
            charge_point_model=self.model,
            charge_point_vendor=self.vendor,
            charge_point_serial_number=self.serial,
            charge_box_serial_number=self.serial,
            firmware_version=self.firmware,
            meter_type="SimMeter",
            meter_serial_number=f"{self.serial}-M"[:25],
        )

    def _take_heartbeat_interval(self, seconds: int) -> None:
        self.heartbeat_interval = float(seconds)
        self.config["HeartbeatInterval"].value = str(seconds)

    async def _boot(self, link: LinkBase) -> None:
        payload = self._boot_payload()
        while True:
            try:
                resp = await self._call(link, payload)
            except (OCPPError, TimeoutError) as err:
                self._log.error("BootNotification failed: %r; retrying in 10 s", err)
                await asyncio.sleep(10)
                continue
            self.registration = RegistrationStatus(resp.status)
            if resp.interval > 0:
                self._take_heartbeat_interval(resp.interval)
            if self.registration == RegistrationStatus.accepted:
                self.boot_count += 1
                self._need_boot = False
                self._log.info("boot accepted (heartbeat every %.0f s)", self.heartbeat_interval)
                return
            retry = resp.interval if resp.interval > 0 else 10
            self._log.warning("boot %s; retrying in %d s", resp.status, retry)
            await asyncio.sleep(retry)

    async def _heartbeat_loop(self, link: LinkBase) -> None:
        while True:
            self._hb_wakeup.clear()
            try:
                async with asyncio.timeout(self.heartbeat_interval):
                    await self._hb_wakeup.wait()
            except TimeoutError:
                await self._call_logged(link, self._heartbeat_payload())

    async def _tx_sender(self, link: LinkBase) -> None:
        while True:
            while self._tx_queue:
                item = self._tx_queue[0]
                try:
                    resp = await self._call(link, item.payload)
                except (OCPPError, TimeoutError) as err:
                    self._tx_queue.popleft()
                    self._log.error("%s failed, dropped: %r", type(item.payload).__name__, err)
                    if item.future and not item.future.done():
                        item.future.set_exception(err)
                    continue
                self._tx_queue.popleft()
                if item.future and not item.future.done():
                    item.future.set_result(resp)
            self._tx_wakeup.clear()
            await self._tx_wakeup.wait()

    async def _call(self, link: LinkBase, payload: Any) -> Any:
        """Send a CALL; raise Disconnected if the socket goes away meanwhile."""
        action = type(payload).__name__
        if link.dropped.is_set():
            raise Disconnected
        self._log.debug("-> %s: %s", action, describe(payload))
        assert link.serve_task is not None
        request = asyncio.create_task(link.call(payload, suppress=False))
        request.add_done_callback(consume)
        try:
            await asyncio.wait({request, link.serve_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not request.done():
                request.cancel()
        if not request.done() or request.cancelled():
            raise Disconnected
        try:
            resp = request.result()
        except ConnectionClosed as err:
            raise Disconnected from err
        self._log.debug("<- %s.conf: %s", action, describe(resp))
        return resp

    async def _call_logged(self, link: LinkBase, payload: Any) -> Any:
        """Send a CALL that may fail without consequences; return None then."""
        try:
            return await self._call(link, payload)
        except (OCPPError, TimeoutError) as err:
            self._log.warning("%s failed: %r", type(payload).__name__, err)
            return None

    async def _send(self, payload: Any) -> Any:
        """Send a non-transaction message now if online; drop it otherwise."""
        link = self._link
        if link is None or not link.online:
            self._log.debug("offline, not sent: %s", type(payload).__name__)
            return None
        with contextlib.suppress(Disconnected):
            return await self._call_logged(link, payload)
        return None

    async def _send_tx(self, payload: Any, *, wait: bool = True) -> Any:
        """Queue a transaction message (kept while offline); maybe await its reply."""
        future = asyncio.get_running_loop().create_future() if wait else None
        self._tx_queue.append(Outgoing(payload, future))
        self._tx_wakeup.set()
        if not self.online:
            self._log.debug(
                "offline: %s queued (%d waiting)",
                type(payload).__name__,
                len(self._tx_queue),
            )
        return await future if future else None

    def _reboot(self, *, abort: bool) -> None:
        self._need_boot = True
        self._online.clear()
        if self._link:
            self._link.drop(abort=abort)

    async def _sleep_or_stop(self, seconds: float) -> bool:
        """Sleep; return True at once if ``stop()`` was called."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            return False
        return True


def _connect_error(err: BaseException) -> str:
    """Explain a failed connection attempt in a few words."""
    if isinstance(err, ConnectionRefusedError):
        return "connection refused (is the central system running?)"
    if isinstance(err, socket.gaierror):
        return f"unknown host ({err.strerror})"
    if isinstance(err, InvalidStatus):
        return f"handshake rejected with HTTP {err.response.status_code}"
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__
