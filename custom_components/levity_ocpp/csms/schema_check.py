"""Cheap per-message checks of OCPP-J payloads: compiled schemas, cached key spellings.

The library validates every payload with jsonschema in an executor thread and
converts keys with regular expressions; for a site of chargers sending meter
values that is most of the central system's time. Here the library's own
schemas (read through `ocpp.messages.get_validator`) are compiled once each with
fastjsonschema and run inline. A payload they pass is one the library passes
too (tests/test_schema_check.py compares the two over every schema); for any
other the caller asks the library, so a charger gets the very CALLERROR it got
before. Key spellings are converted by the library's function once each and
then looked up.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
from typing import Any

import fastjsonschema
from fastjsonschema.draft04 import CodeGeneratorDraft04
from fastjsonschema.generator import enforce_list
from fastjsonschema.ref_resolver import RefResolver
from ocpp.charge_point import camel_to_snake_case
from ocpp.messages import Call, CallResult, get_validator, validate_payload

type Check = Callable[[Any], Any]

# The library parses these schemas and payloads with decimal.Decimal (their
# multipleOf 0.1) and caches that validator under the same key as a float one:
# they never get a compiled check, nor a get_validator call from here.
_DECIMAL_SCHEMAS = frozenset(
    {
        ("1.6", Call.message_type_id, "SetChargingProfile"),
        ("1.6", Call.message_type_id, "RemoteStartTransaction"),
        ("1.6", CallResult.message_type_id, "GetCompositeSchedule"),
    }
)

# Compiled checks by (version, message type, action); None: none, ask the library.
# Bounded: only actions with a handler (others are refused before) and our own
# requests reach here.
_checks: dict[tuple[str, int, str], Check | None] = {}

# Key spellings seen, camelCase -> snake_case. Bounded: a charger may send keys
# of its own (customData, unvalidated payloads); past the bound they are converted
# each time, as the library does.
MAX_CACHED_KEYS = 4096
_snake_keys: dict[str, str] = {}


class _LibraryDraft4(CodeGeneratorDraft04):
    """Draft 4 as jsonschema checks it: an array is a list, never a tuple.

    The library validates with Draft4Validator whatever `$schema` a file names,
    and without format checks.
    """

    def generate_type(self) -> None:
        super().generate_type()
        if "array" in enforce_list(self._definition["type"]):
            with self.l("if isinstance({variable}, tuple):"):
                self.exc("{name} must be a list", rule="type")


def _compile(schema: dict[str, Any]) -> Check:
    schema = copy.deepcopy(schema)  # the resolver rewrites $refs in place
    resolver = RefResolver.from_schema(schema, handlers={}, store={})
    generator = _LibraryDraft4(
        schema, resolver=resolver, use_default=False, use_formats=False, detailed_exceptions=False
    )
    scope = generator.global_state
    exec(generator.func_code, scope)  # fastjsonschema's own compile step
    check: Check = scope[resolver.get_scope_name()]
    return check


def _check_for(version: str, message_type_id: int, action: str) -> Check | None:
    key = (version, message_type_id, action)
    try:
        return _checks[key]
    except KeyError:
        pass
    check: Check | None = None
    if key not in _DECIMAL_SCHEMAS:
        try:
            check = _compile(get_validator(message_type_id, action, version).schema)
        except Exception:  # noqa: BLE001 - no schema, or one we cannot compile: the library decides
            check = None
    _checks[key] = check
    return check


def passes(message: Call | CallResult, version: str) -> bool:
    """Whether the message's payload certainly passes the library's validation.

    False means "ask the library" (`ocpp.messages.validate_payload`): the payload
    may be invalid, or this action has no compiled check.
    """
    action = message.action
    if not isinstance(action, str):
        return False
    check = _check_for(version, message.message_type_id, action)
    if check is None:
        return False
    try:
        check(message.payload)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def snake_key(key: str) -> str:
    """`key` as the library's camel_to_snake_case spells it."""
    try:
        return _snake_keys[key]
    except KeyError:
        pass
    converted: dict[str, Any] = camel_to_snake_case({key: None})
    snake = next(iter(converted))
    if len(_snake_keys) < MAX_CACHED_KEYS:
        _snake_keys[key] = snake
    return snake


def to_snake_case(data: Any) -> Any:
    """What the library's camel_to_snake_case returns for `data`, keys looked up once."""
    if isinstance(data, dict):
        return {snake_key(key): to_snake_case(value) for key, value in data.items()}
    if isinstance(data, list):
        return [to_snake_case(value) for value in data]
    return data


async def validate(message: Call | CallResult, version: str) -> None:
    """Validate as `ocpp.messages.validate_payload` does, inline when the payload passes.

    Only a payload the compiled check does not pass (or cannot check) goes to the
    library, in its executor, for its verdict and its exact error.
    """
    if not passes(message, version):
        await validate_payload(message, version)
