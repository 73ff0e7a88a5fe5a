"""Sensors: status, meter readings (per connector and main meter) and sessions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import re

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, Measurand

from .central import LevityConfigEntry
from .csms.meter import SampledValue, phase_average, phase_total
from .csms.model import ChargePoint, Connector
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

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


type ExistsFn = Callable[[ChargePoint, Connector], bool]
type ValueFn = Callable[[ChargePoint, Connector], StateType | datetime]


@dataclass(frozen=True, kw_only=True)
class LevitySensorDescription(SensorEntityDescription, LevityEntityDescription):
    """A sensor of a charge point or connector, computed from the model."""

    value_fn: ValueFn
    last_reset_fn: Callable[[Connector], datetime | None] | None = None


def _values(connector: Connector) -> list[SampledValue]:
    return [reading.sampled for reading in connector.readings.values()]


def _reports(measurand: str, phases: tuple[str | None, ...] | None = None) -> ExistsFn:
    """Exists once the connector has reported this measurand (on one of `phases`)."""

    def exists(_: ChargePoint, connector: Connector) -> bool:
        return any(
            reading.sampled.measurand == measurand
            and (phases is None or reading.sampled.phase in phases)
            for reading in connector.readings.values()
        )

    return exists


def _phase_value(measurand: str, phases: tuple[str, ...]) -> ValueFn:
    """The latest value of one phase (the first of `phases` the charger uses)."""

    def value(_: ChargePoint, connector: Connector) -> float | None:
        for phase in phases:
            for sampled in _values(connector):
                if sampled.measurand == measurand and sampled.phase == phase:
                    return sampled.value
        return None

    return value


ENERGY = Measurand.energy_active_import_register.value
POWER = Measurand.power_active_import.value
CURRENT = Measurand.current_import.value
VOLTAGE = Measurand.voltage.value
PHASES = ("L1", "L2", "L3")


# Measured quantities: (key, measurand, device class, unit, display precision).
_QUANTITIES: tuple[tuple[str, str, SensorDeviceClass, str, int | None], ...] = (
    ("power", POWER, SensorDeviceClass.POWER, UnitOfPower.WATT, 0),
    ("current", CURRENT, SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, 1),
    ("voltage", VOLTAGE, SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, 0),
    (
        "current_offered",
        Measurand.current_offered.value,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        1,
    ),
    ("soc", Measurand.soc.value, SensorDeviceClass.BATTERY, PERCENTAGE, None),
    (
        "temperature",
        Measurand.temperature.value,
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        None,
    ),
)
# Quantities with per-phase sensors; power adds up over phases, the others average.
_PHASED = {"power": POWER, "current": CURRENT, "voltage": VOLTAGE}


def _measurement(
    key: str,
    translation_key: str,
    scope: Scope,
    device_class: SensorDeviceClass,
    unit: str,
    exists_fn: ExistsFn,
    value_fn: ValueFn,
    **extra: object,
) -> LevitySensorDescription:
    return LevitySensorDescription(
        key=key,
        translation_key=translation_key,
        scope=scope,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        exists_fn=exists_fn,
        value_fn=value_fn,
        **extra,  # type: ignore[arg-type]
    )


def _aggregate(key: str, measurand: str) -> ValueFn:
    combine = phase_total if key == "power" else phase_average
    return lambda _, connector: combine(_values(connector), measurand)


def _meter_sensors(scope: Scope, prefix: str) -> tuple[LevitySensorDescription, ...]:
    """Meter sensors of a connector, or (prefix "main_meter_") of the charger's main meter."""
    energy = LevitySensorDescription(
        key="energy",
        translation_key=f"{prefix}energy",
        scope=scope,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # Only ever the register: interval or session values would break the
        # Energy dashboard's sums.
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        exists_fn=lambda _, c: c.energy_register_kwh is not None,
        value_fn=lambda _, c: c.energy_register_kwh,
    )
    totals = [
        _measurement(
            key,
            f"{prefix}{key}",
            scope,
            device_class,
            unit,
            _reports(measurand),
            _aggregate(key, measurand),
            suggested_display_precision=precision,
            entity_category=EntityCategory.DIAGNOSTIC if key == "temperature" else None,
        )
        for key, measurand, device_class, unit, precision in _QUANTITIES
    ]
    phases = [
        _measurement(
            f"{key}_{phase.lower()}",
            f"{prefix}{key}_phase",
            scope,
            device_class,
            unit,
            _reports(_PHASED[key], (phase, f"{phase}-N")),
            _phase_value(
                _PHASED[key], (f"{phase}-N", phase) if key == "voltage" else (phase, f"{phase}-N")
            ),
            translation_placeholders={"phase": phase},
            entity_registry_enabled_default=False,
        )
        for key, _, device_class, unit, _ in _QUANTITIES
        if key in _PHASED
        for phase in PHASES
    ]
    return (energy, *totals, *phases)


def _session_energy(connector: Connector) -> float | None:
    return connector.session.energy_kwh if connector.session else None


def _session_minutes(connector: Connector) -> float | None:
    session = connector.session
    return round(session.duration_seconds() / 60, 1) if session else None


STATUS_SENSORS: tuple[LevitySensorDescription, ...] = (
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
    ),
    LevitySensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda _, c: _session_minutes(c),
    ),
    LevitySensorDescription(
        key="session_id_tag",
        translation_key="session_id_tag",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, c: c.session.id_tag if c.session else None,
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
    *_meter_sensors(Scope.CONNECTOR, ""),
    *_meter_sensors(Scope.CHARGE_POINT, "main_meter_"),
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
