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
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
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
    Measurand,
)

from .central import LevityConfigEntry
from .csms.freshness import DRAWN_BY_SESSION, OF_THE_CAR, in_session, is_fresh, stale_after
from .csms.meter import SampledValue, phase_average, phase_total
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint, Connector, utcnow
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
type Combine = Callable[[list[SampledValue]], float | None]


@dataclass(frozen=True, kw_only=True)
class LevitySensorDescription(SensorEntityDescription, LevityEntityDescription):
    """A sensor of a charge point or connector, computed from the model."""

    value_fn: ValueFn
    last_reset_fn: Callable[[Connector], datetime | None] | None = None


def _reports(measurand: str, phases: tuple[str | None, ...] | None = None) -> ExistsFn:
    """Exists once the connector has reported this measurand (on one of `phases`)."""

    def exists(_: ChargePoint, connector: Connector) -> bool:
        return any(
            reading.sampled.measurand == measurand
            and (phases is None or reading.sampled.phase in phases)
            for reading in connector.readings.values()
        )

    return exists


def _measured(measurand: str, combine: Combine) -> ValueFn:
    """The value of a measurand now, from fresh readings only (see csms/freshness.py).

    What a session draws is 0 without one, what its car reports unknown.
    """

    def value(charge_point: ChargePoint, connector: Connector) -> float | None:
        readings = [r for r in connector.readings.values() if r.sampled.measurand == measurand]
        if connector.connector_id != CHARGE_POINT_CONNECTOR and measurand in SESSION_BOUND:
            readings = [r for r in readings if in_session(connector, r)]
            if not readings:
                return 0.0 if measurand in DRAWN_BY_SESSION else None
        now, limit = utcnow(), stale_after(charge_point)
        return combine([r.sampled for r in readings if is_fresh(r, now, limit)])

    return value


def _first_of_phases(phases: tuple[str, ...]) -> Combine:
    """The value of one phase (the first of `phases` the charger uses)."""

    def combine(values: list[SampledValue]) -> float | None:
        for phase in phases:
            for sampled in values:
                if sampled.phase == phase and sampled.value is not None:
                    return sampled.value
        return None

    return combine


def _combined(measurand: str) -> Combine:
    return lambda values: phase_total(values, measurand)


def _averaged(measurand: str) -> Combine:
    return lambda values: phase_average(values, measurand)


ENERGY = Measurand.energy_active_import_register.value
ENERGY_EXPORT = Measurand.energy_active_export_register.value
POWER = Measurand.power_active_import.value
CURRENT = Measurand.current_import.value
VOLTAGE = Measurand.voltage.value
PHASES = ("L1", "L2", "L3")
SESSION_BOUND = DRAWN_BY_SESSION | OF_THE_CAR
UNPHASED = (None,)


@dataclass(frozen=True, slots=True)
class _Quantity:
    """A measured quantity and how HA shows it."""

    key: str
    measurand: str
    device_class: SensorDeviceClass
    unit: str | None
    precision: int | None = None
    # A 3-phase charger's average current or voltage means little: the combined
    # sensor exists only for values reported without a phase (power adds up).
    combined_needs_unphased: bool = False
    category: EntityCategory | None = None
    enabled: bool = True
    # Per-phase sensors: whether there are any, and enabled by default.
    phased: bool = False
    phases_enabled: bool = False


