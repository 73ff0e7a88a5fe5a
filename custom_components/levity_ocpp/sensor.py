"""Sensors: status, meter readings (per connector and main meter) and sessions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
import re
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    UNIT_CONVERTERS,
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfTime,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util
from ocpp.v16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
)

from .central import LevityConfigEntry
from .csms.model import CHARGE_POINT_CONNECTOR, Connector
from .current_limit import applied_limit
from .entity import LevityEntity, Scope
from .meter_sensors import meter_sensors
from .platform import async_setup_dynamic_entities
from .sensor_description import LevitySensorDescription
from .visible_change import WriteRule, flush_at, visible_change

PARALLEL_UPDATES = 0


def snake(value: str) -> str:
    """Turn an OCPP enum value into an HA state (`SuspendedEVSE` -> `suspended_evse`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


def _enum_state(value: str | None, options: list[str]) -> str | None:
    """A state among `options`, or None for a value the spec doesn't know."""
    return state if value is not None and (state := snake(value)) in options else None


STATUS_OPTIONS = [snake(status.value) for status in ChargePointStatus]
# Connector 0 (the charge point as a whole) may only be these (OCPP 1.6 §4.9).
CHARGE_POINT_STATUS_OPTIONS = ["available", "unavailable", "faulted"]
ERROR_CODE_OPTIONS = [snake(code.value) for code in ChargePointErrorCode]


def _session_energy(connector: Connector) -> float | None:
    return connector.session.energy_kwh if connector.session else None


def _session_minutes(connector: Connector) -> int | None:
    """Whole minutes: a running session's state changes once a minute, not per message."""
    session = connector.session
    return int(session.duration_seconds() // 60) if session else None


# A plain charging state beside the OCPP status (what evcc's Home Assistant charger reads).
CHARGING_STATES: dict[str, str] = {
    ChargePointStatus.available: "disconnected",
    ChargePointStatus.reserved: "disconnected",
    ChargePointStatus.preparing: "connected",
    ChargePointStatus.suspended_ev: "connected",
    ChargePointStatus.suspended_evse: "connected",
    ChargePointStatus.finishing: "connected",
    ChargePointStatus.charging: "charging",
    ChargePointStatus.faulted: "error",
}
CHARGING_STATE_OPTIONS = ["disconnected", "connected", "charging", "error"]
FIRMWARE_STATUS_OPTIONS = [snake(status.value) for status in FirmwareStatus]
DIAGNOSTICS_STATUS_OPTIONS = [snake(status.value) for status in DiagnosticsStatus]

STATUS_SENSORS: tuple[LevitySensorDescription, ...] = (
    LevitySensorDescription(
        key="charging_state",
        entity_registry_enabled_default=False,
        translation_key="charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGING_STATE_OPTIONS,
        value_fn=lambda _, c: CHARGING_STATES.get(c.status) if c.status else None,
    ),
    LevitySensorDescription(
        key="applied_limit",
        translation_key="applied_limit",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # the current limit number reads it back
        exists_fn=lambda cp, _: cp.supports("SmartCharging"),
        # What the charger took or reported back (composite schedule), not what was asked.
        value_fn=lambda cp, c: applied_limit(cp, c.connector_id),
    ),
    LevitySensorDescription(
        key="firmware_status",
        translation_key="firmware_status",
        scope=Scope.CHARGE_POINT,
        device_class=SensorDeviceClass.ENUM,
        options=FIRMWARE_STATUS_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # changes only during an update
        exists_fn=lambda cp, _: cp.supports("FirmwareManagement"),
        value_fn=lambda cp, _: _enum_state(cp.firmware_status, FIRMWARE_STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="last_data_transfer",
        translation_key="last_data_transfer",
        scope=Scope.CHARGE_POINT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda cp, _: cp.last_data_transfer,
    ),
    LevitySensorDescription(
        key="diagnostics_status",
        translation_key="diagnostics_status",
        scope=Scope.CHARGE_POINT,
        device_class=SensorDeviceClass.ENUM,
        options=DIAGNOSTICS_STATUS_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=lambda cp, _: cp.supports("FirmwareManagement"),
        value_fn=lambda cp, _: _enum_state(cp.diagnostics_status, DIAGNOSTICS_STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="status",
        translation_key="connector_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda _, c: _enum_state(c.status, STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="error_code",
        translation_key="connector_error_code",
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODE_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # Problem says when; this says which
        value_fn=lambda _, c: _enum_state(c.error_code, ERROR_CODE_OPTIONS),
    ),
    LevitySensorDescription(
        key="status",
        translation_key="charge_point_status",
        entity_registry_enabled_default=False,
        scope=Scope.CHARGE_POINT,
        device_class=SensorDeviceClass.ENUM,
        options=CHARGE_POINT_STATUS_OPTIONS,
        value_fn=lambda _, c: _enum_state(c.status, CHARGE_POINT_STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="error_code",
        translation_key="charge_point_error_code",
        scope=Scope.CHARGE_POINT,
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODE_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # Problem says when; this says which
        value_fn=lambda _, c: _enum_state(c.error_code, ERROR_CODE_OPTIONS),
    ),
    LevitySensorDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        scope=Scope.CHARGE_POINT,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda cp, _: cp.last_heartbeat,
    ),
)

SESSION_SENSORS: tuple[LevitySensorDescription, ...] = (
    LevitySensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # "total" with last_reset at the session start: each session counts from 0.
        state_class=SensorStateClass.TOTAL,
        # 0.1 kWh, as the register: at 0.01 a charging session wrote a row on every
        # message (6 of a charger's ~10 rows a minute). Statistics stay exact and a
        # session's end writes its exact total (visible_change.py).
        suggested_display_precision=1,
        value_fn=lambda _, c: _session_energy(c),
        write_rule=WriteRule.VISIBLE_CHANGE,
        last_reset_fn=lambda c: c.session.started_at if c.session else None,
        available_offline=True,
    ),
    LevitySensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda _, c: _session_minutes(c),
        available_offline=True,
    ),
    LevitySensorDescription(
        key="session_end",
        entity_registry_enabled_default=False,
        translation_key="session_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        # Unknown while a session runs: it has not ended.
        value_fn=lambda _, c: c.session.stopped_at if c.session else None,
        available_offline=True,
    ),
    LevitySensorDescription(
        key="session_id_tag",
        translation_key="session_id_tag",
        entity_category=EntityCategory.DIAGNOSTIC,
        # A 2.0.1 session may have none (begun at plug-in, not authorized yet).
        value_fn=lambda _, c: (c.session.id_tag or None) if c.session else None,
        available_offline=True,
    ),
    LevitySensorDescription(
        key="transaction_id",
        translation_key="transaction_id",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda _, c: c.transaction.transaction_id if c.transaction else None,
    ),
)

SENSORS: tuple[LevitySensorDescription, ...] = (
    *STATUS_SENSORS,
    *meter_sensors(Scope.CONNECTOR, ""),
    *meter_sensors(Scope.CHARGE_POINT, "main_meter_"),
    *SESSION_SENSORS,
)


# Where HA keeps a sensor's display precision: the user's, else the suggested one.
_PRECISION_OPTIONS = ("display_precision", "suggested_display_precision")


class LevitySensor(LevityEntity, SensorEntity):
    """A sensor whose value is a function of the model."""

    entity_description: LevitySensorDescription

    def current_value(self) -> StateType | datetime:
        """Compute the value from the charge point and connector."""
        return self.entity_description.value_fn(self.charge_point, self.connector)

    @property
    def native_value(self) -> StateType | datetime:
        """The sensor's value."""
        return self.current_value()

    @property
    def last_reset(self) -> datetime | None:
        """For session energy: when the current (or last) session started."""
        if (last_reset_fn := self.entity_description.last_reset_fn) is None:
            return None
        return last_reset_fn(self.connector)

    def _snapshot(self) -> tuple[object, ...]:
        return (*super()._snapshot(), self.last_reset)

    _flush_cancel: CALLBACK_TYPE | None = None

    def _holds(self, written: tuple[object, ...], snapshot: tuple[object, ...]) -> bool:
        """Hold a number whose change the user cannot see (its description says so).

        Only while a session runs: its end writes the exact figures a user reads
        afterwards. Availability and a new last_reset are always written. A held
        total is written before its statistics period ends.
        """
        if (
            self.entity_description.write_rule is not WriteRule.VISIBLE_CHANGE
            or not self._in_session()
        ):
            return False
        (was_available, old, old_reset), (available, new, reset) = written, snapshot
        if (
            (was_available, old_reset) != (available, reset)
            or not isinstance(old, int | float)
            or not isinstance(new, int | float)
            or (display := self._display()) is None
            or visible_change(old, new, *display)
        ):
            return False
        if self.state_class in (SensorStateClass.TOTAL, SensorStateClass.TOTAL_INCREASING):
            if (due := flush_at(dt_util.utcnow())) is None:
                return False
            if self._flush_cancel is None:
                self._flush_cancel = async_track_point_in_utc_time(self.hass, self._flush, due)
        return True

    def _in_session(self) -> bool:
        """Whether a session runs here (for the charger's main meter: on any connector)."""
        if self.connector_id != CHARGE_POINT_CONNECTOR:
            return self.connector.transaction is not None
        return any(c.transaction is not None for c in self.charge_point.connectors.values())

    def _display(self) -> tuple[int, Callable[[float], float] | None] | None:
        """The display precision the user sees, and the conversion to the unit shown.

        As HA keeps them in the entity registry: the user's choice, else the suggested
        precision adjusted to the unit shown. None: not known, hold nothing.
        """
        entry = self.registry_entry
        options: Mapping[str, Any] = (entry.options.get(SENSOR_DOMAIN) if entry else None) or {}
        precision = next(
            (p for key in _PRECISION_OPTIONS if (p := options.get(key)) is not None), None
        )
        native, shown = self.native_unit_of_measurement, self.unit_of_measurement
        converter = UNIT_CONVERTERS.get(self.device_class)
        if precision is None or (native != shown and converter is None):
            return None
        convert = converter.converter_factory(native, shown) if converter else None
        return precision, (convert if native != shown else None)

    @callback
    def _flush(self, _now: datetime) -> None:
        """The period ends: write what was held (a timer may fire a little early)."""
        self._flush_cancel = None
        if (snapshot := self._snapshot()) != self._last_written:
            self._write(snapshot)

    async def async_will_remove_from_hass(self) -> None:
        """Nothing is written for an entity that is gone."""
        if self._flush_cancel is not None:
            self._flush_cancel()
            self._flush_cancel = None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, SENSORS, LevitySensor)
