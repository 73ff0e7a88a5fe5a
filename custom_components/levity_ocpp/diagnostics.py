"""Diagnostics: a charge point's identity, configuration, connections and recent frames."""

from __future__ import annotations

import json
import re
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .central import LevityConfigEntry, charge_point_identifier, connector_identifier
from .csms.model import ChargePoint
from .store import charge_point_to_dict

TO_REDACT = {
    "iccid",
    "imsi",
    "serial_number",
    "meter_serial_number",
    "remote_address",
    "id_tag",
    "stop_id_tag",
}
# Configuration keys whose values are secrets (1.6 security profiles and vendor keys).
SECRET_KEY = re.compile(r"(?i)(authorizationkey|password|secret|token|apn.*pass)")
# The same personal values as OCPP payload fields; id tags are residents' RFID cards.
FRAME_FIELDS_TO_REDACT = frozenset(
    {
        "idTag",
        "parentIdTag",
        "chargeBoxSerialNumber",
        "chargePointSerialNumber",
        "meterSerialNumber",
        "iccid",
        "imsi",
    }
)
# For frames that are not JSON: the fields above as `"name": "value"`.
FIELD_IN_BROKEN_FRAME = re.compile(
    r'("(?:' + "|".join(sorted(FRAME_FIELDS_TO_REDACT)) + r')"\s*:\s*)"[^"]*"'
)
REDACTED = "**REDACTED**"


def _redact_payload(value: Any) -> Any:
    """Hide personal fields and secret configuration values anywhere in a payload."""
    if isinstance(value, list):
        return [_redact_payload(item) for item in value]
    if not isinstance(value, dict):
        return value
    redacted = {
        key: REDACTED if key in FRAME_FIELDS_TO_REDACT else _redact_payload(item)
        for key, item in value.items()
    }
    # {"key": "AuthorizationKey", "value": ...} in GetConfiguration and ChangeConfiguration.
    if isinstance(value.get("key"), str) and SECRET_KEY.search(value["key"]) and "value" in value:
        redacted["value"] = REDACTED
    return redacted


def _redact_frame(text: str) -> str:
    try:
        frame = json.loads(text)
    except ValueError:
        return FIELD_IN_BROKEN_FRAME.sub(rf'\1"{REDACTED}"', text)
    return json.dumps(_redact_payload(frame), separators=(",", ":"))


def charge_point_diagnostics(charge_point: ChargePoint) -> dict[str, Any]:
    """Everything useful to debug one charger, with personal and secret values hidden."""
    data = charge_point_to_dict(charge_point)
    data["configuration"] = {
        key: {**item, "value": REDACTED} if SECRET_KEY.search(key) else item
        for key, item in data["configuration"].items()
    }
    data["connected"] = charge_point.connected
    data["anomalies"] = [
        {"time": anomaly.time.isoformat(), "description": anomaly.description}
        for anomaly in charge_point.anomalies
    ]
    data["open_transactions"] = [
        connector.transaction.record()
        for connector in charge_point.connectors.values()
        if connector.transaction is not None
    ]
    data["frames"] = [
        {
            "time": frame.time.isoformat(),
            "direction": frame.direction.value,
            "frame": _redact_frame(frame.text),
        }
        for frame in charge_point.frames
    ]
    return async_redact_data(data, TO_REDACT)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LevityConfigEntry
) -> dict[str, Any]:
    """The central system's settings and a summary of each charge point."""
    central = entry.runtime_data
    return {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "listening_port": central.central_system.bound_port,
        "charge_points": {
            cp.id: {
                "connected": cp.connected,
                "vendor": cp.vendor,
                "model": cp.model,
                "firmware_version": cp.firmware_version,
                "connectors": cp.connector_ids,
            }
            for cp in central.charge_points.values()
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: LevityConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Diagnostics of the charge point behind a device."""
    central = entry.runtime_data
    for charge_point in central.charge_points.values():
        if charge_point_identifier(entry.entry_id, charge_point.id) in device.identifiers:
            return charge_point_diagnostics(charge_point)
        # A connector's device: its charger's diagnostics, saying which connector.
        for connector_id in charge_point.connector_ids:
            if connector_identifier(entry.entry_id, charge_point.id, connector_id) in (
                device.identifiers
            ):
                return {"connector_id": connector_id, **charge_point_diagnostics(charge_point)}
    return {"error": "this device is not a known charge point"}
