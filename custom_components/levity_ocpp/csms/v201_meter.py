"""OCPP 2.0.1 meter values as the samples meter.py parses.

2.0.1 sampled values have the 1.6 measurands, phases, locations and contexts; they
differ in form: the value is a JSON number, the unit sits in `unitOfMeasure` with a
power-of-ten `multiplier`, and a signed reading comes as `signedMeterValue` beside
the number instead of replacing it. Each is rewritten into the 1.6 shape and
parsed by meter.py, so both versions give the same readings. A signed value keeps
its number (the register counts) and its signed data as sent (`raw`), with format
SignedData.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ocpp.v16.enums import ValueFormat

from .meter import InvalidMeterValue, MeterSample, parse_meter_values

# 2.0.1 spells a few units differently from the 1.6 schema meter.py knows.
_UNIT_SPELLING = {"hz": "Hertz"}
_SIGNED_DATA = ValueFormat.signed_data.value


def parse_meter_values_v201(meter_value: Any) -> list[MeterSample]:
    """Parse a 2.0.1 meterValue list (as the library hands it: snake_case keys).

    Raises InvalidMeterValue as meter.py does for a structurally broken list;
    samples come back oldest first.
    """
    if not isinstance(meter_value, list | tuple):
        raise InvalidMeterValue(f"meterValue must be a list, not {type(meter_value).__name__}")
    samples = [_sample(index, item) for index, item in enumerate(meter_value)]
    samples.sort(key=lambda sample: sample.timestamp)
    return samples


def _sample(index: int, item: Any) -> MeterSample:
    if not isinstance(item, Mapping):
        raise InvalidMeterValue(f"meterValue[{index}] must be an object")
    values = item.get("sampled_value")
    if not isinstance(values, list | tuple):
        raise InvalidMeterValue(f"meterValue[{index}] has no sampledValue list")
    converted = [_sampled_value(value) for value in values]
    try:
        (sample,) = parse_meter_values([{**item, "sampled_value": [v for v, _ in converted]}])
    except InvalidMeterValue as error:  # its own index, not 0
        raise InvalidMeterValue(
            str(error).replace("meterValue[0]", f"meterValue[{index}]")
        ) from None
    if not any(data for _, data in converted):
        return sample
    return MeterSample(
        sample.timestamp,
        tuple(
            value._replace(format=_SIGNED_DATA, raw=data) if data else value
            for value, (_, data) in zip(sample.values, converted, strict=True)
        ),
    )


def _sampled_value(item: Any) -> tuple[Any, str | None]:
    """One 2.0.1 sampledValue in the 1.6 shape, and its signed meter data (if any)."""
    if not isinstance(item, Mapping):
        return item, None  # meter.py says what is wrong with it
    shaped = {
        key: item[key] for key in ("measurand", "phase", "location", "context") if key in item
    }
    unit = item.get("unit_of_measure")
    multiplier = 0
    if isinstance(unit, Mapping):
        if isinstance(unit.get("unit"), str):
            shaped["unit"] = _UNIT_SPELLING.get(unit["unit"].casefold(), unit["unit"])
        if isinstance(unit.get("multiplier"), int) and not isinstance(unit["multiplier"], bool):
            multiplier = unit["multiplier"]
    shaped["value"] = _scaled(item.get("value"), multiplier)
    signed = item.get("signed_meter_value")
    data = signed.get("signed_meter_data") if isinstance(signed, Mapping) else None
    return shaped, data if isinstance(data, str) else None


def _scaled(value: Any, multiplier: int) -> Any:
    """The value times 10^multiplier, as decimal text keeping its precision."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value  # meter.py says what is wrong with it
    if multiplier == 0:
        return str(value)
    try:
        return str(Decimal(str(value)).scaleb(multiplier))
    except ArithmeticError:  # a power of ten beyond any meter: no reading at all
        return "NaN"
