"""Sampled-value parsing of OCPP 1.6 MeterValues: every measurand, unit, phase and oddity."""

from __future__ import annotations

from datetime import UTC, datetime
import math
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.v16.enums import Location, Measurand, Phase, ReadingContext, UnitOfMeasure, ValueFormat
import pytest

from custom_components.levity_ocpp.csms.meter import (
    SCHEMA_UNIT_CELCIUS,
    SCHEMA_UNIT_HERTZ,
    UNIT_A,
    UNIT_CELSIUS,
    UNIT_HZ,
    UNIT_KVARH,
    UNIT_KWH,
    UNIT_PERCENT,
    UNIT_V,
    UNIT_VA,
    UNIT_VAR,
    UNIT_W,
    InvalidMeterValue,
    MeterSample,
    SampledValue,
    energy_register,
    energy_register_kwh,
    parse_meter_values,
    phase_average,
    phase_total,
)

STAMP = "2026-11-01T10:15:00Z"
T0 = datetime(2026, 11, 1, 10, 15, tzinfo=UTC)

ENERGY = Measurand.energy_active_import_register
POWER = Measurand.power_active_import
CURRENT = Measurand.current_import
VOLTAGE = Measurand.voltage


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override conftest's: plain parsing needs no Home Assistant and no recorder."""


def parse_one(**sampled: Any) -> SampledValue:
    """Parse one sampled value (keys as the ocpp library hands them over)."""
    samples = parse_meter_values([{"timestamp": STAMP, "sampled_value": [sampled]}])
    assert len(samples) == 1
    assert len(samples[0].values) == 1
    return samples[0].values[0]


def sample(*sampled: dict[str, Any]) -> MeterSample:
    """Parse one meter value holding these sampled values."""
    samples = parse_meter_values([{"timestamp": STAMP, "sampled_value": list(sampled)}])
    assert len(samples) == 1
    return samples[0]


def sv(
    measurand: str,
    value: str,
    phase: str | None = None,
    location: str | None = None,
    unit: str | None = None,
    value_format: str | None = None,
) -> dict[str, Any]:
    """A sampled value as the ocpp library hands it to a handler; None fields left out."""
    fields = {
        "measurand": measurand,
        "value": value,
        "phase": phase,
        "location": location,
        "unit": unit,
        "format": value_format,
    }
    return {key: item for key, item in fields.items() if item is not None}


# --- measurands -------------------------------------------------------------------------------

# Measurand -> (normalized unit, value) of "12.5" sent without a unit.
MEASURAND_DEFAULTS: dict[Measurand, tuple[str | None, float]] = {
    Measurand.energy_active_import_register: (UNIT_KWH, 0.0125),
    Measurand.energy_active_export_register: (UNIT_KWH, 0.0125),
    Measurand.energy_active_import_interval: (UNIT_KWH, 0.0125),
    Measurand.energy_active_export_interval: (UNIT_KWH, 0.0125),
    Measurand.energy_reactive_import_register: (UNIT_KVARH, 0.0125),
    Measurand.energy_reactive_export_register: (UNIT_KVARH, 0.0125),
    Measurand.energy_reactive_import_interval: (UNIT_KVARH, 0.0125),
    Measurand.energy_reactive_export_interval: (UNIT_KVARH, 0.0125),
    Measurand.power_active_import: (UNIT_W, 12.5),
    Measurand.power_active_export: (UNIT_W, 12.5),
    Measurand.power_offered: (UNIT_W, 12.5),
    Measurand.power_reactive_import: (UNIT_VAR, 12.5),
    Measurand.power_reactive_export: (UNIT_VAR, 12.5),
    Measurand.power_factor: (None, 12.5),
    Measurand.current_import: (UNIT_A, 12.5),
    Measurand.current_export: (UNIT_A, 12.5),
    Measurand.current_offered: (UNIT_A, 12.5),
    Measurand.voltage: (UNIT_V, 12.5),
    Measurand.frequency: (UNIT_HZ, 12.5),
    Measurand.temperature: (UNIT_CELSIUS, 12.5),
    Measurand.soc: (UNIT_PERCENT, 12.5),
    Measurand.rpm: (None, 12.5),
}


def test_measurand_table_covers_every_measurand() -> None:
    assert set(MEASURAND_DEFAULTS) == set(Measurand)


