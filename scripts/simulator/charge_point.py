"""Answering the central system: the ``ocpp`` library link and the CALL handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import contextlib
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    AvailabilityType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    MessageTrigger,
    ReadingContext,
    Reason,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
)
from websockets.asyncio.client import ClientConnection

from .config import change_configuration, get_configuration
from .logs import FRAMES_LOGGER
from .model import Disconnected, Session, SessionError

if TYPE_CHECKING:
    from .core import SimulatedChargePoint

TRIGGERABLE = frozenset(
    (
        MessageTrigger.boot_notification,
        MessageTrigger.heartbeat,
        MessageTrigger.status_notification,
        MessageTrigger.meter_values,
        MessageTrigger.firmware_status_notification,
        MessageTrigger.diagnostics_status_notification,
    )
)


class Link(ChargePoint):
    """One websocket connection; routes the central system's CALLs to the sim.

    Handlers answer at once; work that sends messages of its own runs from the
    ``@after`` hooks, so the CALLRESULT goes out first, as the spec requires.
    """

    def __init__(self, sim: SimulatedChargePoint, ws: ClientConnection) -> None:
        super().__init__(
            sim.cp_id,
            ws,
            response_timeout=sim.response_timeout,
            logger=FRAMES_LOGGER,
        )
        self.sim = sim
        self.ws = ws
        self.serve_task: asyncio.Task[None] | None = None
        self.dropped = asyncio.Event()
        self.abort = False
        self.online = False
        self._deferred: Coroutine[Any, Any, None] | None = None

    def drop(self, *, abort: bool) -> None:
        """Stop sending; abort the socket now (power cut) or let the loop close it."""
        self.abort = abort
        self.online = False
        self.dropped.set()
        if abort and self.ws.transport is not None:
            self.ws.transport.abort()

    def defer(self, coro: Coroutine[Any, Any, None] | None) -> None:
        """Run ``coro`` once the CALLRESULT being built has been sent."""
        if self._deferred is not None:
            self._deferred.close()
        self._deferred = coro

    def _run_deferred(self, **_: Any) -> None:
        coro, self._deferred = self._deferred, None
        if coro is not None:
            self.sim.spawn(coro)

    @on(Action.get_configuration)
    def on_get_configuration(self, **kwargs: Any) -> call_result.GetConfiguration:
        return self.sim.handle_get_configuration(**kwargs)

    @on(Action.change_configuration)
    def on_change_configuration(self, **kwargs: Any) -> call_result.ChangeConfiguration:
        return self.sim.handle_change_configuration(**kwargs)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, **kwargs: Any) -> call_result.RemoteStartTransaction:
        return self.sim.handle_remote_start(self, **kwargs)

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, **kwargs: Any) -> call_result.RemoteStopTransaction:
        return self.sim.handle_remote_stop(self, **kwargs)

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.reset)
    def on_reset(self, **kwargs: Any) -> call_result.Reset:
        return self.sim.handle_reset(self, **kwargs)

    @after(Action.reset)
    def after_reset(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.change_availability)
    def on_change_availability(self, **kwargs: Any) -> call_result.ChangeAvailability:
        return self.sim.handle_change_availability(self, **kwargs)

    @after(Action.change_availability)
    def after_change_availability(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.trigger_message)
    def on_trigger_message(self, **kwargs: Any) -> call_result.TriggerMessage:
        return self.sim.handle_trigger_message(self, **kwargs)

    @after(Action.trigger_message)
    def after_trigger_message(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **kwargs: Any) -> call_result.UnlockConnector:
        return self.sim.handle_unlock_connector(self, **kwargs)

    @after(Action.unlock_connector)
    def after_unlock_connector(self, **kwargs: Any) -> None:
        self._run_deferred()

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **kwargs: Any) -> call_result.SetChargingProfile:
        return self.sim.handle_set_charging_profile(**kwargs)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        return self.sim.handle_clear_charging_profile(**kwargs)


class CallHandlers:
    """Mixin of :class:`~.core.SimulatedChargePoint`: how it answers each CALL."""

    def _received(self, action: str, **kwargs: Any) -> None:
        self.received_calls.append((action, kwargs))
        self._log.info("<- %s from central system: %s", action, kwargs or "{}")

    def handle_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        """Return all keys, or the requested ones plus the unknown ones."""
        self._received("GetConfiguration", key=key)
        return get_configuration(self.config, key)

    def handle_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        """Validate and store a key; apply intervals at once."""
        self._received("ChangeConfiguration", key=key, value=value)
        status = change_configuration(self.config, key, value)
        if status != ConfigurationStatus.accepted:
            return call_result.ChangeConfiguration(status)
        if key == "HeartbeatInterval":
            self.heartbeat_interval = float(value) or 60.0
            self._hb_wakeup.set()
        elif key == "MeterValueSampleInterval" and float(value) > 0:
            self.interval = float(value)
        return call_result.ChangeConfiguration(status)

    def handle_remote_start(
        self,
        link: Link,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        """Accept if a connector is free and start a session after replying."""
        self._received("RemoteStartTransaction", id_tag=id_tag, connector_id=connector_id)
        candidates = [connector_id] if connector_id else list(self.connectors)
        for n in candidates:
            try:
                sess = self._new_session(n, id_tag, None)
            except ValueError, SessionError:
                continue
            if charging_profile:
                self.connectors[n].profiles[charging_profile["charging_profile_id"]] = (
                    charging_profile
                )

            async def launch(sess: Session = sess) -> None:
                self._launch(sess)

            link.defer(launch())
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.accepted)
        return call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected)

    def handle_remote_stop(
        self, link: Link, transaction_id: int, **_: Any
    ) -> call_result.RemoteStopTransaction:
        """Accept if the transaction runs here and stop it after replying."""
        self._received("RemoteStopTransaction", transaction_id=transaction_id)
        for conn in self.connectors.values():
            if (sess := conn.session) and sess.transaction_id == transaction_id:

                async def stop(sess: Session = sess) -> None:
                    self._request_stop(sess, Reason.remote)

                link.defer(stop())
                return call_result.RemoteStopTransaction(RemoteStartStopStatus.accepted)
        return call_result.RemoteStopTransaction(RemoteStartStopStatus.rejected)

    def handle_reset(self, link: Link, type: str, **_: Any) -> call_result.Reset:
        """Accept; then stop transactions, disconnect and boot again."""
        self._received("Reset", type=type)
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
        self._received("ChangeAvailability", connector_id=connector_id, type=type)
        if connector_id and connector_id not in self.connectors:
            return call_result.ChangeAvailability(AvailabilityStatus.rejected)
        operative = type == AvailabilityType.operative
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
        status = AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted
        return call_result.ChangeAvailability(status)

    def handle_trigger_message(
        self,
        link: Link,
        requested_message: str,
        connector_id: int | None = None,
        **_: Any,
    ) -> call_result.TriggerMessage:
        """Accept the messages we can send and send them after replying."""
        self._received(
            "TriggerMessage", requested_message=requested_message, connector_id=connector_id
        )
        if connector_id and connector_id not in self.connectors:
            return call_result.TriggerMessage(TriggerMessageStatus.rejected)
        if requested_message not in TRIGGERABLE:
            return call_result.TriggerMessage(TriggerMessageStatus.not_implemented)
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
                await self._send(call.FirmwareStatusNotification(FirmwareStatus.idle))
            case MessageTrigger.diagnostics_status_notification:
                await self._send(call.DiagnosticsStatusNotification(DiagnosticsStatus.idle))

    def handle_unlock_connector(
        self, link: Link, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        """Unlock; a running transaction there stops with reason UnlockCommand."""
        self._received("UnlockConnector", connector_id=connector_id)
        conn = self.connectors.get(connector_id)
        if conn is None:
            return call_result.UnlockConnector(UnlockStatus.not_supported)
        if (sess := conn.session) is not None:

            async def stop(sess: Session = sess) -> None:
                self._request_stop(sess, Reason.unlock_command)

            link.defer(stop())
        return call_result.UnlockConnector(UnlockStatus.unlocked)

    def handle_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        """Store the profile; its first period's limit caps the offered current."""
        self._received(
            "SetChargingProfile",
            connector_id=connector_id,
            cs_charging_profiles=cs_charging_profiles,
        )
        profile = cs_charging_profiles
        purpose = profile["charging_profile_purpose"]
        if connector_id == 0:
            store = self.cp_profiles
        elif connector_id in self.connectors:
            conn = self.connectors[connector_id]
            if purpose == ChargingProfilePurposeType.tx_profile and conn.session is None:
                return call_result.SetChargingProfile(ChargingProfileStatus.rejected)
            store = conn.profiles
        else:
            return call_result.SetChargingProfile(ChargingProfileStatus.rejected)
        store[profile["charging_profile_id"]] = profile
        return call_result.SetChargingProfile(ChargingProfileStatus.accepted)

    def handle_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        """Remove the matching profiles (all without criteria); always Accepted."""
        self._received("ClearChargingProfile", **kwargs)
        criteria = {
            "charging_profile_id": kwargs.get("id"),
            "charging_profile_purpose": kwargs.get("charging_profile_purpose"),
            "stack_level": kwargs.get("stack_level"),
        }
        connector_id = kwargs.get("connector_id")
        stores = [self.cp_profiles] if connector_id in (None, 0) else []
        stores += [
            c.profiles for c in self.connectors.values() if connector_id in (None, c.connector_id)
        ]
        for store in stores:
            for pid, profile in list(store.items()):
                if all(v is None or profile.get(k) == v for k, v in criteria.items()):
                    del store[pid]
        return call_result.ClearChargingProfile(ClearChargingProfileStatus.accepted)
