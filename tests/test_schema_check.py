"""The compiled schema checks say what the library's validation says, for every schema it ships.

For OCPP 1.6 and 2.0.1, payloads are generated from each schema: valid ones
(only the required fields; every field) and variants of them with one thing
wrong (a wrong type, a missing required field, an extra property, a value out
of its enum, too long, out of range, too few or too many items, at any depth).
The compiled check passes exactly those the library passes; for the others the
library's own error is what `validate` raises. Key spellings are the library's.
"""

from __future__ import annotations

from collections.abc import Iterator
import copy
import json
from pathlib import Path
from typing import Any

import ocpp
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallResult, MessageType, _validate_payload
import pytest

from custom_components.levity_ocpp.csms import schema_check


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


SCHEMA_DIRS = {"1.6": "v16", "2.0.1": "v201"}
# The library parses these with decimal.Decimal; they keep its validation alone.
DECIMAL = {
    ("1.6", MessageType.Call, "SetChargingProfile"),
    ("1.6", MessageType.Call, "RemoteStartTransaction"),
    ("1.6", MessageType.CallResult, "GetCompositeSchedule"),
}
# A value of every JSON type; numbers at the edges of "integer" for numeric fields.
ODD_VALUES: list[Any] = [None, True, 7, 7.5, "7", [], {}]
ODD_NUMBERS: list[Any] = [7.0, -1, 10**20, False]


