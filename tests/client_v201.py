"""A test charging station speaking OCPP 2.0.1: a real `ocpp` library client on a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from ocpp.exceptions import InternalError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    ConnectorStatusEnumType,
    GenericDeviceModelStatusEnumType,
    RegistrationStatusEnumType,
    RequestStartStopStatusEnumType,
    TriggerMessageStatusEnumType,
)
from websockets.asyncio.client import ClientConnection, connect

T0 = datetime(2026, 11, 1, 10, 15, tzinfo=UTC)
V201 = "ocpp2.0.1"


def stamp(minutes: float) -> str:
    """A charger timestamp, minutes after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def variable(
    component: str,
    name: str,
    value: str | None,
    *,
    evse: int | None = None,
    connector: int | None = None,
    mutability: str = "ReadOnly",
    instance: str | None = None,
) -> dict[str, Any]:
    """One reportData entry (wire format: camelCase) of a NotifyReport."""
    where: dict[str, Any] = {"name": component}
    if evse is not None:
        where["evse"] = {"id": evse}
        if connector is not None:
            where["evse"]["connectorId"] = connector
    attribute: dict[str, Any] = {"type": "Actual", "mutability": mutability}
    if value is not None:
        attribute["value"] = value
    named: dict[str, Any] = {"name": name}
    if instance is not None:
        named["instance"] = instance
    return {"component": where, "variable": named, "variableAttribute": [attribute]}


def device_model(evses: int = 1) -> list[dict[str, Any]]:
    """What a typical AC wallbox reports for GetBaseReport(FullInventory)."""
    report = [
        variable("SmartChargingCtrlr", "Enabled", "true", mutability="ReadWrite"),
        variable("SmartChargingCtrlr", "ProfileStackLevel", "8"),
        variable("SmartChargingCtrlr", "RateUnit", "A,W"),
        variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24"),
        variable("SmartChargingCtrlr", "Phases3to1", "false"),
        variable("SampledDataCtrlr", "TxUpdatedInterval", "60", mutability="ReadWrite"),
        variable(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            "Energy.Active.Import.Register,Power.Active.Import",
            mutability="ReadWrite",
        ),
        variable("AlignedDataCtrlr", "Interval", "900", mutability="ReadWrite"),
        variable("TxCtrlr", "TxStartPoint", "PowerPathClosed", mutability="ReadWrite"),
        variable("TxCtrlr", "EVConnectionTimeOut", "60", mutability="ReadWrite"),
        variable("AuthCtrlr", "AuthorizeRemoteStart", "false", mutability="ReadWrite"),
        variable("AuthCtrlr", "LocalPreAuthorize", "false", mutability="ReadWrite"),
        variable("OCPPCommCtrlr", "HeartbeatInterval", "60", mutability="ReadWrite"),
        variable("OCPPCommCtrlr", "MessageTimeout", "30", instance="Default"),
        variable("SecurityCtrlr", "BasicAuthPassword", None, mutability="WriteOnly"),
    ]
    for evse in range(1, evses + 1):
        report += [
            variable("EVSE", "AvailabilityState", "Available", evse=evse),
            variable("Connector", "ConnectorType", "cType2", evse=evse, connector=1),
        ]
    return report


