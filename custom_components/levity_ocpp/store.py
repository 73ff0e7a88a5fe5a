"""Persistence of known charge points in an HA Store, so they survive restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .csms.local_list import local_list_to_dict, restore_local_list
from .csms.meter import SampledValue
from .csms.model import ChargePoint, Connection, Connector, Reading
from .csms.redaction import SECRET_CONFIGURATION_KEY
from .csms.transactions import Transaction
from .delayed_save import DelayedSave

STORAGE_VERSION = 1
_LOGGER = logging.getLogger(__name__)

_IDENTITY = (
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
    "path",
    "subprotocol",
)
_TIMES = ("last_boot", "last_heartbeat")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _reading_to_dict(reading: Reading) -> dict[str, Any]:
    """One reading; by hand, as `asdict` costs most of a fleet's save (60 per charger)."""
    sampled = reading.sampled
    return {
        "measurand": sampled.measurand,
        "value": sampled.value,
        "unit": sampled.unit,
        "phase": sampled.phase,
        "context": sampled.context,
        "location": sampled.location,
        "format": sampled.format,
        "raw": sampled.raw,
        "resolution": sampled.resolution,
        "time": reading.time.isoformat(),
    }


def charge_point_to_dict(cp: ChargePoint) -> dict[str, Any]:
    """Serialize what must survive a restart (not the frame log: it is for live debugging)."""
    return {
        "id": cp.id,
        **{name: getattr(cp, name) for name in _IDENTITY},
        **{name: _iso(getattr(cp, name)) for name in _TIMES},
        "connectors": [
            {
                "connector_id": c.connector_id,
                "status": c.status,
                "error_code": c.error_code,
                "info": c.info,
                "vendor_id": c.vendor_id,
                "vendor_error_code": c.vendor_error_code,
                "status_time": _iso(c.status_time),
                "readings": [_reading_to_dict(r) for r in c.readings.values()],
                "energy_register_kwh": c.energy_register_kwh,
                "energy_register_time": _iso(c.energy_register_time),
                "last_transaction": c.last_transaction.to_dict() if c.last_transaction else None,
                "current_limit_a": c.current_limit_a,
                "number_phases": c.number_phases,
            }
            for c in cp.connectors.values()
        ],
        "auto_start": cp.auto_start,
        "limit_profile": cp.limit_profile,
        "min_current_a": cp.min_current_a,
        "max_current_a": cp.max_current_a,
        "current_steps": cp.current_steps,
        # A password a charger reports back (AuthorizationKey is write-only) is not kept.
        "configuration": {
            key: {**item, "value": None} if SECRET_CONFIGURATION_KEY.search(key) else item
            for key, item in cp.configuration.items()
        },
        "unknown_configuration_keys": cp.unknown_configuration_keys,
        "local_list": local_list_to_dict(cp),
        "connections": [
            {
                "connected_at": _iso(c.connected_at),
                "disconnected_at": _iso(c.disconnected_at),
                "remote_address": c.remote_address,
                "path": c.path,
                "subprotocol": c.subprotocol,
                "close_reason": c.close_reason,
                "security_profile": c.security_profile,
            }
            for c in cp.connections
        ],
    }


def charge_point_from_dict(data: dict[str, Any]) -> ChargePoint:
    """Rebuild a charge point as it was last saved; it is offline until it reconnects."""
    cp = ChargePoint(data["id"])
    for name in _IDENTITY:
        setattr(cp, name, data.get(name))
    for name in _TIMES:
        setattr(cp, name, _time(data.get(name)))
    for item in data.get("connectors", []):
        cp.connectors[item["connector_id"]] = Connector(
            connector_id=item["connector_id"],
            status=item.get("status"),
            error_code=item.get("error_code"),
            info=item.get("info"),
            vendor_id=item.get("vendor_id"),
            vendor_error_code=item.get("vendor_error_code"),
            status_time=_time(item.get("status_time")),
            energy_register_kwh=item.get("energy_register_kwh"),
            energy_register_time=_time(item.get("energy_register_time")),
            last_transaction=(
                Transaction.from_dict(item["last_transaction"])
                if item.get("last_transaction")
                else None
            ),
            current_limit_a=item.get("current_limit_a"),
            number_phases=item.get("number_phases"),
        )
        connector = cp.connectors[item["connector_id"]]
        for reading in item.get("readings", []):
            fields = dict(reading)
            time = datetime.fromisoformat(fields.pop("time"))
            sampled = SampledValue(**fields)
            connector.readings[sampled.key] = Reading(sampled, time)
    cp.auto_start = bool(data.get("auto_start", True))
    cp.limit_profile = str(data.get("limit_profile", cp.limit_profile))
    cp.min_current_a = float(data.get("min_current_a", cp.min_current_a))
    cp.max_current_a = float(data.get("max_current_a", cp.max_current_a))
    cp.current_steps = str(data.get("current_steps", cp.current_steps))
    cp.configuration = data.get("configuration", {})
    cp.unknown_configuration_keys = data.get("unknown_configuration_keys", [])
    restore_local_list(cp, data.get("local_list"))
    for item in data.get("connections", []):
        connected_at = _time(item["connected_at"])
        assert connected_at is not None
        cp.connections.append(
            Connection(
                connected_at=connected_at,
                disconnected_at=_time(item.get("disconnected_at")),
                remote_address=item.get("remote_address"),
                path=item.get("path", ""),
                subprotocol=item.get("subprotocol"),
                close_reason=item.get("close_reason"),
                security_profile=item.get("security_profile"),
            )
        )
    return cp


class ChargePointStore:
    """Loads and saves the known charge points of one central system (config entry)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one storage file per config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.charge_points", private=True
        )
        self._charge_points: Callable[[], Iterable[ChargePoint]] | None = None
        self._save = DelayedSave(hass, self._store, self._data)

    async def async_load(self) -> list[ChargePoint]:
        """Return the charge points saved before, or none on a first start."""
        data = await self._store.async_load() or {}
        charge_points = []
        for item in data.get("charge_points", []):
            try:
                charge_points.append(charge_point_from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # One damaged record must not keep the other chargers offline; this
                # one comes back as new when it reconnects.
                _LOGGER.error(
                    "Skipped a saved charge point that could not be read (%r): %.200s",
                    error,
                    item,
                )
        return charge_points

    def bind(self, charge_points: Callable[[], Iterable[ChargePoint]]) -> None:
        """Tell the store where the live charge points are, for later saves."""
        self._charge_points = charge_points

    def _data(self) -> dict[str, Any]:
        # Unbound, this would save an empty list over the charge points on disk.
        assert self._charge_points is not None
        return {"charge_points": [charge_point_to_dict(cp) for cp in self._charge_points()]}

    def schedule_save(self) -> None:
        """Save soon: within SAVE_DELAY of the first unsaved change, however many follow."""
        self._save.schedule()

    async def async_save_now(self) -> None:
        """Save immediately (unload), replacing any pending delayed save."""
        await self._save.async_save_now()

    async def async_remove(self) -> None:
        """Delete the file (the config entry was removed)."""
        await self._store.async_remove()
