"""The meter profile: current, voltage, power, energy, SoC and temperature over time."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp.v16 import datatypes
from ocpp.v16.enums import (
    ChargePointStatus,
    Location,
    Measurand,
    Phase,
    ReadingContext,
    UnitOfMeasure,
)

from .config import measurands
from .model import AMBIENT_C, Connector, now_iso

MIN_CHARGING_AMPS = 6.0  # IEC 61851: below this an EV cannot charge (SuspendedEVSE)
CURRENT_PHASES = (Phase.l1, Phase.l2, Phase.l3)
VOLTAGE_PHASES = (Phase.l1_n, Phase.l2_n, Phase.l3_n)


class Meter:
    """Mixin of :class:`~.core.SimulatedChargePoint`: its connectors' electrical state."""

    def _offered(self, conn: Connector) -> tuple[float, int]:
        """Current per phase and phases offered: the EV's maximum capped by profiles."""
        sess = conn.session
        tx_start = sess.transaction_started if sess else None
        limit = self.profiles.limit_at(conn.connector_id, datetime.now(UTC), tx_start)
        if limit is None:
            return self.amps, self.phases
        phases = self.phases
        if limit.phases and self._switches_phases():
            phases = min(phases, limit.phases)
        return max(0.0, min(self.amps, limit.amps)), phases

    def _switches_phases(self) -> bool:
        """Whether a profile may lower the phases charged on (OCPP 1.6's key)."""
        return bool(self.config["ConnectorSwitch3to1PhaseSupported"].value == "true")

    def _measure(self, conn: Connector, elapsed: float) -> None:
        """Advance a connector's electrical state and meter by ``elapsed`` seconds."""
        sess = conn.session
        charging = (
            sess is not None
            and sess.transaction_id is not None
            and conn.status in (ChargePointStatus.charging, ChargePointStatus.suspended_evse)
        )
        amps = 0.0
        offered, phases = self._offered(conn)
        if charging and sess is not None and offered >= MIN_CHARGING_AMPS:
            taper = 1.0 if sess.soc < 80 else max(0.2, 1 - (sess.soc - 80) / 25)
            amps = offered * taper
        rng = self._rng
        conn.voltages = [
            round(self.volts * (1 + rng.gauss(0, 0.004)), 1) for _ in range(self.phases)
        ]
        conn.currents = [
            round(max(0.0, amps * (1 + rng.gauss(0, 0.01))), 2) if amps and n < phases else 0.0
            for n in range(self.phases)
        ]
        conn.power_w = round(sum(v * i for v, i in zip(conn.voltages, conn.currents, strict=True)))
        if sess is not None and charging and elapsed > 0:
            energy = conn.power_w * elapsed * self.speed / 3600
            energy = min(energy, sess.target_wh - sess.delivered_wh)
            sess.delivered_wh += energy
            conn.meter_wh += energy
        max_power = self.amps * self.volts * self.phases
        target_c = AMBIENT_C + 18 * conn.power_w / max_power
        weight = min(1.0, elapsed * self.speed / 300)
        conn.temperature_c += (target_c - conn.temperature_c) * weight

    def _meter_value(
        self, conn: Connector, context: ReadingContext, *, stop: bool = False
    ) -> datatypes.MeterValue:
        """Sample the measurands configured in MeterValuesSampledData (or
        StopTxnSampledData for ``stop``) from a connector's current state."""
        key = "StopTxnSampledData" if stop else "MeterValuesSampledData"
        values: list[datatypes.SampledValue] = []

        def add(
            value: str,
            measurand: Measurand,
            unit: UnitOfMeasure | None,
            phase: Phase | None = None,
            location: Location = Location.outlet,
        ) -> None:
            values.append(
                datatypes.SampledValue(
                    value=value,
                    context=context,
                    measurand=measurand,
                    phase=phase,
                    location=location,
                    unit=unit,
                )
            )

        offered, phases = self._offered(conn)
        for name in measurands(self.config, key):
            match Measurand(name):
                case Measurand.energy_active_import_register as m:
                    add(f"{conn.meter_wh:.0f}", m, UnitOfMeasure.wh)
                case Measurand.power_active_import as m:
                    add(f"{conn.power_w:.0f}", m, UnitOfMeasure.w)
                case Measurand.current_import as m:
                    for phase, amps in zip(CURRENT_PHASES, conn.currents, strict=False):
                        add(f"{amps:.2f}", m, UnitOfMeasure.a, phase)
                case Measurand.voltage as m:
                    for phase, volts in zip(VOLTAGE_PHASES, conn.voltages, strict=False):
                        add(f"{volts:.1f}", m, UnitOfMeasure.v, phase)
                case Measurand.current_offered as m:
                    add(f"{offered:.1f}", m, UnitOfMeasure.a)
                case Measurand.power_offered as m:
                    watts = offered * self.volts * phases
                    add(f"{watts:.0f}", m, UnitOfMeasure.w)
                case Measurand.soc as m if conn.session is not None:
                    add(f"{conn.session.soc:.0f}", m, UnitOfMeasure.percent, None, Location.ev)
                case Measurand.temperature as m:
                    add(f"{conn.temperature_c:.1f}", m, UnitOfMeasure.celsius, None, Location.body)
                case Measurand.frequency as m:
                    add(f"{50 + self._rng.gauss(0, 0.02):.2f}", m, None)
        return datatypes.MeterValue(timestamp=now_iso(), sampled_value=values)