_QUANTITIES: tuple[_Quantity, ...] = (
    _Quantity("power", POWER, SensorDeviceClass.POWER, UnitOfPower.WATT, 0, phased=True),
    _Quantity(
        "current",
        CURRENT,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        1,
        combined_needs_unphased=True,
        phased=True,
        phases_enabled=True,
    ),
    _Quantity(
        "voltage",
        VOLTAGE,
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        0,
        combined_needs_unphased=True,
        category=EntityCategory.DIAGNOSTIC,
        phased=True,
    ),
    _Quantity(
        "current_offered",
        Measurand.current_offered.value,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        1,
    ),
    _Quantity(
        "power_offered",
        Measurand.power_offered.value,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        0,
        enabled=False,
    ),
    _Quantity("soc", Measurand.soc.value, SensorDeviceClass.BATTERY, PERCENTAGE),
    _Quantity(
        "temperature",
        Measurand.temperature.value,
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        category=EntityCategory.DIAGNOSTIC,
    ),
    _Quantity(
        "frequency",
        Measurand.frequency.value,
        SensorDeviceClass.FREQUENCY,
        UnitOfFrequency.HERTZ,
        2,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
    ),
    _Quantity(
        "power_factor",
        Measurand.power_factor.value,
        SensorDeviceClass.POWER_FACTOR,
        None,
        2,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
    ),
)


def _measurement(
    quantity: _Quantity,
    key: str,
    translation_key: str,
    scope: Scope,
    exists_fn: ExistsFn,
    value_fn: ValueFn,
    **extra: object,
) -> LevitySensorDescription:
    return LevitySensorDescription(
        key=key,
        translation_key=translation_key,
        scope=scope,
        device_class=quantity.device_class,
        native_unit_of_measurement=quantity.unit,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=quantity.precision,
        exists_fn=exists_fn,
        value_fn=value_fn,
        **extra,  # type: ignore[arg-type]
    )


def _register(
    key: str, translation_key: str, scope: Scope, **extra: object
) -> LevitySensorDescription:
    return LevitySensorDescription(
        key=key,
        translation_key=translation_key,
        scope=scope,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # Only ever a register: interval or session values would break the
        # Energy dashboard's sums.
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        **extra,  # type: ignore[arg-type]
    )


def _meter_sensors(scope: Scope, prefix: str) -> tuple[LevitySensorDescription, ...]:
    """Meter sensors of a connector, or (prefix "main_meter_") of the charger's main meter."""
    energy = _register(
        "energy",
        f"{prefix}energy",
        scope,
        exists_fn=lambda _, c: c.energy_register_kwh is not None,
        value_fn=lambda _, c: c.energy_register_kwh,
    )
    # Exported energy is shown as sent: HA's total_increasing takes a drop as a reset.
    energy_export = _register(
        "energy_export",
        f"{prefix}energy_export",
        scope,
        entity_registry_enabled_default=False,
        exists_fn=_reports(ENERGY_EXPORT),
        value_fn=lambda _, c: phase_total(
            [reading.sampled for reading in c.readings.values()], ENERGY_EXPORT
        ),
    )
    combined = [
        _measurement(
            quantity,
            quantity.key,
            f"{prefix}{quantity.key}",
            scope,
            _reports(quantity.measurand, UNPHASED if quantity.combined_needs_unphased else None),
            _measured(
                quantity.measurand,
                _averaged(quantity.measurand)
                if quantity.combined_needs_unphased
                else _combined(quantity.measurand),
            ),
            entity_category=quantity.category,
            entity_registry_enabled_default=quantity.enabled,
        )
        for quantity in _QUANTITIES
    ]
    phases = [
        _measurement(
            quantity,
            f"{quantity.key}_{phase.lower()}",
            f"{prefix}{quantity.key}_phase",
            scope,
            _reports(quantity.measurand, (phase, f"{phase}-N")),
            _measured(
                quantity.measurand,
                # Voltage is phase to neutral first; power and current per conductor.
                _first_of_phases(
                    (f"{phase}-N", phase) if quantity.key == "voltage" else (phase, f"{phase}-N")
                ),
            ),
            translation_placeholders={"phase": phase},
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=quantity.phases_enabled,
        )
        for quantity in _QUANTITIES
        if quantity.phased
        for phase in PHASES
    ]
    return (energy, energy_export, *combined, *phases)


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
        value_fn=lambda _, c: c.applied_limit_a,
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
        value_fn=lambda _, c: c.session.id_tag if c.session else None,
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