@pytest.mark.parametrize("measurand", list(Measurand))
def test_every_measurand(measurand: Measurand) -> None:
    parsed = parse_one(value="12.5", measurand=measurand.value)
    unit, value = MEASURAND_DEFAULTS[measurand]
    assert parsed.measurand == measurand.value
    assert type(parsed.measurand) is str
    assert parsed.unit == unit
    assert parsed.value == pytest.approx(value)
    assert parsed.raw == "12.5"
    assert parsed.key == f"{measurand.value}|-|{Location.outlet.value}"


@pytest.mark.parametrize("measurand", list(Measurand))
def test_every_measurand_with_explicit_unit(measurand: Measurand) -> None:
    """An explicit unit wins over the measurand's default."""
    parsed = parse_one(value="2", measurand=measurand.value, unit=UnitOfMeasure.kw.value)
    assert parsed.unit == UNIT_W
    assert parsed.value == 2000.0


def test_unknown_measurand_kept_as_sent() -> None:
    parsed = parse_one(value="42", measurand="Power.Active.Import.Total")
    assert parsed.measurand == "Power.Active.Import.Total"
    assert parsed.unit is None
    assert parsed.value == 42.0


def test_unknown_measurand_with_known_unit() -> None:
    parsed = parse_one(value="1500", measurand="Energy.Session", unit=UnitOfMeasure.wh.value)
    assert parsed.measurand == "Energy.Session"
    assert parsed.unit == UNIT_KWH
    assert parsed.value == 1.5


# --- phases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", list(Phase))
def test_every_phase(phase: Phase) -> None:
    parsed = parse_one(value="230", measurand=VOLTAGE.value, phase=phase.value)
    assert parsed.phase == phase.value
    assert type(parsed.phase) is str
    assert parsed.key == f"{VOLTAGE.value}|{phase.value}|{Location.outlet.value}"
    assert parsed.value == 230.0


def test_unknown_phase_kept_as_sent() -> None:
    assert parse_one(value="1", phase="L4").phase == "L4"


@pytest.mark.parametrize(("sent", "expected"), [("l1", Phase.l1), ("l2-n", Phase.l2_n)])
def test_phase_matched_case_insensitively(sent: str, expected: Phase) -> None:
    assert parse_one(value="1", phase=sent).phase == expected.value


# --- units ------------------------------------------------------------------------------------

# Unit -> (sent value, normalized unit, normalized value).
UNITS: dict[UnitOfMeasure, tuple[str, str, float]] = {
    UnitOfMeasure.wh: ("1500", UNIT_KWH, 1.5),
    UnitOfMeasure.kwh: ("1500", UNIT_KWH, 1500.0),
    UnitOfMeasure.varh: ("1500", UNIT_KVARH, 1.5),
    UnitOfMeasure.kvarh: ("1.5", UNIT_KVARH, 1.5),
    UnitOfMeasure.w: ("7400", UNIT_W, 7400.0),
    UnitOfMeasure.kw: ("7.4", UNIT_W, 7400.0),
    UnitOfMeasure.va: ("7400", UNIT_VA, 7400.0),
    UnitOfMeasure.kva: ("7.4", UNIT_VA, 7400.0),
    UnitOfMeasure.var: ("300", UNIT_VAR, 300.0),
    UnitOfMeasure.kvar: ("0.3", UNIT_VAR, 300.0),
    UnitOfMeasure.a: ("16", UNIT_A, 16.0),
    UnitOfMeasure.v: ("230.1", UNIT_V, 230.1),
    UnitOfMeasure.celsius: ("21.5", UNIT_CELSIUS, 21.5),
    UnitOfMeasure.fahrenheit: ("212", UNIT_CELSIUS, 100.0),
    UnitOfMeasure.k: ("300", UNIT_CELSIUS, 26.85),
    UnitOfMeasure.percent: ("80", UNIT_PERCENT, 80.0),
}


def test_unit_table_covers_every_unit() -> None:
    assert set(UNITS) == set(UnitOfMeasure)


@pytest.mark.parametrize("unit", list(UnitOfMeasure))
def test_every_unit(unit: UnitOfMeasure) -> None:
    raw, expected_unit, expected_value = UNITS[unit]
    parsed = parse_one(value=raw, unit=unit.value)
    assert parsed.unit == expected_unit
    assert parsed.value == pytest.approx(expected_value)
    assert isinstance(parsed.value, float)
    assert parsed.raw == raw


