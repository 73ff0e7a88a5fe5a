"""OCPP 1.6 sampled values: measurands, units, phases, contexts, locations and timestamps.

A MeterValues.req (or StopTransaction.req transactionData) carries a list of meter values,
each a timestamp with sampled values. This module turns that list into immutable
`MeterSample`s whose numbers are normalized to one unit per quantity (kWh, W, A, V, °C, ...),
and offers the few aggregations the rest of the integration needs (energy register, total
power over phases, mean current or voltage over phases).

Chargers are sloppy: a value that is not a finite number is kept with `value=None`, an
unknown measurand or unit is kept rather than rejected. Only a structurally broken list
(not a list, no timestamp, no sampled values) raises `InvalidMeterValue`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math
import re
from typing import Any, NamedTuple

from ocpp.v16.enums import Location, Measurand, Phase, ReadingContext, UnitOfMeasure, ValueFormat

from .timestamps import parse_timestamp

# Normalized units (spelled like Home Assistant's unit constants, which csms/ cannot import).
UNIT_KWH = "kWh"
UNIT_KVARH = "kvarh"
UNIT_W = "W"
UNIT_VAR = "var"
UNIT_VA = "VA"
UNIT_A = "A"
UNIT_V = "V"
UNIT_CELSIUS = "°C"
UNIT_PERCENT = "%"
UNIT_HZ = "Hz"

# Units the 1.6 JSON schema (MeterValues.json) accepts but the library's UnitOfMeasure lacks:
# the spec's own misspelling of Celsius, and the unit of the Frequency measurand.
SCHEMA_UNIT_CELCIUS = "Celcius"
SCHEMA_UNIT_HERTZ = "Hertz"

NO_PHASE = "-"

# A decimal number; its groups: the digits after the point (either form), the exponent.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?")


def _milli(value: float) -> float:
    return value / 1000


def _kilo(value: float) -> float:
    return value * 1000


# Unit as sent -> (normalized unit, conversion of the number; None: taken as it is).
_NORMALIZE: dict[str, tuple[str, Callable[[float], float] | None]] = {
    UnitOfMeasure.wh: (UNIT_KWH, _milli),
    UnitOfMeasure.kwh: (UNIT_KWH, None),
    UnitOfMeasure.varh: (UNIT_KVARH, _milli),
    UnitOfMeasure.kvarh: (UNIT_KVARH, None),
    UnitOfMeasure.w: (UNIT_W, None),
    UnitOfMeasure.kw: (UNIT_W, _kilo),
    UnitOfMeasure.va: (UNIT_VA, None),
    UnitOfMeasure.kva: (UNIT_VA, _kilo),
    UnitOfMeasure.var: (UNIT_VAR, None),
    UnitOfMeasure.kvar: (UNIT_VAR, _kilo),
    UnitOfMeasure.a: (UNIT_A, None),
    UnitOfMeasure.v: (UNIT_V, None),
    UnitOfMeasure.celsius: (UNIT_CELSIUS, None),
    SCHEMA_UNIT_CELCIUS: (UNIT_CELSIUS, None),
    UnitOfMeasure.fahrenheit: (UNIT_CELSIUS, lambda value: (value - 32) * 5 / 9),
    UnitOfMeasure.k: (UNIT_CELSIUS, lambda value: value - 273.15),
    UnitOfMeasure.percent: (UNIT_PERCENT, None),
    SCHEMA_UNIT_HERTZ: (UNIT_HZ, None),
}
_UNITS_FOLDED = {str(unit).casefold(): str(unit) for unit in _NORMALIZE}

# The unit of a measurand sent without one. The spec defines "Wh" for the energy measurands
# only; for the others the measurand's own SI unit is the only sensible reading. Power.Factor,
# RPM and measurands unknown to 1.6 get no unit.
_DEFAULT_UNIT: dict[str, str] = {
    Measurand.energy_active_import_register: UnitOfMeasure.wh,
    Measurand.energy_active_export_register: UnitOfMeasure.wh,
    Measurand.energy_active_import_interval: UnitOfMeasure.wh,
    Measurand.energy_active_export_interval: UnitOfMeasure.wh,
    Measurand.energy_reactive_import_register: UnitOfMeasure.varh,
    Measurand.energy_reactive_export_register: UnitOfMeasure.varh,
    Measurand.energy_reactive_import_interval: UnitOfMeasure.varh,
    Measurand.energy_reactive_export_interval: UnitOfMeasure.varh,
    Measurand.power_active_import: UnitOfMeasure.w,
    Measurand.power_active_export: UnitOfMeasure.w,
    Measurand.power_offered: UnitOfMeasure.w,
    Measurand.power_reactive_import: UnitOfMeasure.var,
    Measurand.power_reactive_export: UnitOfMeasure.var,
    Measurand.current_import: UnitOfMeasure.a,
    Measurand.current_export: UnitOfMeasure.a,
    Measurand.current_offered: UnitOfMeasure.a,
    Measurand.voltage: UnitOfMeasure.v,
    Measurand.temperature: UnitOfMeasure.celsius,
    Measurand.soc: UnitOfMeasure.percent,
    Measurand.frequency: SCHEMA_UNIT_HERTZ,
}

# Per phase: the phase conductor measured against nothing in particular, or against neutral.
_PHASES: tuple[tuple[str, str], ...] = (
    (Phase.l1.value, Phase.l1_n.value),
    (Phase.l2.value, Phase.l2_n.value),
    (Phase.l3.value, Phase.l3_n.value),
)
_LINE_TO_LINE: tuple[str, ...] = (Phase.l1_l2.value, Phase.l2_l3.value, Phase.l3_l1.value)


class InvalidMeterValue(ValueError):
    """A meterValue list that is structurally broken (the charger gets a CALLERROR)."""


class SampledValue(NamedTuple):
    """One sampled value, normalized. The fields are plain strings (JSON-ready)."""

    measurand: str
    value: float | None
    unit: str | None
    phase: str | None
    context: str
    location: str
    format: str
    raw: str
    # The step of the value's last digit, normalized: 91.67 Wh -> 0.00001 kWh.
    resolution: float = 0.0

    @property
    def key(self) -> str:
        """Stable identity of the series: measurand, phase and location."""
        return f"{self.measurand}|{self.phase or NO_PHASE}|{self.location}"


@dataclass(frozen=True, slots=True)
class MeterSample:
    """The sampled values a charger took at one moment."""

    timestamp: datetime
    values: tuple[SampledValue, ...]


def parse_meter_values(meter_value: list[dict[str, Any]]) -> list[MeterSample]:
    """Parse a MeterValues/StopTransaction meterValue list.

    Keys may be snake_case (as the ocpp library hands them to a handler) or camelCase (as
    on the wire). A sample without a readable timestamp, or anything that is not the shape
    of the schema, raises InvalidMeterValue. A value that is not a finite number is kept
    with `value=None` (SignedData is never read as a number); unknown measurands, phases,
    contexts and locations are kept as sent; an unknown unit gives `unit=None` and the
    number unconverted. Samples come back oldest first, values in the order sent.
    """
    if not isinstance(meter_value, list | tuple):
        raise InvalidMeterValue(f"meterValue must be a list, not {type(meter_value).__name__}")
    samples = [_parse_sample(index, item) for index, item in enumerate(meter_value)]
    samples.sort(key=lambda sample: sample.timestamp)
    return samples


def _parse_sample(index: int, item: Any) -> MeterSample:
    if not isinstance(item, Mapping):
        raise InvalidMeterValue(f"meterValue[{index}] must be an object, not {type(item).__name__}")
    stamp = item.get("timestamp")
    timestamp = parse_timestamp(stamp) if isinstance(stamp, str) else None
    if timestamp is None:
        raise InvalidMeterValue(f"meterValue[{index}] has an invalid timestamp {stamp!r}")
    sampled = item.get("sampled_value", item.get("sampledValue"))
    if not isinstance(sampled, list | tuple):
        raise InvalidMeterValue(f"meterValue[{index}] has no sampledValue list")
    values = []
    for position, value in enumerate(sampled):
        try:
            values.append(_parse_sampled_value(value))
        except _Broken as broken:  # where it is, spelled out only when it is wrong
            raise InvalidMeterValue(
                f"meterValue[{index}].sampledValue[{position}]{broken}"
            ) from None
    return MeterSample(timestamp=timestamp, values=tuple(values))


class _Broken(Exception):
    """A sampled value that is wrong; the text goes after where it is."""


def _lookup(enum: type[StrEnum]) -> tuple[dict[str, str], dict[str, str]]:
    """An enum's values as sent exactly, and by their case-folded spelling (first wins)."""
    exact = {member.value: member.value for member in enum}
    folded: dict[str, str] = {}
    for member in enum:
        folded.setdefault(member.value.casefold(), member.value)
    return exact, folded