def _schemas() -> Iterator[tuple[str, int, str]]:
    base = Path(ocpp.__file__).parent
    for version, folder in SCHEMA_DIRS.items():
        for path in sorted((base / folder / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                yield version, MessageType.CallResult, name.removesuffix("Response")
            else:
                yield version, MessageType.Call, name.removesuffix("Request")


SCHEMAS = list(_schemas())


def _schema_of(version: str, message_type: int, action: str) -> dict[str, Any]:
    """The schema to generate payloads from: the library's file, floats as floats."""
    name = action if version == "1.6" and message_type == MessageType.Call else None
    if name is None:
        suffix = "Response" if message_type == MessageType.CallResult else "Request"
        name = action + suffix
    path = Path(ocpp.__file__).parent / SCHEMA_DIRS[version] / "schemas" / f"{name}.json"
    schema: dict[str, Any] = json.loads(path.read_text("utf-8-sig"))
    return schema


def _resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(schema: dict[str, Any], root: dict[str, Any], full: bool) -> Any:
    """A valid value: with only the required fields, or with every field."""
    schema = _resolved(schema, root)
    if "enum" in schema:
        return schema["enum"][-1 if full else 0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        names = list(properties) if full else schema.get("required", [])
        return {name: _example(properties[name], root, full) for name in names}
    if kind == "array":
        count = max(schema.get("minItems", 0), 1 if full else 0)
        count = min(count, schema.get("maxItems", count))
        return [_example(schema.get("items", {}), root, full) for _ in range(count)]
    return _scalar_example(schema, full)


def _scalar_example(schema: dict[str, Any], full: bool) -> Any:
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-11-01T10:00:00Z"
        length = schema.get("maxLength", 3)
        return "s" * (length if full else 1)
    if kind in ("integer", "number"):
        value = schema.get("minimum", 0)
        if kind == "number" and full:
            step = schema.get("multipleOf", 0.5)
            value = value + step if value + step <= schema.get("maximum", value + step) else value
        return int(value) if kind == "integer" else value
    return full if kind == "boolean" else "anything"


def _variants(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Iterator[Any]:
    """`value` with one thing wrong (or, at the edges of what is allowed, right)."""
    schema = _resolved(schema, root)
    yield from ODD_VALUES
    yield from _scalar_variants(schema)
    if schema.get("type") == "array" and isinstance(value, list):
        yield tuple(value)  # only our own replies could hold one
        yield []
        if (most := schema.get("maxItems")) is not None:
            yield [*value, *value] * (most + 1)
        item = schema.get("items", {})
        for index, element in enumerate(value[:1]):
            for changed in _variants(element, item, root):
                yield [*value[:index], changed, *value[index + 1 :]]
    if schema.get("type") == "object" and isinstance(value, dict):
        yield {**value, "zzExtra": 1}
        for name in schema.get("required", []):
            yield {key: item for key, item in value.items() if key != name}
        properties = schema.get("properties", {})
        for name, element in value.items():
            for changed in _variants(element, properties.get(name, {}), root):
                yield {**value, name: changed}


def _scalar_variants(schema: dict[str, Any]) -> Iterator[Any]:
    if schema.get("type") in ("integer", "number"):
        yield from ODD_NUMBERS
    if "enum" in schema:
        yield "NotOneOfThem"
        yield str(schema["enum"][0]).lower()
    if (length := schema.get("maxLength")) is not None:
        yield "x" * length
        yield "x" * (length + 1)
    if schema.get("format") == "date-time":
        yield "yesterday"
    for bound in ("minimum", "maximum"):
        if (limit := schema.get(bound)) is not None:
            yield from (limit, limit - 1, limit + 1, float(limit), limit + 0.05)


def _message(message_type: int, action: str, payload: Any) -> Call | CallResult:
    if message_type == MessageType.Call:
        return Call("1", action, payload)
    return CallResult("1", payload, action)


def _library_verdict(message: Call | CallResult, version: str) -> OCPPError | None:
    try:
        # A copy: for its Decimal schemas the library replaces the payload.
        _validate_payload(copy.copy(message), version)
    except OCPPError as error:
        return error
    return None


def _payloads(version: str, message_type: int, action: str) -> Iterator[Any]:
    schema = _schema_of(version, message_type, action)
    for full in (False, True):
        valid = _example(schema, schema, full)
        yield valid
        yield from _variants(valid, schema, schema)


@pytest.mark.parametrize(("version", "message_type", "action"), SCHEMAS)
def test_compiled_check_agrees_with_the_library(
    version: str, message_type: int, action: str
) -> None:
    schema = _schema_of(version, message_type, action)
    for full in (False, True):
        valid = _message(message_type, action, _example(schema, schema, full))
        assert _library_verdict(valid, version) is None, valid
        # The fast path is taken: a valid payload needs no library (but for Decimal ones).
        fast_path = (version, message_type, action) not in DECIMAL
        assert schema_check.passes(valid, version) is fast_path
    judged = 0
    for payload in _payloads(version, message_type, action):
        message = _message(message_type, action, payload)
        library = _library_verdict(message, version)
        fast = schema_check.passes(message, version)
        if (version, message_type, action) in DECIMAL:
            assert not fast
        else:
            assert fast is (library is None), (message, library)
        judged += 1
    assert judged > 10


def _error_facts(error: BaseException) -> tuple[Any, ...]:
    """What rpc.py answers from: the code, description, cause and the failing keyword."""
    assert isinstance(error, OCPPError)
    context = getattr(error.__context__, "validator", None)
    return type(error), error.description, str(error.details.get("cause")), context


@pytest.mark.parametrize(
    ("version", "message_type", "action"),
    [
        ("1.6", MessageType.Call, "MeterValues"),
        ("1.6", MessageType.Call, "BootNotification"),
        ("1.6", MessageType.Call, "SetChargingProfile"),
        ("1.6", MessageType.CallResult, "GetConfiguration"),
        ("2.0.1", MessageType.Call, "MeterValues"),
        ("2.0.1", MessageType.Call, "TransactionEvent"),
        ("2.0.1", MessageType.CallResult, "GetVariables"),
    ],
)
async def test_an_invalid_payload_gets_the_librarys_error(
    version: str, message_type: int, action: str
) -> None:
    for payload in _payloads(version, message_type, action):
        message = _message(message_type, action, payload)
        expected = _library_verdict(message, version)
        if expected is None:
            await schema_check.validate(_message(message_type, action, payload), version)
            continue
        with pytest.raises(OCPPError) as raised:
            await schema_check.validate(_message(message_type, action, payload), version)
        assert _error_facts(raised.value) == _error_facts(expected)


def test_an_unknown_action_or_version_is_left_to_the_library() -> None:
    assert not schema_check.passes(Call("1", "NoSuchAction", {}), "1.6")
    assert not schema_check.passes(Call("1", "Heartbeat", {}), "0.9")
    assert not schema_check.passes(Call("1", 42, {}), "1.6")


def _property_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(properties := node.get("properties"), dict):
            yield from properties
        for child in node.values():
            yield from _property_names(child)
    elif isinstance(node, list):
        for child in node:
            yield from _property_names(child)


def test_keys_are_spelled_as_the_library_spells_them() -> None:
    names: set[str] = set()
    base = Path(ocpp.__file__).parent
    for folder in ("v16", "v201", "v21"):
        for path in (base / folder / "schemas").glob("*.json"):
            names.update(_property_names(json.loads(path.read_text("utf-8-sig"))))
    names.update(("ocppCSMSURL", "isV2XCharging", "V2GCertificate", "SOCLimitReached", "a b C"))
    assert len(names) > 500
    for name in sorted(names):
        assert schema_check.snake_key(name) == next(iter(camel_to_snake_case({name: 0})))
        # Looked up the second time: still the same.
        assert schema_check.snake_key(name) == next(iter(camel_to_snake_case({name: 0})))


def test_payloads_convert_as_the_library_converts_them() -> None:
    for version, message_type, action in SCHEMAS:
        schema = _schema_of(version, message_type, action)
        payload = _example(schema, schema, True)
        assert schema_check.to_snake_case(payload) == camel_to_snake_case(payload)
    # Past the bound on remembered spellings, keys are still converted (each time).
    many = {f"vendorKey{number}Value": [{"innerKey": number}] for number in range(5000)}
    assert schema_check.to_snake_case(many) == camel_to_snake_case(many)
    assert schema_check.to_snake_case(many) == camel_to_snake_case(many)