@pytest.mark.parametrize(
    ("unit", "raw", "expected_unit", "expected_value"),
    [
        (SCHEMA_UNIT_CELCIUS, "20", UNIT_CELSIUS, 20.0),  # the 1.6 schema's own spelling
        (SCHEMA_UNIT_HERTZ, "50.01", UNIT_HZ, 50.01),  # in the 1.6 schema, not in the enum
        ("kwh", "2", UNIT_KWH, 2.0),  # case-insensitive match
        ("WH", "2000", UNIT_KWH, 2.0),
        ("celsius", "4", UNIT_CELSIUS, 4.0),
        ("fahrenheit", "32", UNIT_CELSIUS, 0.0),
        ("k", "273.15", UNIT_CELSIUS, 0.0),
    ],
)
def test_schema_and_sloppy_units(
    unit: str, raw: str, expected_unit: str, expected_value: float
) -> None:
    parsed = parse_one(value=raw, unit=unit)
    assert parsed.unit == expected_unit
    assert parsed.value == pytest.approx(expected_value, abs=1e-9)


@pytest.mark.parametrize("unit", ["MWh", "mA", "Celsius degrees", "%", "kWh/h"])
def test_unknown_unit_gives_no_unit_and_unconverted_value(unit: str) -> None:
    parsed = parse_one(value="1500", unit=unit)
    assert parsed.unit is None
    assert parsed.value == 1500.0


def test_conversion_overflow_gives_none() -> None:
    parsed = parse_one(value="1e306", unit=UnitOfMeasure.kw.value, measurand=POWER.value)
    assert parsed.value is None
    assert parsed.unit == UNIT_W
    assert parsed.raw == "1e306"


# --- contexts, locations, formats -------------------------------------------------------------


@pytest.mark.parametrize("context", list(ReadingContext))
def test_every_context(context: ReadingContext) -> None:
    parsed = parse_one(value="1", context=context.value)
    assert parsed.context == context.value
    assert type(parsed.context) is str


@pytest.mark.parametrize("location", list(Location))
def test_every_location(location: Location) -> None:
    parsed = parse_one(value="1", location=location.value)
    assert parsed.location == location.value
    assert type(parsed.location) is str
    assert parsed.key == f"{ENERGY.value}|-|{location.value}"


def test_unknown_context_and_location_kept_as_sent() -> None:
    parsed = parse_one(value="1", context="Sample.Whenever", location="Roof")
    assert parsed.context == "Sample.Whenever"
    assert parsed.location == "Roof"
    assert parsed.key == f"{ENERGY.value}|-|Roof"


def test_raw_format_parsed() -> None:
    parsed = parse_one(value="1234", format=ValueFormat.raw.value)
    assert parsed.format == ValueFormat.raw.value
    assert parsed.value == 1.234


@pytest.mark.parametrize(
    "blob",
    [
        "1234",  # looks like a number: still not one
        "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        'OCMF|{"FV":"1.0","RD":[{"RV":"1.23"}]}|{"SA":"ECDSA"}',
        "  padded blob\n",
    ],
)
def test_signed_data_kept_verbatim(blob: str) -> None:
    parsed = parse_one(value=blob, format=ValueFormat.signed_data.value, unit="Wh")
    assert parsed.format == ValueFormat.signed_data.value
    assert parsed.value is None
    assert parsed.raw == blob
    assert parsed.unit == UNIT_KWH
    assert parsed.measurand == ENERGY.value


def test_unknown_format_kept_and_value_parsed() -> None:
    parsed = parse_one(value="10", format="Encrypted")
    assert parsed.format == "Encrypted"
    assert parsed.value == 0.01


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_when_keys_absent() -> None:
    parsed = parse_one(value="12345")
    assert parsed == SampledValue(
        measurand=ENERGY.value,
        value=12.345,
        unit=UNIT_KWH,
        phase=None,
        context=ReadingContext.sample_periodic.value,
        location=Location.outlet.value,
        format=ValueFormat.raw.value,
        raw="12345",
        resolution=0.001,  # 1 Wh
    )
    assert parsed.key == "Energy.Active.Import.Register|-|Outlet"