# Field -> the enum's values by spelling: parsing a value costs dict lookups, not
# a walk over an enum's members.
_MEASURANDS = _lookup(Measurand)
_FORMATS = _lookup(ValueFormat)
_PHASE_VALUES = _lookup(Phase)
_CONTEXTS = _lookup(ReadingContext)
_LOCATIONS = _lookup(Location)
_DEFAULT_MEASURAND = _ENERGY_REGISTER = Measurand.energy_active_import_register.value
_DEFAULT_FORMAT = ValueFormat.raw.value
_SIGNED_DATA = ValueFormat.signed_data.value
_DEFAULT_CONTEXT = ReadingContext.sample_periodic.value
_DEFAULT_LOCATION = Location.outlet.value
# Plain-string keys: a str is found among StrEnum keys only by comparing, never by identity.
_DEFAULT_UNIT_KEY = {str(measurand): str(unit) for measurand, unit in _DEFAULT_UNIT.items()}
_NORMALIZE_KEY = {str(unit): conversion for unit, conversion in _NORMALIZE.items()}


# What a sampled value's fields (as sent) mean: a charger sends the same few over and
# over, so each is worked out once. Bounded: past this many, or longer than any OCPP
# name, they are worked out each time (a charger sending garbage costs time, not memory).
type _Fields = tuple[str, str, str | None, str, str, str | None, Callable[[float], float] | None]
_FIELDS: dict[tuple[Any, ...], _Fields] = {}
_MAX_FIELDS = 512
_MAX_FIELD_TEXT = 64


