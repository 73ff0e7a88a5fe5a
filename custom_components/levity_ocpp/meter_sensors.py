"""Meter sensors: the register, live readings that expire, phases, rarer measurands."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
)
from ocpp.v16.enums import Measurand

from .csms.freshness import DRAWN_BY_SESSION, OF_THE_CAR, in_session, is_fresh, stale_after
from .csms.meter import SampledValue, phase_average, phase_total
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint, Connector, utcnow
from .entity import Scope
from .sensor_description import Combine, ExistsFn, LevitySensorDescription, ValueFn
from .visible_change import WriteRule


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
        readings = connector.readings.of(measurand)
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
    """A measured quantity and how HA shows it.

    Each state write is a recorder row, and a value is written only when it changes
    at the display precision (WriteRule.VISIBLE_CHANGE): `precision` (in `shown`, the
    unit suggested to HA, if not the native one) says how fine a history it keeps.
    What matters for history is enabled; what is noisy or rarely looked at is
    diagnostic and disabled by default.
    """

    key: str
    measurand: str
    device_class: SensorDeviceClass
    unit: str | None
    precision: int
    shown: str | None = None
    # A 3-phase charger's average current or voltage means little: the combined
    # sensor exists only for values reported without a phase (power adds up).
    combined_needs_unphased: bool = False
    category: EntityCategory | None = None
    enabled: bool = True
    # Whether there are per-phase sensors (diagnostic, disabled by default: noisy).
    phased: bool = False


_QUANTITIES: tuple[_Quantity, ...] = (
    # 0.1 kW: a reading's noise of tens of watts is no change worth a row.
    _Quantity(
        "power",
        POWER,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        1,
        UnitOfPower.KILO_WATT,
        phased=True,
    ),
    _Quantity(
        "current",
        CURRENT,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        1,
        combined_needs_unphased=True,
        phased=True,
    ),
    _Quantity(
        "voltage",
        VOLTAGE,
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        0,
        combined_needs_unphased=True,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
        phased=True,
    ),
    _Quantity(
        "current_offered",
        Measurand.current_offered.value,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        1,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
    ),
    _Quantity(
        "power_offered",
        Measurand.power_offered.value,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        1,
        UnitOfPower.KILO_WATT,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
    ),
    _Quantity("soc", Measurand.soc.value, SensorDeviceClass.BATTERY, PERCENTAGE, 0),
    _Quantity(
        "temperature",
        Measurand.temperature.value,
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        0,
        category=EntityCategory.DIAGNOSTIC,
        enabled=False,
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
        suggested_unit_of_measurement=quantity.shown,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=quantity.precision,
        exists_fn=exists_fn,
        value_fn=value_fn,
        write_rule=WriteRule.VISIBLE_CHANGE,
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
        # 0.1 kWh: the Energy dashboard reads statistics, which stay exact (see
        # visible_change.py); a register's history needs no finer steps.
        suggested_display_precision=1,
        write_rule=WriteRule.VISIBLE_CHANGE,
        **extra,  # type: ignore[arg-type]
    )


def meter_sensors(scope: Scope, prefix: str) -> tuple[LevitySensorDescription, ...]:
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
            entity_registry_enabled_default=False,
        )
        for quantity in _QUANTITIES
        if quantity.phased
        for phase in PHASES
    ]
    return (energy, energy_export, *combined, *phases)
