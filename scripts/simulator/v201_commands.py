"""Answering an OCPP 2.0.1 central system's commands (other than smart charging).

Each ``v201_<action>`` answers at once and hands follow-up messages to
``link.defer`` so that they go out after the CALLRESULT.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    BootReasonEnumType,
    ChargingProfilePurposeEnumType,
    DataTransferStatusEnumType,
    FirmwareStatusEnumType,
    GenericDeviceModelStatusEnumType,
    MessageTriggerEnumType,
    OperationalStatusEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    RequestStartStopStatusEnumType,
    ResetEnumType,
    ResetStatusEnumType,
    TriggerMessageStatusEnumType,
    TriggerReasonEnumType,
    UnlockStatusEnumType,
    UploadLogStatusEnumType,
)

from .model import Disconnected, Session, SessionError, now_iso
from .v201_device_model import ITEMS_PER_MESSAGE

if TYPE_CHECKING:
    from .charge_point import LinkBase

TRIGGERED = TriggerMessageStatusEnumType


class Commands:
    """Mixin of :class:`~.v201_core.SimulatedChargingStation`: remote control and
    the device model."""

    def v201_request_start_transaction(
        self,
        link: LinkBase,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        """Accept if an EVSE is free and start a session after replying (F01).

        A charging profile must be a valid TxProfile; it is installed for the
        transaction once it has started.
        """
        rejected = call_result.RequestStartTransaction(RequestStartStopStatusEnumType.rejected)
        stacked = None
        if charging_profile is not None:
            problem = self.profile_refusal(None, charging_profile)
            if (
                charging_profile["charging_profile_purpose"]
                != ChargingProfilePurposeEnumType.tx_profile
            ):
                problem = "the charging profile of a remote start must be a TxProfile"
            if problem:
                self._log.warning("RequestStartTransaction rejected: %s", problem)
                return rejected
            stacked = self.stack_profile(charging_profile)
        for n in [evse_id] if evse_id else list(self.connectors):
            try:
                sess = self._new_session(n, id_token["id_token"], None)
            except (ValueError, SessionError) as err:
                self._log.info("RequestStartTransaction: not on EVSE %s: %s", n, err)
                continue
            sess.charging_profile = stacked
            sess.remote_start_id = remote_start_id
            sess.id_token_type = id_token["type"]

            async def launch(sess: Session = sess) -> None:
                self._launch(sess)

            link.defer(launch())
            return call_result.RequestStartTransaction(RequestStartStopStatusEnumType.accepted)
        return rejected

    def v201_request_stop_transaction(
        self, link: LinkBase, transaction_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        """Accept if the transaction runs here and stop it after replying (F03)."""
        for conn in self.connectors.values():
            if (sess := conn.session) and sess.transaction_id == transaction_id:

                async def stop(sess: Session = sess) -> None:
                    self._request_stop(sess, ReasonEnumType.remote)

                link.defer(stop())
                return call_result.RequestStopTransaction(RequestStartStopStatusEnumType.accepted)
        self._log.warning("RequestStopTransaction: no transaction %s here", transaction_id)
        return call_result.RequestStopTransaction(RequestStartStopStatusEnumType.rejected)

    def v201_reset(
        self, link: LinkBase, type: str, evse_id: int | None = None, **_: Any
    ) -> call_result.Reset:
        """Immediate: end the transactions and reboot (the EVSE: restart it); OnIdle:
        the same once they have ended (Scheduled until then). B11, B12."""
        if evse_id and evse_id not in self.connectors:
            return call_result.Reset(ResetStatusEnumType.rejected)
        conns = [self.connectors[evse_id]] if evse_id else list(self.connectors.values())
        busy = [conn.session for conn in conns if conn.session is not None]
        immediate = type == ResetEnumType.immediate

        async def reset() -> None:
            if immediate:
                for sess in busy:
                    self._request_stop(sess, ReasonEnumType.immediate_reset)
            for sess in busy:
                await sess.finished.wait()
            if evse_id:
                self._log.warning("EVSE %d reset", evse_id)
                conn = self.connectors[evse_id]
                await self._set_status(conn, self._idle_status(conn))
                return
            self._log.warning("%s reset: rebooting", type)
            self.boot_reason = BootReasonEnumType.remote_reset
            self._reboot(abort=False)

        if busy and not immediate:
            self.spawn(reset())
            return call_result.Reset(ResetStatusEnumType.scheduled)
        link.defer(reset())
        return call_result.Reset(ResetStatusEnumType.accepted)

    def v201_unlock_connector(
        self, link: LinkBase, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        """Unlocked, unless a transaction is under way there (F05.FR.02)."""
        conn = self.connectors.get(evse_id)
        if conn is None or connector_id != 1:
            return call_result.UnlockConnector(UnlockStatusEnumType.unknown_connector)
        if conn.session is not None and conn.session.transaction_id is not None:
            return call_result.UnlockConnector(UnlockStatusEnumType.ongoing_authorized_transaction)
        return call_result.UnlockConnector(UnlockStatusEnumType.unlocked)

    def v201_change_availability(
        self,
        link: LinkBase,
        operational_status: str,
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ChangeAvailability:
        """Switch EVSEs (none named: all) in or out of service; Scheduled if busy (G03)."""
        operative = operational_status == OperationalStatusEnumType.operative
        status = self.change_availability(link, (evse or {}).get("id", 0), operative)
        return call_result.ChangeAvailability(status)

    def v201_trigger_message(
        self,
        link: LinkBase,
        requested_message: str,
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.TriggerMessage:
        """Send what was asked for after replying (F06)."""
        evse_id = (evse or {}).get("id")
        if evse_id is not None and evse_id not in self.connectors:
            return call_result.TriggerMessage(TRIGGERED.rejected)
        conns = [self.connectors[evse_id]] if evse_id else list(self.connectors.values())
        match requested_message:
            case MessageTriggerEnumType.boot_notification:
                self.boot_reason = BootReasonEnumType.triggered
                link.defer(self._boot_again())
            case MessageTriggerEnumType.heartbeat:
                link.defer(self._send_call(call.Heartbeat()))
            case MessageTriggerEnumType.status_notification:
                if evse_id is None or (evse or {}).get("connector_id") is None:
                    return call_result.TriggerMessage(TRIGGERED.rejected)  # F06.FR.12
                link.defer(self._notify_status(evse_id))
            case MessageTriggerEnumType.meter_values:
                link.defer(self._each(conns, ReadingContextEnumType.trigger))
            case MessageTriggerEnumType.transaction_event:
                running = [conn for conn in conns if conn.session and conn.session.transaction_id]
                if not running:
                    return call_result.TriggerMessage(TRIGGERED.rejected)
                link.defer(self._events(running))
            case MessageTriggerEnumType.log_status_notification:
                link.defer(
                    self._send_call(call.LogStatusNotification(UploadLogStatusEnumType.idle))
                )
            case MessageTriggerEnumType.firmware_status_notification:
                link.defer(
                    self._send_call(call.FirmwareStatusNotification(FirmwareStatusEnumType.idle))
                )
            case _:
                return call_result.TriggerMessage(TRIGGERED.not_implemented)
        return call_result.TriggerMessage(TRIGGERED.accepted)

    async def _send_call(self, payload: Any) -> None:
        await self._send(payload)

    async def _boot_again(self) -> None:
        if (link := self._link) is not None:
            with contextlib.suppress(Disconnected):
                await self._boot(link)

    async def _each(self, conns: list[Any], context: ReadingContextEnumType) -> None:
        for conn in conns:
            await self.send_meter_values(conn, context)

    async def _events(self, conns: list[Any]) -> None:
        for conn in conns:
            await self.send_transaction_event(conn, TriggerReasonEnumType.trigger)

    def v201_get_transaction_status(
        self, link: LinkBase, transaction_id: str | None = None, **_: Any
    ) -> call_result.GetTransactionStatus:
        """Whether a transaction still runs, and whether messages about it (or any
        transaction) are still queued to be sent (E14)."""
        queued = [
            item.payload
            for item in self._tx_queue
            if isinstance(item.payload, call.TransactionEvent)
        ]
        if transaction_id is None:
            return call_result.GetTransactionStatus(messages_in_queue=bool(queued))
        ongoing = any(
            conn.session is not None and conn.session.transaction_id == transaction_id
            for conn in self.connectors.values()
        )
        return call_result.GetTransactionStatus(
            messages_in_queue=any(
                event.transaction_info.transaction_id == transaction_id for event in queued
            ),
            ongoing_indicator=ongoing,
        )

    def v201_data_transfer(
        self,
        link: LinkBase,
        vendor_id: str,
        message_id: str | None = None,
        data: Any = None,
        **_: Any,
    ) -> call_result.DataTransfer:
        """Echo the data back for a configured vendor id; UnknownVendorId otherwise."""
        if vendor_id not in self.behaviour.vendor_ids:
            return call_result.DataTransfer(DataTransferStatusEnumType.unknown_vendor_id)
        return call_result.DataTransfer(DataTransferStatusEnumType.accepted, data=data)

    def v201_get_variables(
        self, link: LinkBase, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        """Each variable's value, or why not (B06)."""
        _at_most(len(get_variable_data), "GetVariables")
        return call_result.GetVariables([self.device_model.get(item) for item in get_variable_data])

    def v201_set_variables(
        self, link: LinkBase, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        """Change each variable, or say why not (B05)."""
        _at_most(len(set_variable_data), "SetVariables")
        return call_result.SetVariables([self.device_model.set(item) for item in set_variable_data])

    def v201_get_base_report(
        self, link: LinkBase, request_id: int, report_base: str, **_: Any
    ) -> call_result.GetBaseReport:
        """Accepted, then the report in NotifyReport parts (B07)."""
        entries = self.device_model.report(report_base)
        if entries is None:
            return call_result.GetBaseReport(GenericDeviceModelStatusEnumType.empty_result_set)
        parts = [
            entries[start : start + ITEMS_PER_MESSAGE]
            for start in range(0, len(entries), ITEMS_PER_MESSAGE)
        ]

        async def report() -> None:
            for seq_no, part in enumerate(parts):
                # Sent even while Pending: a CSMS asks for the report before accepting.
                await self._send_now(
                    call.NotifyReport(
                        request_id=request_id,
                        generated_at=now_iso(),
                        seq_no=seq_no,
                        report_data=part,
                        tbc=seq_no < len(parts) - 1,
                    )
                )
                await asyncio.sleep(0)

        link.defer(report())
        return call_result.GetBaseReport(GenericDeviceModelStatusEnumType.accepted)

    async def _send_now(self, payload: Any) -> None:
        """Send on the current connection, booted or not (dropped without one)."""
        if (link := self._link) is None:
            return
        with contextlib.suppress(Disconnected):
            await self._call_logged(link, payload)


def _at_most(items: int, action: str) -> None:
    if items > ITEMS_PER_MESSAGE:  # ItemsPerMessage<action>
        raise OccurrenceConstraintViolationError(
            details={"cause": f"{action} takes at most {ITEMS_PER_MESSAGE} items, not {items}"}
        )