def _parse_sampled_value(item: Any) -> SampledValue:
    if type(item) is not dict and not isinstance(item, Mapping):
        raise _Broken(f" must be an object, not {type(item).__name__}")
    raw = item.get("value")
    if type(raw) is not str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise _Broken(" has no value")
        raw = str(raw)
    get = item.get
    sent = (
        get("measurand"),
        get("format"),
        get("phase"),
        get("context"),
        get("location"),
        get("unit"),
    )
    try:
        fields = _FIELDS.get(sent)
    except TypeError:  # a list or an object where a string belongs: said below
        fields = None
    if fields is None:
        fields = _fields(*sent)
        if len(_FIELDS) < _MAX_FIELDS and all(
            text is None or len(text) <= _MAX_FIELD_TEXT for text in sent
        ):
            _FIELDS[sent] = fields
    measurand, value_format, phase, context, location, unit, convert = fields

    number, resolution = (None, 0.0) if value_format == _SIGNED_DATA else _number(raw)
    if number is not None and convert is not None:
        number = _finite(convert(number))
        resolution = abs(convert(resolution) - convert(0.0))
    return SampledValue(
        measurand=measurand,
        value=number,
        unit=unit,
        phase=phase,
        context=context,
        location=location,
        format=value_format,
        raw=raw,
        resolution=resolution,
    )


def _fields(
    measurand_sent: Any,
    format_sent: Any,
    phase_sent: Any,
    context_sent: Any,
    location_sent: Any,
    unit_sent: Any,
) -> _Fields:
    """A sampled value's fields as sent, normalized; raises _Broken for a broken one."""
    measurand = _enum(measurand_sent, "measurand", _MEASURANDS) or _DEFAULT_MEASURAND
    value_format = _enum(format_sent, "format", _FORMATS) or _DEFAULT_FORMAT
    phase = _enum(phase_sent, "phase", _PHASE_VALUES)
    context = _enum(context_sent, "context", _CONTEXTS) or _DEFAULT_CONTEXT
    location = _enum(location_sent, "location", _LOCATIONS) or _DEFAULT_LOCATION
    unit_text = _text(unit_sent, "unit")
    unit_key = (
        _UNITS_FOLDED.get(unit_text.casefold()) if unit_text else _DEFAULT_UNIT_KEY.get(measurand)
    )
    unit, convert = _NORMALIZE_KEY[unit_key] if unit_key is not None else (None, None)
    return measurand, value_format, phase, context, location, unit, convert


