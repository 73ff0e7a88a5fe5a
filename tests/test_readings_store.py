"""A connector's latest readings kept: newest per series, and no work for the garbage collector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import gc

import pytest

from custom_components.levity_ocpp.csms.meter import SampledValue
from custom_components.levity_ocpp.csms.readings import Reading, Readings

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def sampled(measurand: str, value: float, phase: str | None = None) -> SampledValue:
    return SampledValue(
        measurand, value, "A", phase, "Sample.Periodic", "Outlet", "Raw", str(value), 0.1
    )


def test_the_newest_reading_of_each_series_is_kept() -> None:
    readings = Readings()
    l1, l2 = sampled("Current.Import", 15.9, "L1"), sampled("Current.Import", 16.1, "L2")
    assert readings.take([l1, l2], T0, T0) is True  # new series
    assert len(readings) == 2
    assert readings.get(l1.key) == Reading(l1, T0, T0)
    assert readings[l2.key].sampled.value == 16.1
    assert readings.get("Voltage|L1-N|Outlet") is None
    with pytest.raises(KeyError):
        readings["Voltage|L1-N|Outlet"]

    later = T0 + timedelta(seconds=10)
    newer = sampled("Current.Import", 12.0, "L1")
    assert readings.take([newer], later, later) is False  # a known series
    # Buffered history (older than what is known) never overwrites a live value.
    assert readings.take([sampled("Current.Import", 3.0, "L1")], T0, later) is False
    assert readings[l1.key] == Reading(newer, later, later)

    voltage = sampled("Voltage", 230.0, "L1-N")
    readings.put(Reading(voltage, T0))  # restored: not received since
    assert {r.sampled.value for r in readings.of("Current.Import")} == {12.0, 16.1}
    assert [r.sampled for r in readings.of("Voltage")] == [voltage]
    assert list(readings.received()) == [later, T0, None]
    assert [r.sampled.key for r in readings.values()] == [l1.key, l2.key, voltage.key]


def test_readings_compare_by_what_they_hold() -> None:
    one, other = Readings(), Readings()
    value = sampled("SoC", 40.0)
    one.take([value], T0, T0)
    assert one != other
    assert one != {value.key: Reading(value, T0, T0)}  # not a dict
    other.take([value], T0, T0)
    assert one == other
    assert "SoC" in repr(one)
    assert not Readings()  # empty is false, as a dict of them was


def test_kept_readings_are_not_tracked_by_the_garbage_collector() -> None:
    """What stays between MeterValues is no object for the collector to walk or promote."""
    readings = Readings()
    measurand = "Current.Import.ThisTest"  # no other test's objects count
    values = [sampled(measurand, 15.0 + n, f"L{n}") for n in (1, 2, 3)]
    readings.take(values, T0, T0)
    del values
    gc.collect()
    alive = [
        o
        for o in gc.get_objects()
        if (isinstance(o, SampledValue) and o.measurand == measurand)
        or (isinstance(o, Reading) and o.sampled.measurand == measurand)
    ]
    assert alive == []
    # ... yet every value reads back as it was taken.
    assert [r.sampled.value for r in readings.of(measurand)] == [16.0, 17.0, 18.0]


def test_a_row_holds_every_field_of_a_sampled_value() -> None:
    """The row's layout follows SampledValue: a new field there is not silently dropped."""
    value = sampled("Voltage", 230.0, "L1-N")
    readings = Readings()
    readings.take([value], T0, T0)
    assert readings[value.key] == Reading(value, T0, T0)
    assert len(SampledValue._fields) == 9
