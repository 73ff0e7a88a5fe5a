"""OCPP 2.0.1 meter values of the simulated station, from the same electrical state as
1.6's (``meter.Meter`` advances it): numbers with a unitOfMeasure, measurands as a
device-model variable lists them (SampledDataCtrlr, AlignedDataCtrlr).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp.v201 import datatypes
from ocpp.v201.enums import (
    LocationEnumType,
    MeasurandEnumType,
    PhaseEnumType,
    ReadingContextEnumType,
)

from .model import Connector, now_iso

if TYPE_CHECKING:
    from .v201_core import SimulatedChargingStation

CURRENT_PHASES = (PhaseEnumType.l1, PhaseEnumType.l2, PhaseEnumType.l3)
VOLTAGE_PHASES = (PhaseEnumType.l1_n, PhaseEnumType.l2_n, PhaseEnumType.l3_n)


def meter_value(
    station: SimulatedChargingStation,
    conn: Connector,
    context: ReadingContextEnumType,
    measurands: list[str],
) -> datatypes.MeterValueType:
    """Sample ``measurands`` of a connector's present state."""
    values: list[datatypes.SampledValueType] = []

    def add(
        value: float,
        measurand: MeasurandEnumType,
        unit: str | None,
        phase: PhaseEnumType | None = None,
        location: LocationEnumType = LocationEnumType.outlet,
    ) -> None:
        values.append(
            datatypes.SampledValueType(
                value=value,
                context=context,
                measurand=measurand,
                phase=phase,
                location=location,
                unit_of_measure=datatypes.UnitOfMeasureType(unit=unit) if unit else None,
            )
        )

    offered, phases = station._offered(conn)
    for name in measurands:
        match MeasurandEnumType(name):
            case MeasurandEnumType.energy_active_import_register as m:
                add(round(conn.meter_wh), m, "Wh")
            case MeasurandEnumType.power_active_import as m:
                add(round(conn.power_w), m, "W")
            case MeasurandEnumType.current_import as m:
                for phase, amps in zip(CURRENT_PHASES, conn.currents, strict=False):
                    add(amps, m, "A", phase)
            case MeasurandEnumType.voltage as m:
                for phase, volts in zip(VOLTAGE_PHASES, conn.voltages, strict=False):
                    add(volts, m, "V", phase)
            case MeasurandEnumType.current_offered as m:
                add(round(offered, 1), m, "A")
            case MeasurandEnumType.power_offered as m:
                add(round(offered * station.volts * phases), m, "W")
            case MeasurandEnumType.soc as m if conn.session is not None:
                add(round(conn.session.soc), m, "Percent", None, LocationEnumType.ev)
            case MeasurandEnumType.frequency as m:
                add(round(50 + station._rng.gauss(0, 0.02), 2), m, None)
    if not values:  # a MeterValueType holds at least one value: the register
        add(round(conn.meter_wh), MeasurandEnumType.energy_active_import_register, "Wh")
    return datatypes.MeterValueType(timestamp=now_iso(), sampled_value=values)