def _text(text: Any, key: str) -> str | None:
    """An optional string field; absent, null and empty all mean "not sent"."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise _Broken(f".{key} must be a string, not {type(text).__name__}")
    return text


def _enum(text: Any, key: str, values: tuple[dict[str, str], dict[str, str]]) -> str | None:
    """The enum value of a field (matched case-insensitively).

    The string as sent if it is not one of the enum, None if the field was not sent.
    """
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise _Broken(f".{key} must be a string, not {type(text).__name__}")
    exact, folded = values
    if (value := exact.get(text)) is not None:
        return value
    return folded.get(text.casefold(), text)


def _number(raw: str) -> tuple[float | None, float]:
    """A finite decimal number, or None (no NaN, no infinity, no hex, no locale commas).

    And the step of its last digit: "91.67" -> 0.01, "5e3" -> 1000 (0.0 for None).
    """
    text = raw.strip()
    if (match := _NUMBER.fullmatch(text)) is None:
        return None, 0.0
    if (number := _finite(float(text))) is None:
        return None, 0.0
    fraction, short_fraction, exponent = match.groups()
    digits = len(fraction or short_fraction or "")
    try:
        step = 10.0 ** (int(exponent or 0) - digits)
    except OverflowError:  # "0e400": a zero no meter sends, whose step is no float
        return None, 0.0
    return number, step


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _usable(values: Iterable[SampledValue], measurand: str) -> list[SampledValue]:
    """The numeric values of one measurand, from one location.

    Outlet if it has any, else the first location that does: phases measured at different
    places must not be added up.
    """
    usable = [v for v in values if v.measurand == measurand and v.value is not None]
    if not usable:
        return []
    locations = {v.location for v in usable}
    location = Location.outlet.value if Location.outlet.value in locations else usable[0].location
    return [v for v in usable if v.location == location]


def _by_phase(values: Iterable[SampledValue]) -> dict[str | None, float]:
    """The first value of each phase (None: unphased)."""
    found: dict[str | None, float] = {}
    for sampled in values:
        if sampled.value is not None:
            found.setdefault(sampled.phase, sampled.value)
    return found


def _per_phase(found: Mapping[str | None, float], neutral_first: bool) -> list[float]:
    """One value for each of L1, L2, L3 reported as `Lx` or `Lx-N`."""
    picked = []
    for plain, to_neutral in _PHASES:
        order = (to_neutral, plain) if neutral_first else (plain, to_neutral)
        for phase in order:
            if phase in found:
                picked.append(found[phase])
                break
    return picked


class Register(NamedTuple):
    """An energy register reading and the step of its last digit, in kWh."""

    kwh: float
    resolution_kwh: float


def energy_register_kwh(sample: MeterSample, location: str | None = None) -> float | None:
    """The Energy.Active.Import.Register reading in kWh of this sample (see energy_register)."""
    register = energy_register(sample, location)
    return register.kwh if register is not None else None


def energy_register(sample: MeterSample, location: str | None = None) -> Register | None:
    """The Energy.Active.Import.Register reading of this sample, with its resolution.

    The unphased value if present, else the sum of L1+L2+L3 (or L1-N..L3-N) if all three
    are present, else the sum of the phases that are (a single-phase charger may tag its
    register L1), else None. Location Outlet is preferred, then the others in the order
    sent, for a complete reading before a partial one; `location` restricts to one.
    SignedData, unparseable values and values in a unit that is not energy are ignored.
    """
    register = [
        v
        for v in sample.values
        if v.measurand == _ENERGY_REGISTER and v.value is not None and v.unit == UNIT_KWH
    ]
    if not register:
        return None
    if location is not None:
        locations = [location]
    else:
        seen = list(dict.fromkeys(v.location for v in register))
        locations = sorted(seen, key=lambda place: place != _DEFAULT_LOCATION)
    partial: Register | None = None
    for place in locations:
        here = [v for v in register if v.location == place]
        found = _by_phase(here)
        steps: dict[str | None, float] = {}
        for sampled in here:
            steps.setdefault(sampled.phase, sampled.resolution)
        if None in found:
            return Register(found[None], steps[None])
        phases = _per_phase(found, neutral_first=False)
        step = sum(_per_phase(steps, neutral_first=False))
        if len(phases) == len(_PHASES):
            return Register(sum(phases), step)
        if phases and partial is None:
            partial = Register(sum(phases), step)
    return partial


def phase_total(values: Iterable[SampledValue], measurand: str) -> float | None:
    """A power-like measurand over all phases.

    The unphased value if present, else the sum over the L1, L2, L3 (or L1-N, L2-N, L3-N)
    values present; None if none. Values of one location only: Outlet if it has any.
    """
    found = _by_phase(_usable(values, measurand))
    if None in found:
        return found[None]
    phases = _per_phase(found, neutral_first=False)
    return sum(phases) if phases else None


def phase_average(values: Iterable[SampledValue], measurand: str) -> float | None:
    """A current- or voltage-like measurand averaged over the phases.

    The unphased value if present, else the mean of the per-phase values present: L1-N (or
    L1), L2-N (or L2), L3-N (or L3); the line-to-line values L1-L2, L2-L3, L3-L1 only when
    there is nothing else. The neutral (N) never counts. None if none. Values of one
    location only: Outlet if it has any.
    """
    found = _by_phase(_usable(values, measurand))
    if None in found:
        return found[None]
    phases = _per_phase(found, neutral_first=True) or [
        found[phase] for phase in _LINE_TO_LINE if phase in found
    ]
    return sum(phases) / len(phases) if phases else None
