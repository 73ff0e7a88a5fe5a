"""Diagnostics: a charge point's identity, configuration, connections and recent frames.

What is shared hides personal and secret values, URL queries (chargers put
tokens there) and the charge point id, which identifies a charger like a serial
number does: wherever it appears, as a value, a dict key, a path segment or
inside a frame. Id tags are residents' cards: hidden wherever they are (sessions,
frames, local lists), and of the user's tags only whether each is blocked or
expires is shown, not the tag, its name, group or person.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, unquote

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .central import LevityConfigEntry
from .csms.framelog import Frame
from .csms.model import ChargePoint
from .csms.paths import redact_query
from .csms.redaction import redact_secrets
from .id_tag_settings import id_tag_subentries
from .store import charge_point_to_dict

TO_REDACT = {
    "iccid",
    "imsi",
    "serial_number",
    "meter_serial_number",
    "remote_address",
    "id_tag",
    "stop_id_tag",
    "parent_id_tag",
    # Charge point passwords (security profiles 1 and 2), wherever they appear.
    "password",
    "previous_password",
}
# What an id tag subentry says about a person: the tag, its name, group and person.
ID_TAG_FIELDS_TO_REDACT = {"id_tag", "name", "parent_id_tag", "person"}
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
# For frames that are not JSON: the fields above as `"name": "value"`, the value
# possibly cut off by the end of a long frame's logged start.
FIELD_IN_BROKEN_FRAME = re.compile(
    r'("(?:' + "|".join(sorted(FRAME_FIELDS_TO_REDACT)) + r')"\s*:\s*)"[^"]*(?:"|$)'
)
REDACTED = "**REDACTED**"
# A shorter id is hidden only where it is a whole value: as part of other text
# ("1" in every timestamp) hiding it would destroy the frames and tell nothing.
MIN_ID_LENGTH_HIDDEN_IN_TEXT = 4


def _redact_payload(value: Any) -> Any:
    """Hide personal fields and secret configuration values anywhere in a payload."""
    if isinstance(value, list):
        return [_redact_payload(item) for item in value]
    if isinstance(value, str):
        # Our CALLERROR to a broken frame quotes that frame as text in its details.
        return FIELD_IN_BROKEN_FRAME.sub(rf'\1"{REDACTED}"', value)
    if not isinstance(value, dict):
        return value
    redacted = {
        key: REDACTED if key in FRAME_FIELDS_TO_REDACT else _redact_payload(item)
        for key, item in value.items()
    }
    # {"key": "AuthorizationKey", "value": ...} in GetConfiguration and ChangeConfiguration.
    if isinstance(value.get("key"), str) and SECRET_KEY.search(value["key"]) and "value" in value:
        redacted["value"] = REDACTED
    # 2.0.1 SetVariables/GetVariables: {"variable": {"name": "BasicAuthPassword"}, ...}.
    variable = value.get("variable")
    if isinstance(variable, dict) and SECRET_KEY.search(str(variable.get("name"))):
        for field in ("attributeValue", "variableAttribute"):
            if field in value:
                redacted[field] = REDACTED
    return redacted


def _redact_frame(frame: Frame, charge_point_id: str) -> str:
    """A logged frame with personal fields hidden; any text at all, however broken."""
    try:
        if frame.truncated or frame.binary:
            raise ValueError("not a whole JSON text frame")
        redacted = _without_id(_redact_payload(json.loads(frame.text)), charge_point_id)
        return json.dumps(redacted, separators=(",", ":"))
    except ValueError, RecursionError:  # deep nesting exhausts the walk before JSON does
        # Cut short or broken: what can be told apart is hidden.
        text = redact_secrets(FIELD_IN_BROKEN_FRAME.sub(rf'\1"{REDACTED}"', frame.text))
        return str(_without_id(text, charge_point_id))


def _frame_diagnostics(frame: Frame, charge_point_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "time": frame.time.isoformat(),
        "direction": frame.direction.value,
        "frame": _redact_frame(frame, charge_point_id),
    }
    if frame.binary:
        shown["binary"] = True
    if frame.truncated:
        shown["bytes"] = frame.size  # the frame shown is only its start
    return shown


def _redact_path(path: str | None, charge_point_id: str) -> str | None:
    """The path without its query and with the segment naming the charge point hidden."""
    if path is None:
        return None
    base, question_mark, _ = path.partition("?")
    segments = [
        REDACTED if unquote(segment) == charge_point_id else segment for segment in base.split("/")
    ]
    return redact_query("/".join(segments) + question_mark)


def _without_id(value: Any, charge_point_id: str) -> Any:
    """Hide the charge point id in every key and text of `value`."""
    if isinstance(value, dict):
        return {
            _without_id(key, charge_point_id): _without_id(item, charge_point_id)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_id(item, charge_point_id) for item in value]
    if not isinstance(value, str):
        return value
    if value == charge_point_id:
        return REDACTED
    if len(charge_point_id) < MIN_ID_LENGTH_HIDDEN_IN_TEXT:
        return value
    for spelling in {charge_point_id, quote(charge_point_id, safe="")}:
        value = value.replace(spelling, REDACTED)
    return value


def charge_point_diagnostics(charge_point: ChargePoint) -> dict[str, Any]:
    """Everything useful to debug one charger, with identifying and secret values hidden."""
    data = charge_point_to_dict(charge_point)
    data["path"] = _redact_path(data["path"], charge_point.id)
    for connection in data["connections"]:
        connection["path"] = _redact_path(connection["path"], charge_point.id)
    data["configuration"] = {
        key: {**item, "value": REDACTED} if SECRET_KEY.search(key) else item
        for key, item in data["configuration"].items()
    }
    data["connected"] = charge_point.connected
    data["anomalies"] = [
        {"time": anomaly.time.isoformat(), "description": anomaly.description}
        for anomaly in charge_point.anomalies
    ]
    data["reported_events"] = list(charge_point.reported_events)
    data["open_transactions"] = [
        connector.transaction.record()
        for connector in charge_point.connectors.values()
        if connector.transaction is not None
    ]
    data["frames"] = [_frame_diagnostics(frame, charge_point.id) for frame in charge_point.frames]
    redacted: dict[str, Any] = _without_id(async_redact_data(data, TO_REDACT), charge_point.id)
    return redacted


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LevityConfigEntry
) -> dict[str, Any]:
    """The central system's settings and a summary of each charge point."""
    central = entry.runtime_data
    security = central.central_system.security
    return {
        # The id tag option may be a real card's number.
        "entry": {
            "data": dict(entry.data),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "listening_port": central.central_system.bound_port,
        "security": {
            "minimum_profile": int(security.authenticator.minimum),
            "tls": security.ssl_context is not None,
            "client_certificates": security.authenticator.client_certificates,
        },
        "id_tags": [
            async_redact_data(dict(subentry.data), ID_TAG_FIELDS_TO_REDACT)
            for subentry in id_tag_subentries(entry).values()
        ],
        # Numbered, not by id: the ids identify the chargers.
        "charge_points": {
            f"charge_point_{number}": _without_id(
                {
                    "connected": cp.connected,
                    "vendor": cp.vendor,
                    "model": cp.model,
                    "firmware_version": cp.firmware_version,
                    "connectors": cp.connector_ids,
                    "password_set": central.central_system.settings_for(cp.id).password is not None,
                },
                cp.id,
            )
            for number, cp in enumerate(central.charge_points.values(), start=1)
        },
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: LevityConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Diagnostics of the charge point behind a device."""
    if (target := entry.runtime_data.device_target(device)) is None:
        return {"error": "this device is not a known charge point"}
    charge_point, connector_id = target
    if connector_id is None:
        return charge_point_diagnostics(charge_point)
    # A connector's device: its charger's diagnostics, saying which connector.
    return {"connector_id": connector_id, **charge_point_diagnostics(charge_point)}
