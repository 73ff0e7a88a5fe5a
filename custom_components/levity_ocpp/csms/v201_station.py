"""OCPP 2.0.1 reports of the station about itself (blocks A, P, L, N).

Security and monitoring events, data transfers, firmware and log upload status.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any

from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action, DataTransferStatusEnumType

from .charger_clock import ChargerClock
from .hooks import CentralSystemHooks
from .model import ChargePoint, utcnow
from .timestamps import parse_timestamp
from .v16 import MAX_REPORTED_DATA
from .v201_status import firmware_status, log_status

# A NotifyEvent may carry any number of events: the first few are worth keeping.
MAX_EVENTS_PER_MESSAGE = 20


class StationReports:
    """Handlers of what a 2.0.1 station reports about itself (a mixin of ChargePointV201)."""

    model: ChargePoint
    _hooks: CentralSystemHooks
    _clock: ChargerClock

    @on(Action.security_event_notification)
    def on_security_event_notification(
        self,
        type: str,
        timestamp: str,
        tech_info: str | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.SecurityEventNotification:
        """A security event: an HA event for automations, and the diagnostics' log."""
        at = self._clock.not_ahead(parse_timestamp(timestamp) or utcnow())
        event = {"type": type, "timestamp": at.isoformat(), "tech_info": tech_info}
        self.model.record_event("security", event)
        self._hooks.charger_reported(self.model, "security_event", event)
        return call_result.SecurityEventNotification()

    @on(Action.notify_event)
    def on_notify_event(
        self,
        generated_at: str,
        seq_no: int,
        event_data: list[dict[str, Any]],
        tbc: bool | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.NotifyEvent:
        """Monitoring events (faults, alerts): kept for diagnostics, a bounded few."""
        for item in event_data[:MAX_EVENTS_PER_MESSAGE]:
            self.model.record_event("monitoring", _event_summary(item))
        if len(event_data) > MAX_EVENTS_PER_MESSAGE:
            self.model.record_event(
                "monitoring", {"skipped": len(event_data) - MAX_EVENTS_PER_MESSAGE}
            )
        return call_result.NotifyEvent()

    @on(Action.data_transfer)
    def on_data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: Any = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.DataTransfer:
        """Tell HA (an event) and the charger that no vendor extension is known here."""
        self.model.last_data_transfer = f"{vendor_id}/{message_id}" if message_id else vendor_id
        self.model.notify()
        report: dict[str, Any] = {"vendor_id": vendor_id, "message_id": message_id, "data": data}
        # 2.0.1 data is any JSON: bounded like 1.6's text (HA's recorder drops big events).
        text = data if isinstance(data, str) else json.dumps(data)
        if data is not None and len(text) > MAX_REPORTED_DATA:
            report |= {"data": text[:MAX_REPORTED_DATA], "data_truncated": len(text)}
        self._hooks.charger_reported(self.model, "data_transfer", report)
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(
        self,
        status: str,
        request_id: int | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.FirmwareStatusNotification:
        """Show how a firmware update goes (in 1.6's words; the event has the detail)."""
        self.model.firmware_status = firmware_status(status)
        self._hooks.charger_reported(
            self.model,
            "firmware_status",
            {"status": self.model.firmware_status, "reported_status": status},
        )
        self.model.notify()
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(
        self,
        status: str,
        request_id: int | None = None,
        custom_data: dict[str, Any] | None = None,
    ) -> call_result.LogStatusNotification:
        """Show how a diagnostics (log) upload goes."""
        self.model.diagnostics_status = log_status(status)
        self._hooks.charger_reported(
            self.model,
            "diagnostics_status",
            {"status": self.model.diagnostics_status, "reported_status": status},
        )
        self.model.notify()
        return call_result.LogStatusNotification()


def _event_summary(item: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a NotifyEvent's eventData worth showing, bounded in size."""
    component = item.get("component") or {}
    variable = item.get("variable") or {}
    evse = component.get("evse") or {}
    summary = {
        "event_id": item.get("event_id"),
        "timestamp": item.get("timestamp"),
        "trigger": item.get("trigger"),
        "component": component.get("name"),
        "evse_id": evse.get("id"),
        "variable": variable.get("name"),
        "actual_value": item.get("actual_value"),
        "tech_code": item.get("tech_code"),
        "tech_info": item.get("tech_info"),
        "cleared": item.get("cleared"),
    }
    return {key: value for key, value in summary.items() if value is not None}