class TestChargePointV201(ChargePoint):
    """An OCPP 2.0.1 charging station driven by a test.

    It answers GetBaseReport with `report` (in two NotifyReport parts), and
    GetTransactionStatus, RequestStart/StopTransaction and TriggerMessage as a
    simple station would; what it was asked is kept for the test.
    """

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start with a one-EVSE device model."""
        super().__init__(*args, **kwargs)
        self.report: list[dict[str, Any]] = device_model()
        self.report_status = GenericDeviceModelStatusEnumType.accepted
        self.report_sent = asyncio.Event()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        # transactionId -> (messagesInQueue, ongoingIndicator)
        self.transaction_status: dict[str, tuple[bool, bool | None]] = {}
        self.status_asked = asyncio.Event()
        self.transaction_status_fails = False
        self.seq_no = 0

    @property
    def connection(self) -> ClientConnection:
        """The raw WebSocket, for frames the library would never send."""
        return self._connection

    async def boot(self, reason: str = "PowerUp", *, wait_report: bool = True) -> Any:
        """Boot; once accepted, wait until the device model report was sent."""
        self.report_sent.clear()
        reply = await self.call(
            call.BootNotification(
                charging_station={
                    "vendor_name": "Elecq",
                    "model": "AU101",
                    "serial_number": "SN-0042",
                    "firmware_version": "2.1.7",
                },
                reason=reason,
            ),
            suppress=False,
        )
        if wait_report and reply.status == RegistrationStatusEnumType.accepted:
            await asyncio.wait_for(self.report_sent.wait(), 5)
        return reply

    async def status(
        self,
        evse: int,
        status: ConnectorStatusEnumType | str = ConnectorStatusEnumType.available,
        *,
        connector: int = 1,
        minutes: float | None = None,
    ) -> Any:
        """Send a StatusNotification (stamped now unless `minutes` after T0)."""
        when = stamp(minutes) if minutes is not None else datetime.now(UTC).isoformat()
        return await self.call(
            call.StatusNotification(
                timestamp=when, connector_status=status, evse_id=evse, connector_id=connector
            ),
            suppress=False,
        )

    async def event(
        self,
        event_type: str,
        transaction_id: str,
        minutes: float,
        *,
        trigger: str = "MeterValuePeriodic",
        seq_no: int | None = None,
        meter: list[dict[str, Any]] | None = None,
        evse: int | None = 1,
        id_token: str | None = None,
        **info: Any,
    ) -> Any:
        """Send a TransactionEvent; seqNo counts on by itself unless given."""
        if seq_no is None:
            seq_no = self.seq_no
            self.seq_no += 1
        fields: dict[str, Any] = {}
        if meter:
            fields["meter_value"] = meter
        if evse is not None:
            fields["evse"] = {"id": evse, "connector_id": 1}
        if id_token is not None:
            fields["id_token"] = {"id_token": id_token, "type": "ISO14443"}
        offline = info.pop("offline", None)
        if offline is not None:
            fields["offline"] = offline
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=stamp(minutes),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info={"transaction_id": transaction_id, **info},
                **fields,
            ),
            suppress=False,
        )

    async def meter_values(self, evse: int, *samples: dict[str, Any]) -> Any:
        """Send a MeterValues (outside any TransactionEvent)."""
        return await self.call(
            call.MeterValues(evse_id=evse, meter_value=list(samples)), suppress=False
        )

    async def raw(self, frame: list[Any], timeout: float = 5) -> list[Any]:  # noqa: ASYNC109
        """Send a raw frame and return the next frame (only while the reader is not running)."""
        await self._connection.send(json.dumps(frame))
        return json.loads(await asyncio.wait_for(self._connection.recv(), timeout))

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str) -> call_result.GetBaseReport:
        """Accept; the report follows."""
        self.requests.append(("GetBaseReport", {"report_base": report_base}))
        return call_result.GetBaseReport(status=self.report_status)

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, report_base: str) -> None:
        """Send the report in two parts, as stations with many variables do."""
        if self.report_status != GenericDeviceModelStatusEnumType.accepted:
            self.report_sent.set()
            return
        half = len(self.report) // 2
        for seq_no, (part, more) in enumerate(
            ((self.report[:half], True), (self.report[half:], False))
        ):
            await self.call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=datetime.now(UTC).isoformat(),
                    seq_no=seq_no,
                    report_data=part,
                    tbc=more,
                ),
                suppress=False,
            )
        self.report_sent.set()

    @on(Action.get_transaction_status)
    def on_get_transaction_status(
        self, transaction_id: str | None = None
    ) -> call_result.GetTransactionStatus:
        """Say whether the transaction goes on and whether events are queued for it."""
        self.requests.append(("GetTransactionStatus", {"transaction_id": transaction_id}))
        if self.transaction_status_fails:
            raise InternalError(description="queue unreadable")
        queued, ongoing = self.transaction_status.get(transaction_id or "", (False, None))
        self.status_asked.set()
        return call_result.GetTransactionStatus(messages_in_queue=queued, ongoing_indicator=ongoing)

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, **fields: Any) -> call_result.RequestStartTransaction:
        """Accept a remote start (the test sends the events that follow)."""
        self.requests.append(("RequestStartTransaction", fields))
        return call_result.RequestStartTransaction(status=RequestStartStopStatusEnumType.accepted)

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str
    ) -> call_result.RequestStopTransaction:
        """Accept a remote stop (the test sends the Ended that follows)."""
        self.requests.append(("RequestStopTransaction", {"transaction_id": transaction_id}))
        return call_result.RequestStopTransaction(status=RequestStartStopStatusEnumType.accepted)

    @on(Action.trigger_message)
    def on_trigger_message(self, **fields: Any) -> call_result.TriggerMessage:
        """Accept; a test sends what was asked for."""
        self.requests.append(("TriggerMessage", fields))
        return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.accepted)


def sampled(
    energy_wh: float | None = None,
    *,
    power_w: float | None = None,
    context: str | None = None,
    unit: str = "Wh",
    multiplier: int = 0,
) -> list[dict[str, Any]]:
    """Sampled values (wire format) of an energy register and power."""
    values: list[dict[str, Any]] = []
    if energy_wh is not None:
        value: dict[str, Any] = {
            "value": energy_wh,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": unit, "multiplier": multiplier},
        }
        values.append(value)
    if power_w is not None:
        values.append(
            {"value": power_w, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}
        )
    if context is not None:
        for value in values:
            value["context"] = context
    return values


def meter(minutes: float, *values: dict[str, Any]) -> dict[str, Any]:
    """One meterValue (wire format) taken `minutes` after T0."""
    return {"timestamp": stamp(minutes), "sampledValue": list(values)}


@contextlib.asynccontextmanager
async def connect_v201(
    port: int,
    path: str = "/CP1",
    *,
    subprotocols: list[str] | None = None,
    start: bool = True,
    headers: dict[str, str] | None = None,
    station_class: type[TestChargePointV201] | None = None,
) -> AsyncIterator[TestChargePointV201]:
    """Open a WebSocket as a 2.0.1 charging station; `start` runs the library's reader.

    `headers` go with the handshake (Authorization).
    """
    offered = [V201] if subprotocols is None else subprotocols
    async with connect(
        f"ws://127.0.0.1:{port}{path}",
        subprotocols=offered or None,
        open_timeout=5,
        additional_headers=headers,
    ) as websocket:
        cls = station_class or TestChargePointV201
        station = cls(path.rstrip("/").rsplit("/", 1)[-1], websocket, 5)
        task = asyncio.create_task(station.start()) if start else None
        try:
            yield station
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
