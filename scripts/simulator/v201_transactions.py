"""OCPP 2.0.1 transactions of the simulated station: TransactionEvent Started, Updated,
Ended, each numbered (seqNo) within its transaction and marked offline when it
happened without a connection; StatusNotification per EVSE; clock-aligned meter
values (MeterValues outside a transaction, TransactionEvent inside one).

The session itself (plug in, charge, stop, power cuts) is ``session.Sessions``'s,
with the 1.6 connector statuses as the fine-grained state: a 2.0.1 connector
status and charging state are read from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any
import uuid

from ocpp.exceptions import OCPPError
from ocpp.v16.enums import ChargePointStatus
from ocpp.v201 import call, datatypes
from ocpp.v201.enums import (
    ChargingStateEnumType,
    ConnectorStatusEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    TransactionEventEnumType,
    TriggerReasonEnumType,
)

from .meter import MIN_CHARGING_AMPS
from .model import Connector, Fault, Session, SessionError, now_iso
from .session import Sessions
from .smart_charging import parse_time
from .v201_sampling import meter_value

if TYPE_CHECKING:
    from .charge_point import LinkBase

STATE = {
    ChargePointStatus.preparing: ChargingStateEnumType.ev_connected,
    ChargePointStatus.charging: ChargingStateEnumType.charging,
    ChargePointStatus.suspended_ev: ChargingStateEnumType.suspended_ev,
    ChargePointStatus.suspended_evse: ChargingStateEnumType.suspended_evse,
    ChargePointStatus.finishing: ChargingStateEnumType.ev_connected,
}
CONNECTOR_STATUS = {
    ChargePointStatus.available: ConnectorStatusEnumType.available,
    ChargePointStatus.reserved: ConnectorStatusEnumType.reserved,
    ChargePointStatus.unavailable: ConnectorStatusEnumType.unavailable,
    ChargePointStatus.faulted: ConnectorStatusEnumType.faulted,
}
# Why a transaction ended -> what made it end (the event's triggerReason).
TRIGGERS = {
    ReasonEnumType.remote: TriggerReasonEnumType.remote_stop,
    ReasonEnumType.local: TriggerReasonEnumType.stop_authorized,
    ReasonEnumType.ev_disconnected: TriggerReasonEnumType.ev_departed,
    ReasonEnumType.de_authorized: TriggerReasonEnumType.deauthorized,
    ReasonEnumType.immediate_reset: TriggerReasonEnumType.reset_command,
    ReasonEnumType.energy_limit_reached: TriggerReasonEnumType.energy_limit_reached,
}
CONNECTOR_IN_EVSE = 1


def connector_status(status: ChargePointStatus) -> ConnectorStatusEnumType:
    """A 1.6 connector status as 2.0.1's: Occupied while a car is plugged in."""
    return CONNECTOR_STATUS.get(status, ConnectorStatusEnumType.occupied)


def charging_state(status: ChargePointStatus) -> ChargingStateEnumType:
    """A 1.6 connector status as a 2.0.1 transaction's charging state."""
    return STATE.get(status, ChargingStateEnumType.idle)


