"""Answering the central system's core and remote-trigger commands.

Each ``handle_<action>`` answers at once and hands follow-up messages to
``link.defer`` so that they go out after the CALLRESULT.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    AvailabilityStatus,
    AvailabilityType,
    ChargingProfilePurposeType,
    ConfigurationStatus,
    MessageTrigger,
    ReadingContext,
    Reason,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
)

from .config import change_configuration, get_configuration
from .model import Disconnected, Session, SessionError

if TYPE_CHECKING:
    from .charge_point import Link, LinkBase


class CoreCommands:
    """Mixin of :class:`~.core.SimulatedChargePoint`: the Core and RemoteTrigger commands."""

    def handle_get_configuration(
        self, link: Link, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        """Return all keys, or the requested ones plus the unknown ones."""
        return get_configuration(self.config, key)

    def handle_change_configuration(
        self, link: Link, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        """Validate and store a key; apply intervals at once."""
        status = change_configuration(self.config, key, value)
        if status != ConfigurationStatus.accepted:
            self._log.warning("ChangeConfiguration %s=%r: %s", key, value, status)
            return call_result.ChangeConfiguration(status)
        if key == "HeartbeatInterval":
            self.heartbeat_interval = float(value) or 60.0
            self._hb_wakeup.set()
        elif key == "MeterValueSampleInterval" and float(value) > 0:
            self.interval = float(value)
        return call_result.ChangeConfiguration(status)

    def handle_remote_start_transaction(
        self,
        link: Link,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        """Accept if a connector is free and start a session after replying.

        A charging profile must be a valid TxProfile; it is installed for the
        transaction once StartTransaction is answered.
        """
        rejected = call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected)
        if charging_profile is not None:
            problem = self._profile_problem(None, charging_profile)
            if (
                charging_profile["charging_profile_purpose"]
                != ChargingProfilePurposeType.tx_profile
            ):
                problem = "the charging profile of a remote start must be a TxProfile"
            if problem:
                self._log.warning("RemoteStartTransaction rejected: %s", problem)
                return rejected
        candidates = [connector_id] if connector_id else list(self.connectors)
        for n in candidates:
            try:
                sess = self._new_session(n, id_tag, None)
            except (ValueError, SessionError) as err:
                self._log.info("RemoteStartTransaction: not on connector %s: %s", n, err)
                continue
            sess.charging_profile = charging_profile

            async def launch(sess: Session = sess) -> None:
                self._launch(sess)

            link.defer(launch())
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.accepted)
        return rejected

    def handle_remote_stop_transaction(
        self, link: Link, transaction_id: int, **_: Any
    ) -> call_result.RemoteStopTransaction:
        """Accept if the transaction runs here and stop it after replying."""
        for conn in self.connectors.values():
            if (sess := conn.session) and sess.transaction_id == transaction_id:

                async def stop(sess: Session = sess) -> None:
                    self._request_stop(sess, Reason.remote)

                link.defer(stop())
                return call_result.RemoteStopTransaction(RemoteStartStopStatus.accepted)
        self._log.warning("RemoteStopTransaction: no transaction %d here", transaction_id)
        return call_result.RemoteStopTransaction(RemoteStartStopStatus.rejected)

    def handle_reset(self, link: Link, type: str, **_: Any) -> call_result.Reset:
        """Accept; then stop transactions, disconnect and boot again."""
        hard = type == ResetType.hard

        async def reset() -> None:
            await self._end_sessions(Reason.hard_reset if hard else Reason.soft_reset)
            self._log.warning("%s reset: rebooting", type.lower())
            self._reboot(abort=hard)

        link.defer(reset())
        return call_result.Reset(ResetStatus.accepted)

    def handle_change_availability(
        self, link: Link, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        """Switch connectors (0: all) in or out of service; Scheduled if busy."""
        status = self.change_availability(link, connector_id, type == AvailabilityType.operative)
        return call_result.ChangeAvailability(status)

    def change_availability(
        self, link: LinkBase, connector_id: int, operative: bool
    ) -> AvailabilityStatus:
        """Switch connectors (0: all) in or out of service (the same in 1.6 and 2.0.1)."""
        if connector_id and connector_id not in self.connectors:
            self._log.warning("ChangeAvailability: no connector %d", connector_id)
            return AvailabilityStatus.rejected
        targets = (
            list(self.connectors.values()) if connector_id == 0 else [self.connectors[connector_id]]
        )
        scheduled = False
        for conn in targets:
            if conn.session is not None and not operative:
                conn.inoperative_pending = True
                scheduled = True
            else:
                conn.inoperative_pending = False
                conn.operative = operative
        if connector_id == 0:
            self.operative = operative or scheduled

        async def notify() -> None:
            if connector_id == 0:
                await self._notify_status(0)
            for conn in targets:
                if conn.session is None:
                    await self._set_status(conn, self._idle_status(conn))

        link.defer(notify())
        return AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted

    def handle_trigger_message(
        self,
        link: Link,
        requested_message: str,
        connector_id: int | None = None,
        **_: Any,
    ) -> call_result.TriggerMessage:
        """Accept the messages we can send and send them after replying."""
        if connector_id and connector_id not in self.connectors:
            self._log.warning("TriggerMessage: no connector %d", connector_id)
            return call_result.TriggerMessage(TriggerMessageStatus.rejected)
        link.defer(self._send_triggered(MessageTrigger(requested_message), connector_id))
        return call_result.TriggerMessage(TriggerMessageStatus.accepted)

    async def _send_triggered(self, message: MessageTrigger, connector_id: int | None) -> None:
        conns = [self.connectors[connector_id]] if connector_id else list(self.connectors.values())
        match message:
            case MessageTrigger.boot_notification:
                link = self._link
                if link:
                    with contextlib.suppress(Disconnected):
                        await self._boot(link)
            case MessageTrigger.heartbeat:
                await self._send(call.Heartbeat())
            case MessageTrigger.status_notification:
                ids = [connector_id] if connector_id is not None else [0, *self.connectors]
                for n in ids:
                    await self._notify_status(n)
            case MessageTrigger.meter_values:
                for conn in conns:
                    self._measure(conn, 0.0)
                    await self._send(
                        call.MeterValues(
                            connector_id=conn.connector_id,
                            transaction_id=conn.session.transaction_id if conn.session else None,
                            meter_value=[self._meter_value(conn, ReadingContext.trigger)],
                        )
                    )
            case MessageTrigger.firmware_status_notification:
                await self._send(call.FirmwareStatusNotification(self.firmware_status))
            case MessageTrigger.diagnostics_status_notification:
                await self._send(call.DiagnosticsStatusNotification(self.diagnostics_status))

    def handle_unlock_connector(
        self, link: Link, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        """Unlock; a running transaction there stops with reason UnlockCommand."""
        conn = self.connectors.get(connector_id)
        if conn is None:
            self._log.warning("UnlockConnector: no connector %d", connector_id)
            return call_result.UnlockConnector(UnlockStatus.not_supported)
        if (sess := conn.session) is not None:

            async def stop(sess: Session = sess) -> None:
                self._request_stop(sess, Reason.unlock_command)

            link.defer(stop())
        return call_result.UnlockConnector(UnlockStatus.unlocked)