@pytest.mark.parametrize("empty", [None, ""])
def test_null_or_empty_fields_mean_default(empty: str | None) -> None:
    parsed = parse_one(
        value="12345",
        measurand=empty,
        unit=empty,
        phase=empty,
        context=empty,
        location=empty,
        format=empty,
    )
    assert parsed == parse_one(value="12345")


def test_key() -> None:
    parsed = parse_one(value="16", measurand=CURRENT.value, phase=Phase.l1.value)
    assert parsed.key == "Current.Import|L1|Outlet"


def test_sampled_value_is_frozen_and_round_trips_through_a_dict() -> None:
    parsed = parse_one(value="16", measurand=CURRENT.value, phase=Phase.l1.value)
    with pytest.raises(AttributeError):
        parsed.value = 1.0  # type: ignore[misc]
    assert SampledValue(**parsed._asdict()) == parsed
    assert all(item is None or type(item) in (str, float) for item in parsed)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0.0),
        ("12", 12.0),
        ("-3", -3.0),
        ("+4.5", 4.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("  7.25 ", 7.25),
        ("0012", 12.0),
    ],
)
def test_numbers(raw: str, expected: float) -> None:
    parsed = parse_one(value=raw, measurand=POWER.value, unit=UnitOfMeasure.w.value)
    assert parsed.value == expected
    assert parsed.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "",
        "   ",
        "1,5",
        "1.234,5",
        "0x10",
        "1_000",
        "12kW",
        "12 W",
        "--1",
        "1e",
        ".",
        "NaN",
        "nan",
        "-nan",
        "inf",
        "+inf",
        "-Infinity",
        "Infinity",
        "1e999",
        "-1e999",
        "0e400",  # zero, but its last digit's step is no float
        "٣",  # a non-ASCII digit float() would take
    ],
)
def test_garbage_numbers_kept_with_none(raw: str) -> None:
    parsed = parse_one(value=raw, measurand=POWER.value, unit=UnitOfMeasure.w.value)
    assert parsed.value is None
    assert parsed.raw == raw
    assert parsed.unit == UNIT_W


def test_numeric_json_value_accepted() -> None:
    """Not schema-valid, but a number is a number."""
    parsed = parse_one(value=1500)
    assert parsed.value == 1.5
    assert parsed.raw == "1500"


def test_output_values_always_finite() -> None:
    samples = parse_meter_values(
        [
            {
                "timestamp": STAMP,
                "sampled_value": [
                    {"value": raw, "unit": unit.value}
                    for raw in ("NaN", "inf", "1e308", "-1e308", "5")
                    for unit in UnitOfMeasure
                ],
            }
        ]
    )
    for value in samples[0].values:
        assert value.value is None or math.isfinite(value.value)


# --- timestamps and structure -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-01T10:15:00Z", T0),
        ("2026-11-01T10:15:00.000Z", T0),
        ("2026-11-01T12:15:00+02:00", T0),
        ("2026-11-01T10:15:00", T0),  # naive: taken as UTC
    ],
)
def test_timestamp_parsed_to_utc(stamp: str, expected: datetime) -> None:
    samples = parse_meter_values([{"timestamp": stamp, "sampled_value": [{"value": "1"}]}])
    assert samples[0].timestamp == expected
    assert samples[0].timestamp.utcoffset() is not None
    assert samples[0].timestamp.tzinfo == UTC


@pytest.mark.parametrize("stamp", [None, "", "garbage", "2026-13-01T00:00:00Z", 1700000000, []])
def test_bad_timestamp_is_invalid(stamp: Any) -> None:
    with pytest.raises(InvalidMeterValue, match="timestamp"):
        parse_meter_values([{"timestamp": stamp, "sampled_value": [{"value": "1"}]}])


def test_missing_timestamp_is_invalid() -> None:
    with pytest.raises(InvalidMeterValue, match=r"meterValue\[1\]"):
        parse_meter_values(
            [
                {"timestamp": STAMP, "sampled_value": [{"value": "1"}]},
                {"sampled_value": [{"value": "1"}]},
            ]
        )


def test_invalid_meter_value_is_a_value_error() -> None:
    assert issubclass(InvalidMeterValue, ValueError)


@pytest.mark.parametrize("meter_value", [None, {}, "meter", 5, {"timestamp": STAMP}])
def test_non_list_input_is_invalid(meter_value: Any) -> None:
    with pytest.raises(InvalidMeterValue):
        parse_meter_values(meter_value)