class Transactions(Sessions):
    """Mixin of :class:`~.v201_core.SimulatedChargingStation`: its 2.0.1 transactions."""

    async def _set_status(
        self, conn: Connector, status: ChargePointStatus, info: str | None = None
    ) -> None:
        """Change state: StatusNotification if the connector status changed, and a
        TransactionEvent if a running transaction's charging state did."""
        before = conn.status
        if before != status:
            self._log.info("connector %d: %s", conn.connector_id, status)
        conn.status = status
        if connector_status(before) != connector_status(status):
            await self._notify_status(conn.connector_id)
        sess = conn.session
        if (
            sess is not None
            and sess.transaction_id is not None
            and charging_state(before) != charging_state(status)
        ):
            event = self._event(sess, TransactionEventEnumType.updated, "ChargingStateChanged")
            await self._send_tx(event, wait=False)

    async def _notify_status(
        self,
        connector_id: int,
        status: ChargePointStatus | None = None,
        error_code: Any = None,
        info: str | None = None,
    ) -> None:
        """StatusNotification of an EVSE's connector (2.0.1 has none for the station)."""
        if connector_id == 0:
            return
        conn = self.connectors[connector_id]
        await self._send(
            call.StatusNotification(
                timestamp=now_iso(),
                connector_status=connector_status(status or conn.status),
                evse_id=connector_id,
                connector_id=CONNECTOR_IN_EVSE,
            )
        )

    def _new_transaction_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _event(
        self,
        sess: Session,
        event_type: TransactionEventEnumType,
        trigger: str,
        *,
        context: ReadingContextEnumType | None = None,
        measurands: list[str] | None = None,
        stopped: str | None = None,
    ) -> call.TransactionEvent:
        """The next TransactionEvent of a session's transaction."""
        conn = self.connectors[sess.connector_id]
        started = event_type == TransactionEventEnumType.started
        ended = event_type == TransactionEventEnumType.ended
        # A session's later transactions (after a power cut) were not started remotely.
        first = len(sess.transaction_ids) == 1
        state = charging_state(conn.status)
        if ended:  # charging has stopped; the car is still there unless it left
            departed = stopped == ReasonEnumType.ev_disconnected
            state = ChargingStateEnumType.idle if departed else ChargingStateEnumType.ev_connected
        assert sess.transaction_id is not None
        seq_no, sess.seq_no = sess.seq_no, sess.seq_no + 1
        meter = None
        if context is not None:
            meter = [meter_value(self, conn, context, measurands or [])]
        return call.TransactionEvent(
            event_type=event_type,
            timestamp=now_iso(),
            trigger_reason=trigger,
            seq_no=seq_no,
            transaction_info=datatypes.TransactionType(
                transaction_id=str(sess.transaction_id),
                charging_state=state,
                stopped_reason=stopped,
                remote_start_id=sess.remote_start_id if started and first else None,
            ),
            meter_value=meter,
            offline=None if self.online else True,
            number_of_phases_used=self._offered(conn)[1] if conn.power_w and not ended else None,
            evse=datatypes.EVSEType(conn.connector_id, CONNECTOR_IN_EVSE) if started else None,
            id_token=datatypes.IdTokenType(sess.id_tag, sess.id_token_type) if started else None,
        )

    def _measurands(self, component: str, variable: str) -> list[str]:
        return self.device_model.listed(component, variable)

    def _sampled(self, *, clock: bool) -> list[str]:
        """The measurands of clock-aligned values, or of sampled ones."""
        if clock:
            return self._measurands("AlignedDataCtrlr", "Measurands")
        return self._measurands("SampledDataCtrlr", "TxUpdatedMeasurands")

    async def _start_transaction(self, sess: Session) -> bool:
        """TransactionEvent Started; False if the central system refused the id token."""
        conn = self.connectors[sess.connector_id]
        if sess.interrupted and sess.transaction_id is not None:
            # The power cut ended the transaction: said once the station is back.
            lost = self._event(
                sess,
                TransactionEventEnumType.ended,
                TriggerReasonEnumType.abnormal_condition,
                context=ReadingContextEnumType.transaction_end,
                measurands=self._measurands("SampledDataCtrlr", "TxEndedMeasurands"),
                stopped=ReasonEnumType.power_loss,
            )
            await self._send_tx(lost, wait=False)
        sess.interrupted = False
        sess.wakeup.clear()
        sess.transaction_id = self._new_transaction_id()
        sess.seq_no = 0
        sess.transaction_started = None
        sess.transaction_ids.append(sess.transaction_id)
        remote = sess.remote_start_id is not None and len(sess.transaction_ids) == 1
        trigger = TriggerReasonEnumType.remote_start if remote else TriggerReasonEnumType.authorized
        started = self._event(
            sess,
            TransactionEventEnumType.started,
            trigger,
            context=ReadingContextEnumType.transaction_begin,
            measurands=self._measurands("SampledDataCtrlr", "TxStartedMeasurands"),
        )
        sess.transaction_started = parse_time(started.timestamp)
        resp = await self._send_tx(started)
        status = (resp.id_token_info or {}).get("status", "Accepted") if resp else "Accepted"
        if status != "Accepted":
            self._log.warning(
                "connector %d: id token %s %s; ending transaction %s",
                conn.connector_id,
                sess.id_tag,
                status,
                sess.transaction_id,
            )
            sess.stop_reason = ReasonEnumType.de_authorized
            await self._stop_transaction(sess)
            if not sess.started.done():
                sess.started.set_exception(SessionError(f"id token {status}"))
            return False
        self._log.info(
            "connector %d: transaction %s started, meter %d Wh",
            conn.connector_id,
            sess.transaction_id,
            round(conn.meter_wh),
        )
        if sess.charging_profile is not None:  # RequestStart's TxProfile, for this transaction
            ours = {"transaction_id": sess.transaction_id}
            profile = {**sess.charging_profile, **ours}
            profile["v201"] = {**profile["v201"], **ours}  # as reported
            self.profiles.install(conn.connector_id, profile)
        offered, _ = self._offered(conn)
        charging = offered >= MIN_CHARGING_AMPS
        await self._set_status(
            conn, ChargePointStatus.charging if charging else ChargePointStatus.suspended_evse
        )
        if not sess.started.done():
            sess.started.set_result(sess.transaction_id)
        return True

    async def _charge(self, sess: Session) -> bool:
        """Meter until done or stopped (True) or the transaction is lost (False)."""
        conn = self.connectors[sess.connector_id]
        last = time.monotonic()
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
            updated = self._event(
                sess,
                TransactionEventEnumType.updated,
                TriggerReasonEnumType.meter_value_periodic,
                context=ReadingContextEnumType.sample_periodic,
                measurands=self._measurands("SampledDataCtrlr", "TxUpdatedMeasurands"),
            )
            await self._send_tx(updated, wait=False)
            done = sess.delivered_wh / sess.target_wh
            if self.fault and not sess.fault_done and done >= 0.5:
                sess.fault_done = True
                self._log.warning("injecting fault %r halfway", str(self.fault))
                if self.fault is Fault.REBOOT:
                    self.power_cycle()
                    return False
                self.go_offline(self.offline_intervals * self.interval)

    async def _stop_transaction(self, sess: Session) -> None:
        conn = self.connectors[sess.connector_id]
        # A full car is unplugged: the transaction ends when the EV departs.
        reason = _reason(sess.stop_reason) if sess.stop_reason else ReasonEnumType.ev_disconnected
        ended = self._event(
            sess,
            TransactionEventEnumType.ended,
            TRIGGERS.get(reason, TriggerReasonEnumType.abnormal_condition),
            context=ReadingContextEnumType.transaction_end,
            measurands=self._measurands("SampledDataCtrlr", "TxEndedMeasurands"),
            stopped=reason,
        )
        self._log.info(
            "connector %d: transaction %s ended (%s), meter %d Wh, %.0f Wh delivered",
            conn.connector_id,
            sess.transaction_id,
            reason,
            round(conn.meter_wh),
            sess.delivered_wh,
        )
        if self.online:
            with contextlib.suppress(OCPPError, TimeoutError):
                async with asyncio.timeout(self.response_timeout):
                    await self._send_tx(ended)
        else:
            await self._send_tx(ended, wait=False)
        sess.transaction_id = None

    async def _update_charging_status(self, conn: Connector) -> None:
        want = ChargePointStatus.charging if conn.power_w > 0 else ChargePointStatus.suspended_evse
        if conn.status != want:
            await self._set_status(conn, want)

    async def send_transaction_event(self, conn: Connector, trigger: str) -> bool:
        """An Updated event of the connector's running transaction now; False if none."""
        sess = conn.session
        if sess is None or sess.transaction_id is None:
            return False
        self._measure(conn, 0.0)
        clock = trigger == TriggerReasonEnumType.meter_value_clock
        event = self._event(
            sess,
            TransactionEventEnumType.updated,
            trigger,
            context=ReadingContextEnumType.sample_clock
            if clock
            else ReadingContextEnumType.trigger,
            measurands=self._sampled(clock=clock),
        )
        await self._send_tx(event, wait=False)
        return True

    async def send_meter_values(self, conn: Connector, context: ReadingContextEnumType) -> None:
        """A MeterValues message of an EVSE (not tied to a transaction)."""
        self._measure(conn, 0.0)
        measurands = self._sampled(clock=context == ReadingContextEnumType.sample_clock)
        await self._send(
            call.MeterValues(
                evse_id=conn.connector_id,
                meter_value=[meter_value(self, conn, context, measurands)],
            )
        )

    async def _aligned_loop(self, link: LinkBase) -> None:
        """Every AlignedDataCtrlr.Interval seconds: each EVSE's clock-aligned values."""
        while True:
            self._aligned_wakeup.clear()
            seconds = self.device_model.number("AlignedDataCtrlr", "Interval")
            enabled = self.device_model.value("AlignedDataCtrlr", "Enabled") == "true"
            if seconds <= 0 or not enabled:
                await self._aligned_wakeup.wait()
                continue
            try:
                async with asyncio.timeout(seconds):
                    await self._aligned_wakeup.wait()
            except TimeoutError:
                pass
            else:
                continue  # the interval changed: wait anew
            for conn in self.connectors.values():
                if not await self.send_transaction_event(
                    conn, TriggerReasonEnumType.meter_value_clock
                ):
                    await self.send_meter_values(conn, ReadingContextEnumType.sample_clock)


def _reason(value: str) -> ReasonEnumType:
    """A stop reason in 2.0.1's words (1.6's SoftReset and the like are Other)."""
    try:
        return ReasonEnumType(str(value))
    except ValueError:
        return ReasonEnumType.other
