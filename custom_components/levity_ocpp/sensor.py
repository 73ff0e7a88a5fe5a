"""Sensors: status, meter readings (per connector and main meter) and sessions."""

from __future__ import annotations

from datetime import datetime
import re

from homeassistant.components.sensor import (
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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from ocpp.v16.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    DiagnosticsStatus,
    FirmwareStatus,
)

from .central import LevityConfigEntry
from .csms.model import Connector
from .current_limit import applied_limit
from .entity import LevityEntity, Scope
from .meter_sensors import meter_sensors
from .platform import async_setup_dynamic_entities
from .sensor_description import LevitySensorDescription

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
        value_fn=lambda _, c: _enum_state(c.error_code, ERROR_CODE_OPTIONS),
    ),
    LevitySensorDescription(
        key="status",
        translation_key="charge_point_status",
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
        suggested_display_precision=3,
        value_fn=lambda _, c: _session_energy(c),
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, SENSORS, LevitySensor)
