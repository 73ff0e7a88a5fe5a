"""Actions: read and export the session ledger."""

from __future__ import annotations

import csv
from datetime import datetime
import errno
import os
from pathlib import Path
import stat
from typing import Any

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.core_config import Config
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .command_services import async_setup_command_services
from .const import DOMAIN
from .devices import device_filter as _device_filter, loaded_entries as _loaded_entries
from .local_list_services import async_setup_local_list_services

SERVICE_GET_SESSIONS = "get_sessions"
SERVICE_EXPORT_SESSIONS = "export_sessions"

ATTR_CONNECTOR_ID = "connector_id"
ATTR_ID_TAG = "id_tag"
ATTR_START = "start"
ATTR_END = "end"
ATTR_PATH = "path"

# Spreadsheets run a cell starting with these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "transaction_id",
    "charge_point_id",
    "connector_id",
    "id_tag",
    "started_at",
    "stopped_at",
    "meter_start_wh",
    "meter_stop_wh",
    "energy_kwh",
    "duration_s",
    "stop_reason",
    "stop_id_tag",
    "closed_by",
    "anomalies",
    "charger_transaction_id",  # OCPP 2.0.1: the charger's own id of the session
)

FILTERS = {
    probatio.Optional(ATTR_DEVICE_ID): cv.string,
    probatio.Optional(ATTR_CONNECTOR_ID): probatio.All(probatio.Coerce(int), probatio.Range(min=1)),
    probatio.Optional(ATTR_ID_TAG): cv.string,
    probatio.Optional(ATTR_START): cv.datetime,
    probatio.Optional(ATTR_END): cv.datetime,
}
GET_SESSIONS_SCHEMA = probatio.Schema(FILTERS)
EXPORT_SESSIONS_SCHEMA = probatio.Schema({probatio.Required(ATTR_PATH): cv.string, **FILTERS})


def _aware(value: datetime | None) -> datetime | None:
    """Times typed without a zone are in HA's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


async def async_find_sessions(hass: HomeAssistant, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Completed sessions matching the filters, oldest first."""
    entries = _loaded_entries(hass)
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    charge_point_id: str | None = None
    connector_id: int | None = data.get(ATTR_CONNECTOR_ID)
    if device_id := data.get(ATTR_DEVICE_ID):
        entry, charge_point_id, device_connector = _device_filter(hass, device_id)
        entries = [entry]
        connector_id = device_connector or connector_id
    start, end = _aware(data.get(ATTR_START)), _aware(data.get(ATTR_END))
    if start and end and end < start:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="end_before_start")
    # OCPP 1.6 treats id tags as case-insensitive.
    id_tag = data[ATTR_ID_TAG].casefold() if data.get(ATTR_ID_TAG) else None
    sessions = []
    for entry in entries:
        for session in await entry.runtime_data.sessions.ledger.async_sessions(start, end):
            started_at = datetime.fromisoformat(session["started_at"])
            if (
                (charge_point_id is None or session["charge_point_id"] == charge_point_id)
                and (connector_id is None or session["connector_id"] == connector_id)
                and (id_tag is None or session["id_tag"].casefold() == id_tag)
                and (start is None or started_at >= start)
                and (end is None or started_at < end)
            ):
                sessions.append(session)
    return sorted(sessions, key=lambda session: session["started_at"])


class _NotAllowedError(Exception):
    """The export path is outside the allowed folders, or not a plain file."""


def _export(config: Config, path: Path, sessions: list[dict[str, Any]]) -> None:
    """Check the path and write the CSV, in the executor (both touch the disk).

    The final component is opened without following a symlink, in the same step
    that creates the file: a link swapped in after the check is refused too.
    """
    if not config.is_allowed_path(str(path)):
        raise _NotAllowedError
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_NONBLOCK: a FIFO planted there fails at once instead of hanging a thread.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)  # id tags and times: personal data
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _NotAllowedError from error
        raise
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _NotAllowedError
        writer = csv.DictWriter(file, CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for session in sessions:
            row = {**session, "anomalies": "; ".join(session.get("anomalies", []))}
            writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})


def _spreadsheet_safe(value: Any) -> Any:
    """Keep text a charger chose (id tags, ids) from running as a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


async def _async_get_sessions(call: ServiceCall) -> ServiceResponse:
    sessions: list[JsonValueType] = [*await async_find_sessions(call.hass, dict(call.data))]
    return {"sessions": sessions}


async def _async_export_sessions(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    path = Path(call.data[ATTR_PATH])
    if not path.is_absolute():
        path = Path(hass.config.path(str(path)))
    sessions = await async_find_sessions(hass, dict(call.data))
    try:
        await hass.async_add_executor_job(_export, hass.config, path, sessions)
    except _NotAllowedError as error:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="path_not_allowed",
            translation_placeholders={"path": str(path)},
        ) from error
    except OSError as error:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"path": str(path), "error": str(error)},
        ) from error
    return {"path": str(path), "sessions": len(sessions)}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once, for all central systems."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_SESSIONS,
        _async_get_sessions,
        schema=GET_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_SESSIONS,
        _async_export_sessions,
        schema=EXPORT_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_command_services(hass)
    async_setup_local_list_services(hass)
