"""Sampled values read the same however many different ones chargers send, and however long."""

from __future__ import annotations

import pytest

from custom_components.levity_ocpp.csms.meter import InvalidMeterValue, parse_meter_values

_AT = "2026-01-01T00:00:00Z"


def _parse(*values: dict[str, object]) -> list[tuple[str, float | None, str | None]]:
    (sample,) = parse_meter_values([{"timestamp": _AT, "sampledValue": list(values)}])
    return [(value.measurand, value.value, value.unit) for value in sample.values]


def test_thousands_of_vendor_measurands_are_each_kept_as_sent() -> None:
    sent = [
        {"value": str(n), "measurand": f"Vendor.Reading.{n}", "unit": "kW"} for n in range(2000)
    ]
    assert _parse(*sent) == [(f"Vendor.Reading.{n}", n * 1000.0, "W") for n in range(2000)]
    # And again: the same answer, remembered or not.
    assert _parse(*sent[:3], *sent[-3:]) == [
        (f"Vendor.Reading.{n}", n * 1000.0, "W") for n in (0, 1, 2, 1997, 1998, 1999)
    ]


def test_a_long_measurand_is_kept_as_sent_every_time() -> None:
    name = "Vendor." + "x" * 5000
    value = {"value": "5", "measurand": name, "unit": "Wh"}
    assert _parse(value, value) == [(name, 0.005, "kWh"), (name, 0.005, "kWh")]


def test_a_list_where_a_name_belongs_is_a_broken_message_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidMeterValue, match=r"sampledValue\[1\]\.phase must be a string"):
            _parse({"value": "1"}, {"value": "1", "phase": ["L1"]})