@pytest.mark.parametrize("item", [None, "x", 5, [], [{"value": "1"}]])
def test_non_dict_meter_value_is_invalid(item: Any) -> None:
    with pytest.raises(InvalidMeterValue, match=r"meterValue\[0\]"):
        parse_meter_values([item])


@pytest.mark.parametrize(
    "item",
    [
        {"timestamp": STAMP},
        {"timestamp": STAMP, "sampled_value": None},
        {"timestamp": STAMP, "sampled_value": {"value": "1"}},
        {"timestamp": STAMP, "sampled_value": "1"},
        {"timestamp": STAMP, "sampledvalue": [{"value": "1"}]},
    ],
)
def test_missing_or_broken_sampled_value_list_is_invalid(item: dict[str, Any]) -> None:
    with pytest.raises(InvalidMeterValue, match="sampledValue"):
        parse_meter_values([item])


@pytest.mark.parametrize(
    "sampled",
    [
        None,
        "1",
        5,
        ["1"],
        {},
        {"value": None},
        {"value": True},
        {"value": ["1"]},
        {"value": {"v": "1"}},
        {"measurand": ENERGY.value},
        {"value": "1", "measurand": 5},
        {"value": "1", "unit": ["Wh"]},
        {"value": "1", "phase": 1},
        {"value": "1", "context": {}},
        {"value": "1", "location": True},
        {"value": "1", "format": 0},
    ],
)
def test_broken_sampled_value_is_invalid(sampled: Any) -> None:
    with pytest.raises(InvalidMeterValue, match=r"meterValue\[0\]\.sampledValue\[1\]"):
        parse_meter_values([{"timestamp": STAMP, "sampled_value": [{"value": "1"}, sampled]}])


def test_empty_list_gives_no_samples() -> None:
    assert parse_meter_values([]) == []


def test_empty_sampled_value_list_gives_empty_sample() -> None:
    assert parse_meter_values([{"timestamp": STAMP, "sampled_value": []}]) == [
        MeterSample(timestamp=T0, values=())
    ]


def test_samples_sorted_oldest_first_values_in_order_sent() -> None:
    meter_value = [
        {"timestamp": "2026-11-01T10:17:00Z", "sampled_value": [{"value": "3"}]},
        {
            "timestamp": "2026-11-01T10:15:00Z",
            "sampled_value": [{"value": "1"}, {"value": "9", "measurand": POWER.value}],
        },
        {"timestamp": "2026-11-01T12:16:00+02:00", "sampled_value": [{"value": "2"}]},
        {"timestamp": "2026-11-01T10:15:00Z", "sampled_value": [{"value": "1b"}]},
    ]
    samples = parse_meter_values(meter_value)
    assert [sample.timestamp.minute for sample in samples] == [15, 15, 16, 17]
    assert [sample.values[0].raw for sample in samples] == ["1", "1b", "2", "3"]
    assert [value.raw for value in samples[0].values] == ["1", "9"]
    assert [value.measurand for value in samples[0].values] == [ENERGY.value, POWER.value]


def test_input_not_modified() -> None:
    meter_value = [
        {"timestamp": "2026-11-01T10:17:00Z", "sampled_value": [{"value": "3"}]},
        {"timestamp": "2026-11-01T10:15:00Z", "sampled_value": [{"value": "1"}]},
    ]
    copy = [dict(item) for item in meter_value]
    parse_meter_values(meter_value)
    assert meter_value == copy


# --- key spelling -----------------------------------------------------------------------------

WIRE = [
    {
        "timestamp": "2026-11-01T10:15:00Z",
        "sampledValue": [
            {
                "value": "7.4",
                "context": ReadingContext.sample_clock.value,
                "format": ValueFormat.raw.value,
                "measurand": POWER.value,
                "phase": Phase.l1.value,
                "location": Location.outlet.value,
                "unit": UnitOfMeasure.kw.value,
            },
            {"value": "12345"},
        ],
    }
]


def test_camel_case_and_snake_case_keys_agree() -> None:
    snake = camel_to_snake_case(WIRE)
    assert "sampled_value" in snake[0]
    assert "sampledValue" not in snake[0]
    from_wire = parse_meter_values(WIRE)
    assert from_wire == parse_meter_values(snake)
    power, energy = from_wire[0].values
    assert power == SampledValue(
        measurand=POWER.value,
        value=7400.0,
        unit=UNIT_W,
        phase=Phase.l1.value,
        context=ReadingContext.sample_clock.value,
        location=Location.outlet.value,
        format=ValueFormat.raw.value,
        raw="7.4",
        resolution=pytest.approx(100.0),  # 0.1 kW
    )
    assert energy.value == 12.345


