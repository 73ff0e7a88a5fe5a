"""Persistence of known charge points, so they survive restarts.

A snapshot of every charge point (an HA Store) and a journal of the ones that
changed since (journal.py). What a charger sends over and over (readings,
heartbeats) waits for the next snapshot, within READINGS_SAVE_DELAY, as HA's
own entity states do; anything else (a status, a setting, a new connector or
series, a session's end) is journaled within SAVE_DELAY: one line with just the
charge points that changed, not the fleet. A restart reads the snapshot, replays
the journal on top and takes a new snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
from datetime import datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .csms.local_list import local_list_to_dict, restore_local_list
from .csms.meter import SampledValue
from .csms.model import Change, ChargePoint, Connection, Connector
from .csms.readings import Reading
from .csms.redaction import SECRET_CONFIGURATION_KEY
from .csms.transactions import Transaction
from .delayed_save import READINGS_SAVE_DELAY, DelayedRun
from .durable_store import DurableStore
from .final_write import async_now_or_at_final_write
from .journal import Checkpoints, Journal, JournalError, Record

_LOGGER = logging.getLogger(__name__)

# The snapshot's field naming the journal generation it was taken at (as the
# session store's book does): a restart replays only the generations after it.
_GENERATION = "journal"

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
            connector.readings.put(Reading(sampled, time))
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
        """Use a snapshot file and a journal per config entry."""
        self._hass = hass
        self._snapshot = DurableStore(hass, f"{DOMAIN}.{entry_id}.charge_points")
        self._journal = Journal(hass, f"{DOMAIN}.{entry_id}.charge_points_journal")
        self._charge_points: Callable[[], Iterable[ChargePoint]] | None = None
        # Charge points changed (beyond readings) and removed since the last save.
        self._changed: dict[str, ChargePoint] = {}
        self._removed: set[str] = set()
        self._journal_soon = DelayedRun(
            hass, self._async_journal, f"{DOMAIN} journal of {entry_id}'s charge points"
        )
        self._checkpoint = DelayedRun(
            hass,
            self.async_checkpoint,
            f"{DOMAIN} snapshot of {entry_id}'s charge points",
            READINGS_SAVE_DELAY,
        )
        self._lock = asyncio.Lock()
        self._replayed = False
        self._checkpoints = Checkpoints(hass, self._journal, "the charge points' file")

    async def async_load(self) -> list[ChargePoint]:
        """Return the charge points saved before, or none on a first start."""
        data = await self._snapshot.async_load() or {}
        generation = data.get(_GENERATION)
        snapshot = generation if isinstance(generation, int) else 0
        saved: dict[str, Record] = {}
        for item in data.get("charge_points", []):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                saved[item["id"]] = item
            else:
                _LOGGER.error("Skipped a saved charge point without an id: %.200s", item)
        lines = await self._journal.async_load(at_least=snapshot)
        for line_generation, line in lines:
            if line_generation >= snapshot and not _replay(line, saved):
                _LOGGER.error("Skipped a journaled change of charge points: %.200s", line)
        self._replayed = bool(lines)
        charge_points = []
        for item in saved.values():
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
        if self._replayed:  # the journal is folded into the next snapshot
            self._checkpoint.schedule()

    def changed(self, charge_point: ChargePoint, change: Change = Change.STATE) -> None:
        """A charge point changed: save it soon, or (only readings) with the next snapshot.

        The charge point's `save_listener`: called at every change, so it only marks.
        """
        if change is Change.STATE:
            self._changed[charge_point.id] = charge_point
            self._removed.discard(charge_point.id)
            self._journal_soon.schedule()
        self._checkpoint.schedule()

    def removed(self, charge_point: ChargePoint) -> None:
        """The user removed a charge point: it leaves the store, for good."""
        charge_point.save_listener = None  # a late change must not bring it back
        self._changed.pop(charge_point.id, None)
        self._removed.add(charge_point.id)
        self._journal_soon.schedule()
        self._checkpoint.schedule()

    async def _async_journal(self) -> None:
        if not self._changed and not self._removed:
            return  # a snapshot took them
        line: Record = {"charge_points": [charge_point_to_dict(c) for c in self._changed.values()]}
        if self._removed:
            line["removed"] = sorted(self._removed)
        self._changed, self._removed = {}, set()
        # Logged by the journal; the next snapshot (scheduled with the change) has it.
        with contextlib.suppress(JournalError):
            await self._journal.async_append(line)

    async def async_checkpoint(self) -> None:
        """Write every charge point, then drop the journal the snapshot contains.

        A failure keeps the journal (a later snapshot retries), logged once.
        """
        # Unbound, this would save an empty list over the charge points on disk.
        assert self._charge_points is not None
        async with self._lock:
            self._journal_soon.cancel()
            self._checkpoint.cancel()
            # Appends from here on go to the next generation: not in this snapshot.
            generation = self._journal.rotate()
            data = {
                "charge_points": [charge_point_to_dict(cp) for cp in self._charge_points()],
                _GENERATION: generation,
            }
            changed, removed = self._changed, self._removed
            self._changed, self._removed = {}, set()
            written = await self._checkpoints.async_fold(
                generation, lambda: self._snapshot.async_save_durably(data)
            )
            if not written:
                # What was not journaled yet is journaled after all, and tried again.
                self._changed = changed | self._changed
                self._removed = (removed - self._changed.keys()) | self._removed
                if self._changed or self._removed:
                    self._journal_soon.schedule()
                self._checkpoint.schedule()

    async def async_save_now(self) -> None:
        """Save everything now (unload), or at HA's final write if HA stops."""
        self._journal_soon.cancel()
        self._checkpoint.cancel()
        await async_now_or_at_final_write(self._hass, self.async_checkpoint)

    async def async_remove(self) -> None:
        """Delete the files (the config entry was removed); nothing due is saved."""
        self._journal_soon.cancel()
        self._checkpoint.cancel()
        await self._snapshot.async_remove()
        await self._journal.async_remove()


def _replay(line: Record, saved: dict[str, Record]) -> bool:
    """Apply one journal line to the saved records by id; False if it is unreadable.

    A line is taken whole or not at all.
    """
    changed = line.get("charge_points", [])
    removed = line.get("removed", [])
    if not (
        isinstance(changed, list)
        and isinstance(removed, list)
        and all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in changed)
        and all(isinstance(charge_point_id, str) for charge_point_id in removed)
    ):
        return False
    for charge_point_id in removed:
        saved.pop(charge_point_id, None)
    saved.update((item["id"], item) for item in changed)
    return True
