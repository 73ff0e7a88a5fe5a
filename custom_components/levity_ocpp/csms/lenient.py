"""Taking frames without JSON-schema validation, for chargers whose user turned it off.

Some real chargers send fields the schema does not have, or values it does not
allow; with `validate_schema` off such a charger is served anyway. What the
handlers cannot take at all still gets a specific CALLERROR: unknown fields are
dropped (the handlers are called with keyword arguments) and missing required
ones are a ProtocolError, as OCPP-J names an incomplete payload.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import inspect
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import FormatViolationError, ProtocolError

# Parameters the library passes itself, not from the payload.
_NOT_FROM_PAYLOAD = frozenset({"call_unique_id"})


def _snake(key: str) -> str:
    converted: dict[str, Any] = camel_to_snake_case({key: None})
    return next(iter(converted))


def fit_call(handler: Callable[..., Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The payload of a CALL with only the fields its handler takes.

    Raise ProtocolError when a field the handler needs is missing.
    """
    parameters = inspect.signature(handler).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return payload
    fitted = {key: value for key, value in payload.items() if _snake(key) in parameters}
    given = {_snake(key) for key in fitted}
    if missing := [
        name
        for name, parameter in parameters.items()
        if parameter.default is inspect.Parameter.empty
        and name not in given
        and name not in _NOT_FROM_PAYLOAD
    ]:
        raise ProtocolError(
            description="Payload for Action is incomplete",
            details={"cause": f"missing {', '.join(missing)}"},
        )
    return fitted


def fit_result(result_class: type[Any], payload: Any) -> dict[str, Any]:
    """The payload of a CALLRESULT with only the fields its dataclass has.

    Raise FormatViolationError when it is not an object or lacks a required field.
    """
    if not isinstance(payload, dict):
        raise FormatViolationError(details={"cause": "the answer's payload is not an object"})
    fields = {field.name: field for field in dataclasses.fields(result_class)}
    fitted = {key: value for key, value in payload.items() if _snake(key) in fields}
    given = {_snake(key) for key in fitted}
    if missing := [
        name
        for name, field in fields.items()
        if field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
        and name not in given
    ]:
        raise FormatViolationError(details={"cause": f"the answer lacks {', '.join(missing)}"})
    return fitted