def test_library_conversion_reaches_nested_sampled_values() -> None:
    """The ocpp library converts keys recursively: nested lists of dicts too."""
    converted = camel_to_snake_case({"meterValue": WIRE})
    assert set(converted) == {"meter_value"}
    assert set(converted["meter_value"][0]) == {"timestamp", "sampled_value"}
    assert set(converted["meter_value"][0]["sampled_value"][0]) == {
        "value",
        "context",
        "format",
        "measurand",
        "phase",
        "location",
        "unit",
    }


# --- energy_register_kwh ----------------------------------------------------------------------


def test_energy_register_unphased() -> None:
    assert energy_register_kwh(sample(sv(ENERGY, "12345"))) == 12.345


def test_energy_register_in_kwh_unit() -> None:
    assert energy_register_kwh(sample(sv(ENERGY, "12.5", unit=UnitOfMeasure.kwh))) == 12.5


def test_energy_register_sum_of_phases() -> None:
    result = energy_register_kwh(
        sample(sv(ENERGY, "1000", Phase.l1), sv(ENERGY, "2000", Phase.l2), sv(ENERGY, "3000", "L3"))
    )
    assert result == pytest.approx(6.0)


def test_energy_register_sum_of_line_to_neutral_phases() -> None:
    result = energy_register_kwh(
        sample(
            sv(ENERGY, "1000", Phase.l1_n),
            sv(ENERGY, "2000", Phase.l2_n),
            sv(ENERGY, "3000", Phase.l3_n),
        )
    )
    assert result == pytest.approx(6.0)


def test_energy_register_unphased_preferred_over_phases() -> None:
    result = energy_register_kwh(
        sample(
            sv(ENERGY, "1000", Phase.l1),
            sv(ENERGY, "2000", Phase.l2),
            sv(ENERGY, "3000", Phase.l3),
            sv(ENERGY, "6100"),
        )
    )
    assert result == 6.1


def test_energy_register_sums_the_phases_reported() -> None:
    # A single-phase charger tagging its register L1; a split-phase one reporting L1, L2.
    assert energy_register_kwh(sample(sv(ENERGY, "1234", "L1"))) == pytest.approx(1.234)
    assert energy_register_kwh(sample(sv(ENERGY, "1234", "L1-N"))) == pytest.approx(1.234)
    two = sample(sv(ENERGY, "1000", "L1"), sv(ENERGY, "2000", "L2"))
    assert energy_register_kwh(two) == pytest.approx(3.0)


def test_energy_register_ignores_other_phases_and_measurands() -> None:
    result = energy_register_kwh(
        sample(
            sv(ENERGY, "1000", Phase.n),
            sv(ENERGY, "1000", Phase.l1_l2),
            sv(Measurand.energy_active_export_register, "5000"),
            sv(POWER, "7400"),
        )
    )
    assert result is None


def test_energy_register_ignores_signed_and_garbage_values() -> None:
    signed = sv(ENERGY, "12345", value_format=ValueFormat.signed_data)
    assert energy_register_kwh(sample(signed)) is None
    assert energy_register_kwh(sample(sv(ENERGY, "abc"))) is None
    assert energy_register_kwh(sample(signed, sv(ENERGY, "abc"), sv(ENERGY, "2000"))) == 2.0


def test_energy_register_ignores_non_energy_units() -> None:
    assert energy_register_kwh(sample(sv(ENERGY, "16", unit=UnitOfMeasure.a))) is None
    assert energy_register_kwh(sample(sv(ENERGY, "16", unit="MWh"))) is None


def test_energy_register_prefers_outlet() -> None:
    readings = sample(
        sv(ENERGY, "1000", location=Location.inlet),
        sv(ENERGY, "2000", location=Location.outlet),
        sv(ENERGY, "3000", location=Location.body),
    )
    assert energy_register_kwh(readings) == 2.0


def test_energy_register_default_location_is_outlet() -> None:
    readings = sample(sv(ENERGY, "1000", location=Location.inlet), sv(ENERGY, "2000"))
    assert energy_register_kwh(readings) == 2.0


