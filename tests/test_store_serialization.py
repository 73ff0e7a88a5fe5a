"""The charge point store's hand-written reading serialization keeps every field."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.levity_ocpp.csms.meter import SampledValue
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.store import charge_point_from_dict, charge_point_to_dict


def test_readings_round_trip_with_every_field() -> None:
    """A reading saved and loaded is the same reading; a new SampledValue field is not lost."""
    cp = ChargePoint("CP1")
    moment = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    sampled = SampledValue(
        "Power.Active.Import", 7.4, "kW", "L1", "Sample.Periodic", "Outlet", "Raw", "7.40", 0.01
    )
    cp.connector(1).readings.take([sampled], moment, moment)
    saved = charge_point_to_dict(cp)
    (reading,) = saved["connectors"][0]["readings"]
    assert set(reading) == set(SampledValue._fields) | {"time"}
    assert {k: v for k, v in reading.items() if k != "time"} == sampled._asdict()
    restored = charge_point_from_dict(saved).connectors[1].readings[sampled.key]
    assert restored.sampled == sampled
    assert restored.time == moment
