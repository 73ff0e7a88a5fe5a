"""Reading one OCPP-J frame, whatever arrives: an OCPP message or a specific error.

The library's `unpack` raises on some input it cannot parse (numbers with
thousands of digits, deep nesting) instead of saying it is broken, and echoes
the whole frame back in its error's details. Here every frame either becomes a
message or an OCPPError with a short cause, and nothing of the frame is echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from ocpp.messages import Call, CallError, CallResult, MessageType

# When a frame is too broken to carry a usable unique id (OCPP 2.0.1 part 4 uses "-1").
UNKNOWN_MESSAGE_ID = "-1"
MAX_MESSAGE_ID_LENGTH = 36
# A JSON parser error quotes the document around the fault: kept short.
MAX_CAUSE_LENGTH = 120
# OCPP payloads nest a handful of levels (MeterValues: 4). Deeper is garbage that
# would only exhaust the stack of whatever walks it (schema validation, diagnostics).
MAX_DEPTH = 32

type Message = Call | CallResult | CallError

# A JSON escape of a UTF-16 surrogate (\\uD800-\\uDFFF); only these can decode to
# a lone surrogate, which no UTF-8 text can hold.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> NoReturn:
    # NaN and Infinity are not JSON (RFC 8259); Python's parser takes them.
    raise ValueError(f"{name} is not a JSON value")


def _decode(raw: str | bytes) -> Any:
    """The JSON document of a frame; FormatViolation (with a short cause) if it is none."""
    if isinstance(raw, bytes):
        raise FormatViolationError(
            details={
                "cause": f"binary frame of {len(raw)} bytes: "
                "OCPP-J messages are JSON in text frames"
            }
        )
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        document = None
    except ValueError as error:  # JSONDecodeError, and the digit limit of int()
        cause = f"not valid JSON: {error}"[:MAX_CAUSE_LENGTH]
        raise FormatViolationError(details={"cause": cause}) from None
    else:
        # Fewer brackets than the limit cannot nest deeper: most frames skip the walk.
        if raw.count("[") + raw.count("{") <= MAX_DEPTH or _depth_within(document, MAX_DEPTH):
            if SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(document):
                # An unpaired surrogate is no character: kept, it would break every
                # JSON writer downstream (the store, the recorder, diagnostics).
                raise FormatViolationError(
                    details={"cause": "a string holds an unpaired UTF-16 surrogate escape"}
                )
            return document
    raise FormatViolationError(details={"cause": f"JSON nested deeper than {MAX_DEPTH} levels"})


def _has_lone_surrogate(document: Any) -> bool:
    """Whether any string (key or value) in a decoded document is not valid Unicode text."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _depth_within(document: Any, limit: int) -> bool:
    """Whether no array or object in `document` lies deeper than `limit` (no recursion)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return False
        pending.extend((item, depth + 1) for item in value)
    return True


def parse(raw: str | bytes) -> Message:
    """A frame as an OCPP-J message; an OCPPError saying what is wrong with it otherwise."""
    frame = _decode(raw)
    if not isinstance(frame, list):
        raise ProtocolError(
            details={"cause": f"an OCPP-J message is a JSON array, not {type(frame).__name__}"}
        )
    if not frame:
        raise ProtocolError(details={"cause": "the message has no MessageTypeId"})
    kinds: dict[Any, type[Call | CallResult | CallError]] = {
        MessageType.Call: Call,
        MessageType.CallResult: CallResult,
        MessageType.CallError: CallError,
    }
    message_type = frame[0]
    # True == 1 and 2.0 == 2 in Python, not in OCPP-J.
    if type(message_type) is not int or (kind := kinds.get(message_type)) is None:
        raise PropertyConstraintViolationError(
            details={"cause": f"MessageTypeId {str(message_type)[:20]} is not 2, 3 or 4"}
        )
    try:
        return kind(*frame[1:])
    except TypeError:
        raise ProtocolError(
            details={"cause": f"a message of type {message_type} has the wrong number of elements"}
        ) from None


def message_id_of(raw: str | bytes) -> str:
    """Best effort: the unique id of a broken frame, so the charger can match our error."""
    try:
        frame = json.loads(raw)
    except ValueError, RecursionError:  # UnicodeDecodeError is a ValueError
        return UNKNOWN_MESSAGE_ID
    if isinstance(frame, list) and len(frame) > 1:
        return usable_id(frame[1])
    return UNKNOWN_MESSAGE_ID


def usable_id(unique_id: object) -> str:
    """A unique id we may answer with: the charger's if it is one, else UNKNOWN_MESSAGE_ID."""
    if (
        isinstance(unique_id, str)
        and 0 < len(unique_id) <= MAX_MESSAGE_ID_LENGTH
        and unique_id.isprintable()  # no control characters, no unpaired surrogates
    ):
        return unique_id
    return UNKNOWN_MESSAGE_ID


def error_frame(unique_id: str, error: OCPPError) -> str:
    """The CALLERROR frame answering a message with this error."""
    frame: str = CallError(unique_id, error.code, error.description, error.details or {}).to_json()
    return frame
