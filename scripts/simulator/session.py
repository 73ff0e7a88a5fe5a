"""Charging sessions: plug in, StartTransaction, metering, StopTransaction, interruptions."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
import time

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus, ReadingContext, Reason

from .connection import consume
from .meter import MIN_CHARGING_AMPS
from .model import Connector, Fault, Session, SessionError, now_iso

STOP_TIMEOUT = 5.0  # how long stop() waits for StopTransaction replies


class Sessions:
    """Mixin of :class:`~.core.SimulatedChargePoint`: its EVs' charging sessions."""

    def session(self, connector_id: int = 1) -> Session | None:
        """Return the active session on a connector, if any."""
        return self._connector(connector_id).session

    def transaction_id(self, connector_id: int = 1) -> int | None:
        """Return the running transaction's id on a connector, if any."""
        sess = self.session(connector_id)
        return sess.transaction_id if sess else None

    async def start_session(
        self,
        connector_id: int = 1,
        *,
        id_tag: str | None = None,
        energy_wh: float | None = None,
    ) -> int:
        """Plug in and charge; return the transaction id once charging.

        The session then runs in the background until ``energy_wh`` (default:
        the constructor's) is delivered or ``stop_session()`` is called.
        """
        sess = self._new_session(connector_id, id_tag or self.id_tag, energy_wh)
        self._launch(sess)
        return await asyncio.shield(sess.started)

    async def stop_session(self, connector_id: int = 1, *, reason: Reason = Reason.local) -> None:
        """Stop the session on a connector and wait until it has ended."""
        sess = self.session(connector_id)
        if sess is None:
            return
        self._request_stop(sess, reason)
        await sess.finished.wait()

    async def wait_session_finished(self, connector_id: int = 1) -> None:
        """Wait until the session on a connector (if any) has ended."""
        sess = self.session(connector_id)
        if sess is not None:
            await sess.finished.wait()

    def power_cycle(self) -> None:
        """Simulate a power cut: drop the socket and boot again.

        Running transactions are lost without StopTransaction; their sessions
        resume with new transactions after the boot (the EV is still plugged in).
        """
        self._log.warning("power cycle: dropping the connection, booting again")
        for conn in self.connectors.values():
            if (sess := conn.session) and sess.transaction_id is not None:
                self._log.warning(
                    "connector %d: transaction %s lost, no StopTransaction",
                    conn.connector_id,
                    sess.transaction_id,
                )
                sess.interrupted = True
                sess.wakeup.set()
                conn.status = ChargePointStatus.preparing
        self._reboot(abort=True)

    def _connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise ValueError(f"no connector {connector_id}") from None

    def _new_session(self, connector_id: int, id_tag: str, energy_wh: float | None) -> Session:
        conn = self._connector(connector_id)
        if conn.session is not None:
            raise SessionError(f"connector {connector_id} already has a session")
        if not (conn.operative and self.operative):
            raise SessionError(f"connector {connector_id} is unavailable")
        if conn.status == ChargePointStatus.faulted:
            raise SessionError(f"connector {connector_id} is faulted")
        reservation = conn.reservation
        if reservation and id_tag not in (reservation.id_tag, reservation.parent_id_tag):
            raise SessionError(f"connector {connector_id} is reserved for another id tag")
        conn.reservation = None  # used up by its own id tag
        sess = Session(
            connector_id=connector_id,
            id_tag=id_tag,
            target_wh=energy_wh or self.energy_wh,
            soc_start=round(self._rng.uniform(15, 45), 1),
            reservation_id=reservation.reservation_id if reservation else None,
        )
        sess.started.add_done_callback(consume)
        conn.session = sess
        return sess

    def _launch(self, sess: Session) -> None:
        sess.task = asyncio.create_task(self._session_main(sess))

    def _request_stop(self, sess: Session, reason: Reason) -> None:
        if sess.stop_reason is None:
            sess.stop_reason = reason
        sess.wakeup.set()

    async def _auto_session(self) -> None:
        await self._online.wait()
        try:
            await self.start_session(1)
        except SessionError as err:
            self._log.error("%s", err)

    async def _end_sessions(self, reason: Reason) -> None:
        """Stop all sessions (with StopTransaction) and wait for them briefly."""
        sessions = [c.session for c in self.connectors.values() if c.session]
        for sess in sessions:
            self._request_stop(sess, reason)
        if sessions:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT):
                    for sess in sessions:
                        await sess.finished.wait()

    async def _session_main(self, sess: Session) -> None:
        conn = self.connectors[sess.connector_id]
        self._log.info(
            "connector %d: EV plugged in (id tag %s, wants %.0f Wh, SoC %.0f%%)",
            conn.connector_id,
            sess.id_tag,
            sess.target_wh,
            sess.soc,
        )
        try:
            await self._set_status(conn, ChargePointStatus.preparing)
            while sess.stop_reason is None:
                if not await self._start_transaction(sess):
                    break
                if await self._charge(sess):
                    await self._stop_transaction(sess)
                    break
            if not sess.started.done():
                sess.started.set_exception(SessionError("session stopped early"))
        except (OCPPError, TimeoutError) as err:
            self._log.error("connector %d: session failed: %r", conn.connector_id, err)
            if not sess.started.done():
                sess.started.set_exception(SessionError(repr(err)))
        except asyncio.CancelledError:
            if not sess.started.done():
                sess.started.cancel()
            conn.session = None
            sess.finished.set()
            raise
        try:
            self.profiles.end_transaction(conn.connector_id)
            self._measure(conn, 0.0)
            await self._set_status(conn, ChargePointStatus.finishing)
            if conn.inoperative_pending:
                conn.inoperative_pending = False
                conn.operative = False
            conn.session = None
            await self._set_status(conn, self._idle_status(conn))
        finally:
            conn.session = None
            sess.finished.set()

    async def _start_transaction(self, sess: Session) -> bool:
        """Send StartTransaction; return False if the id tag was rejected."""
        conn = self.connectors[sess.connector_id]
        sess.interrupted = False
        sess.wakeup.clear()
        meter_start = round(conn.meter_wh)
        resp = await self._send_tx(
            call.StartTransaction(
                connector_id=conn.connector_id,
                id_tag=sess.id_tag,
                meter_start=meter_start,
                timestamp=now_iso(),
                reservation_id=sess.reservation_id,
            )
        )
        sess.reservation_id = None  # a restart after a power cut has no reservation
        sess.transaction_id = resp.transaction_id
        sess.transaction_started = datetime.now(UTC)
        sess.transaction_ids.append(resp.transaction_id)
        status = resp.id_tag_info.get("status")
        if status != "Accepted":
            self._log.warning(
                "connector %d: id tag %s %s; stopping transaction %d",
                conn.connector_id,
                sess.id_tag,
                status,
                resp.transaction_id,
            )
            sess.stop_reason = Reason.de_authorized
            await self._stop_transaction(sess)
            if not sess.started.done():
                sess.started.set_exception(SessionError(f"id tag {status}"))
            return False
        self._log.info(
            "connector %d: transaction %d started, meter %d Wh",
            conn.connector_id,
            resp.transaction_id,
            meter_start,
        )
        if sess.charging_profile is not None:  # RemoteStart's TxProfile, for this transaction
            profile = {**sess.charging_profile, "transaction_id": resp.transaction_id}
            self.profiles.install(conn.connector_id, profile)
        offered, _ = self._offered(conn)
        await self._set_status(
            conn,
            ChargePointStatus.charging
            if offered >= MIN_CHARGING_AMPS
            else ChargePointStatus.suspended_evse,
        )
        if not sess.started.done():
            sess.started.set_result(resp.transaction_id)
        return True

    async def _charge(self, sess: Session) -> bool:
        """Meter until done or stopped (True) or the transaction is lost (False)."""
        conn = self.connectors[sess.connector_id]
        last = time.monotonic()
        next_report = 0.1
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await sess.wakeup.wait()
            if sess.interrupted:
                return False
            now = time.monotonic()
            self._measure(conn, now - last)
            last = now
            if sess.stop_reason is not None or sess.delivered_wh >= sess.target_wh:
                return True
            await self._update_charging_status(conn)
            await self._send_tx(
                call.MeterValues(
                    connector_id=conn.connector_id,
                    transaction_id=sess.transaction_id,
                    meter_value=[self._meter_value(conn, ReadingContext.sample_periodic)],
                ),
                wait=False,
            )
            done = sess.delivered_wh / sess.target_wh
            if done >= next_report:
                next_report = (int(done * 10) + 1) / 10
                self._log.info(
                    "connector %d: %.0f of %.0f Wh, %.1f kW, SoC %.0f%%",
                    conn.connector_id,
                    sess.delivered_wh,
                    sess.target_wh,
                    conn.power_w / 1000,
                    sess.soc,
                )
            if self.fault and not sess.fault_done and done >= 0.5:
                sess.fault_done = True
                self._log.warning("injecting fault %r halfway", str(self.fault))
                if self.fault is Fault.REBOOT:
                    self.power_cycle()
                    return False
                self.go_offline(self.offline_intervals * self.interval)

    async def _stop_transaction(self, sess: Session) -> None:
        conn = self.connectors[sess.connector_id]
        reason = sess.stop_reason or Reason.local
        final = self._meter_value(conn, ReadingContext.transaction_end, stop=True)
        assert sess.transaction_id is not None
        payload = call.StopTransaction(
            meter_stop=round(conn.meter_wh),
            timestamp=final.timestamp,
            transaction_id=sess.transaction_id,
            reason=reason,
            id_tag=sess.id_tag,
            transaction_data=[final],
        )
        self._log.info(
            "connector %d: transaction %d stopped (%s), meter %d Wh, %.0f Wh delivered",
            conn.connector_id,
            sess.transaction_id,
            reason,
            payload.meter_stop,
            sess.delivered_wh,
        )
        # Wait for the reply only while online: offline it stays queued.
        if self.online:
            with contextlib.suppress(OCPPError, TimeoutError):
                async with asyncio.timeout(self.response_timeout):
                    await self._send_tx(payload)
        else:
            await self._send_tx(payload, wait=False)
        sess.transaction_id = None

    async def _update_charging_status(self, conn: Connector) -> None:
        want = ChargePointStatus.charging if conn.power_w > 0 else ChargePointStatus.suspended_evse
        if conn.status != want:
            await self._set_status(conn, want)