def test_energy_register_falls_back_to_other_location() -> None:
    readings = sample(
        sv(ENERGY, "1000", Phase.l1),  # outlet, incomplete
        sv(ENERGY, "3000", location=Location.inlet),
        sv(ENERGY, "4000", location=Location.cable),
    )
    assert energy_register_kwh(readings) == 3.0


@pytest.mark.parametrize("location", list(Location))
def test_energy_register_location_restricts(location: Location) -> None:
    readings = sample(
        *(sv(ENERGY, str(1000 * (i + 1)), location=loc) for i, loc in enumerate(Location))
    )
    expected = (list(Location).index(location) + 1) * 1.0
    assert energy_register_kwh(readings, location.value) == expected
    assert energy_register_kwh(sample(sv(ENERGY, "1000", location="Roof")), location.value) is None


def test_energy_register_of_empty_sample() -> None:
    assert energy_register_kwh(MeterSample(timestamp=T0, values=())) is None


# --- phase_total ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        pytest.param([], None, id="nothing"),
        pytest.param([sv(POWER, "7400")], 7400.0, id="unphased"),
        pytest.param(
            [sv(POWER, "1000", "L1"), sv(POWER, "2000", "L2"), sv(POWER, "3000", "L3")],
            6000.0,
            id="sum-L1-L3",
        ),
        pytest.param(
            [sv(POWER, "1000", "L1-N"), sv(POWER, "2000", "L2-N"), sv(POWER, "3000", "L3-N")],
            6000.0,
            id="sum-line-to-neutral",
        ),
        pytest.param([sv(POWER, "1000", "L1"), sv(POWER, "2000", "L3")], 3000.0, id="two-phases"),
        pytest.param([sv(POWER, "1000", "L1"), sv(POWER, "2000", "L2-N")], 3000.0, id="mixed"),
        pytest.param(
            [sv(POWER, "1000", "L1"), sv(POWER, "1100", "L1-N")], 1000.0, id="L1-over-L1-N"
        ),
        pytest.param(
            [sv(POWER, "1000", "L1"), sv(POWER, "2000", "L2"), sv(POWER, "2900")],
            2900.0,
            id="unphased-wins",
        ),
        pytest.param([sv(POWER, "5", "N"), sv(POWER, "1000", "L1")], 1000.0, id="neutral-ignored"),
        pytest.param([sv(POWER, "1000", "L1-L2")], None, id="line-to-line-ignored"),
        pytest.param([sv(POWER, "7.4", unit="kW")], 7400.0, id="normalized"),
        pytest.param([sv(POWER, "abc"), sv(POWER, "1000", "L1")], 1000.0, id="garbage-ignored"),
        pytest.param(
            [sv(POWER, "1", value_format=ValueFormat.signed_data)], None, id="signed-ignored"
        ),
        pytest.param([sv(CURRENT, "16"), sv(ENERGY, "1")], None, id="other-measurands"),
        pytest.param([sv(POWER, "100"), sv(POWER, "200")], 100.0, id="first-duplicate"),
        pytest.param(
            [sv(POWER, "1000", location="Inlet"), sv(POWER, "2000", "L1")], 2000.0, id="outlet"
        ),
        pytest.param(
            [
                sv(POWER, "1000", "L1", location="Inlet"),
                sv(POWER, "2000", "L2", location="Inlet"),
                sv(POWER, "5000", "L3", location="EV"),
            ],
            3000.0,
            id="one-location",
        ),
    ],
)
def test_phase_total(readings: list[dict[str, Any]], expected: float | None) -> None:
    values = sample(*readings).values
    assert phase_total(values, POWER.value) == expected


def test_phase_total_accepts_any_iterable() -> None:
    values = sample(sv(POWER, "1000", "L1"), sv(POWER, "2000", "L2")).values
    assert phase_total(iter(values), POWER) == 3000.0
    assert phase_total((v for v in values), POWER.value) == 3000.0


