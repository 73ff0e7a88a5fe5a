"""OCPP 2.0.1 messages as they cross the wire, checked against the 2.0.1 JSON schemas.

For the command-layer tests: a request `to_call` built, as the library would send
it; an answer, as the library would hand it over after reading a charger's JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.messages import Call, CallResult, validate_payload
from ocpp.v201 import call_result

from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.transactions import Transaction

VERSION = "2.0.1"
STARTED = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
SESSION_BASE = 40


async def wire(payload: Any) -> dict[str, Any]:
    """A request as it goes out (camelCase, no empty fields); it must fit the schema."""
    message = remove_nones(snake_to_camel_case(serialize_as_dict(payload)))
    await validate_payload(Call("1", type(payload).__name__, message), VERSION)
    assert isinstance(message, dict)
    return message


async def answer(action: str, payload: dict[str, Any]) -> Any:
    """A charger's answer (camelCase JSON) as the library hands it to the caller."""
    result = CallResult("1", payload)
    result.action = action
    await validate_payload(result, VERSION)
    return getattr(call_result, action)(**camel_to_snake_case(payload))


def station(
    *evses: int,
    configuration: dict[str, str] | None = None,
    transactions: dict[int, str] | None = None,
) -> ChargePoint:
    """A 2.0.1 charger's model: its EVSEs, what it reported and its running transactions.

    `transactions`: EVSE -> the charger's id of the session running there; our
    session number for it is 40 + the EVSE id.
    """
    model = ChargePoint("CS1")
    for evse_id in evses:
        model.connector(evse_id)
    model.configuration = {
        key: {"value": value, "readonly": True} for key, value in (configuration or {}).items()
    }
    for evse_id, transaction_id in (transactions or {}).items():
        model.connector(evse_id).transaction = Transaction(
            transaction_id=SESSION_BASE + evse_id,
            charger_transaction_id=transaction_id,
            charge_point_id=model.id,
            connector_id=evse_id,
            id_tag="TAG",
            started_at=STARTED,
            meter_start_wh=0.0,
        )
    return model