# --- phase_average ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measurand", "readings", "expected"),
    [
        pytest.param(CURRENT, [], None, id="nothing"),
        pytest.param(CURRENT, [sv(CURRENT, "16")], 16.0, id="unphased"),
        pytest.param(
            CURRENT,
            [sv(CURRENT, "15", "L1"), sv(CURRENT, "16", "L2"), sv(CURRENT, "17", "L3")],
            16.0,
            id="mean-L1-L3",
        ),
        pytest.param(
            CURRENT, [sv(CURRENT, "10", "L1"), sv(CURRENT, "20", "L2")], 15.0, id="two-phases"
        ),
        pytest.param(
            CURRENT,
            [sv(CURRENT, "10", "L1"), sv(CURRENT, "30", "L2"), sv(CURRENT, "13")],
            13.0,
            id="unphased-wins",
        ),
        pytest.param(
            CURRENT, [sv(CURRENT, "2", "N"), sv(CURRENT, "16", "L1")], 16.0, id="neutral-ignored"
        ),
        pytest.param(CURRENT, [sv(CURRENT, "2", "N")], None, id="only-neutral"),
        pytest.param(
            VOLTAGE,
            [sv(VOLTAGE, "229", "L1-N"), sv(VOLTAGE, "231", "L2-N"), sv(VOLTAGE, "233", "L3-N")],
            231.0,
            id="line-to-neutral",
        ),
        pytest.param(
            VOLTAGE,
            [
                sv(VOLTAGE, "400", "L1-L2"),
                sv(VOLTAGE, "229", "L1-N"),
                sv(VOLTAGE, "401", "L2-L3"),
                sv(VOLTAGE, "231", "L2-N"),
            ],
            230.0,
            id="line-to-neutral-over-line-to-line",
        ),
        pytest.param(
            VOLTAGE,
            [sv(VOLTAGE, "228", "L1"), sv(VOLTAGE, "232", "L2"), sv(VOLTAGE, "400", "L1-L2")],
            230.0,
            id="plain-phases-over-line-to-line",
        ),
        pytest.param(
            VOLTAGE, [sv(VOLTAGE, "230", "L1-N"), sv(VOLTAGE, "240", "L1")], 230.0, id="L1-N-first"
        ),
        pytest.param(
            VOLTAGE,
            [sv(VOLTAGE, "398", "L1-L2"), sv(VOLTAGE, "400", "L2-L3"), sv(VOLTAGE, "402", "L3-L1")],
            400.0,
            id="line-to-line-fallback",
        ),
        pytest.param(VOLTAGE, [sv(VOLTAGE, "0.4", unit="kV")], 0.4, id="unknown-unit-unconverted"),
        pytest.param(
            VOLTAGE,
            [sv(VOLTAGE, "abc", "L1"), sv(VOLTAGE, "230", "L2")],
            230.0,
            id="garbage-ignored",
        ),
        pytest.param(
            CURRENT,
            [sv(CURRENT, "10", "L1", location="Inlet"), sv(CURRENT, "20", "L1", location="EV")],
            10.0,
            id="first-location-without-outlet",
        ),
        pytest.param(
            CURRENT,
            [sv(CURRENT, "10", location="Inlet"), sv(CURRENT, "20", "L1")],
            20.0,
            id="outlet-preferred",
        ),
        pytest.param(Measurand.soc, [sv(Measurand.soc, "80")], 80.0, id="soc"),
        pytest.param(
            Measurand.temperature,
            [sv(Measurand.temperature, "40", location="Body")],
            40.0,
            id="temperature-body",
        ),
    ],
)
def test_phase_average(
    measurand: Measurand, readings: list[dict[str, Any]], expected: float | None
) -> None:
    values = sample(*readings).values
    result = phase_average(values, measurand.value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


# --- resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "unit", "resolution_kwh"),
    [
        ("91.67", "Wh", 0.00001),
        ("91.6667", "Wh", 0.0000001),
        ("1200", "Wh", 0.001),
        ("1.2e3", "Wh", 0.1),
        ("12.5", "kWh", 0.1),
    ],
)
def test_register_resolution_is_the_step_of_the_last_digit(
    raw: str, unit: str, resolution_kwh: float
) -> None:
    register = energy_register(sample(sv(ENERGY, raw, unit=unit)))
    assert register is not None
    assert register.resolution_kwh == pytest.approx(resolution_kwh)


def test_register_resolution_of_phases_adds_up() -> None:
    register = energy_register(sample(sv(ENERGY, "1.5", "L1"), sv(ENERGY, "2", "L2")))
    assert register is not None
    assert register.kwh == pytest.approx(0.0035)
    assert register.resolution_kwh == pytest.approx(0.0011)
