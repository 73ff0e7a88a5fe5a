"""What CALLERROR a charger gets: the spec's code, this version's spelling, a short cause.

The library answers most schema violations with FormatViolation, has
NotImplemented and NotSupported the other way round, and puts the whole frame in
an error's details. These functions turn what it raised into the answer OCPP-J
§4.2.3 names, kept to a few hundred characters.
"""

from __future__ import annotations

from collections.abc import Mapping

from ocpp.exceptions import (
    FormatViolationError,
    NotImplementedError as ActionNotImplementedError,
    NotSupportedError as ActionNotSupportedError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from ocpp.messages import Call

from .frames import MAX_MESSAGE_ID_LENGTH
from .guards import clipped

# An action name is an OCPP identifier; longer ones are shown cut.
SHOWN_ACTION_LENGTH = 40
# The cause in a CALLERROR's details (schema errors quote the offending value).
MAX_CAUSE_LENGTH = 200

# The table of OCPP-J 4.2.3 names a closer code than FormatViolation for these
# JSON-schema keywords.
_CODE_OF_SCHEMA_KEYWORD: dict[str, type[OCPPError]] = {
    **dict.fromkeys(
        ("enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
        PropertyConstraintViolationError,
    ),
    **dict.fromkeys(("multipleOf", "pattern", "format"), PropertyConstraintViolationError),
    **dict.fromkeys(("minItems", "maxItems"), OccurrenceConstraintViolationError),
}


def check_call_shape(message: Call) -> None:
    """Reject CALLs whose parts have the wrong JSON types before the library sees them."""
    if not isinstance(message.unique_id, str) or not message.unique_id:
        raise ProtocolError(details={"cause": "MessageId must be a non-empty string"})
    if len(message.unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise ProtocolError(details={"cause": "MessageId is longer than 36 characters"})
    if not isinstance(message.action, str):
        raise ProtocolError(details={"cause": "Action must be a string"})
    if not isinstance(message.payload, dict):
        raise ProtocolError(details={"cause": "Payload must be a JSON object"})


def action_not_handled(action: str, known_actions: frozenset[str]) -> OCPPError:
    """The error for an action without a handler.

    NotImplemented: the action is unknown to this OCPP version; NotSupported: known
    but not handled here.
    """
    shown = clipped(action, SHOWN_ACTION_LENGTH)
    if action in known_actions:
        return ActionNotSupportedError(
            description="Requested Action is recognized but not supported by the receiver",
            details={"cause": f"{shown} is not supported by this central system"},
        )
    return ActionNotImplementedError(
        description="Requested Action is not known by receiver",
        details={"cause": f"{shown} is not an action of this OCPP version"},
    )


def respell(error: OCPPError, spelling: Mapping[type[OCPPError], type[OCPPError]]) -> OCPPError:
    """The error with the spec's code, as this OCPP version spells it, with a short cause."""
    if (refined := _schema_error_code(error)) is not None:
        error = refined
    if (spelled := spelling.get(type(error))) is not None:
        error = spelled(description=error.description, details=error.details)
    return _short_details(error)


def _schema_error_code(error: OCPPError) -> OCPPError | None:
    """The spec's code for a schema violation the library reported as FormatViolation.

    The library raises it while handling jsonschema's ValidationError, which is
    left as the error's context: its `validator` is the keyword that failed.
    """
    if not isinstance(error, FormatViolationError):
        return None
    keyword = getattr(error.__context__, "validator", None)
    if (code := _CODE_OF_SCHEMA_KEYWORD.get(str(keyword))) is None:
        return None
    cause = getattr(error.__context__, "message", None) or str(error.__context__)
    return code(details={"cause": cause})


def _short_details(error: OCPPError) -> OCPPError:
    """The error with only a short cause: the library puts the whole frame in its details."""
    details = error.details or {}
    if set(details) <= {"cause"} and len(str(details.get("cause", ""))) <= MAX_CAUSE_LENGTH:
        return error
    cause = str(details.get("cause", ""))
    if len(cause) > MAX_CAUSE_LENGTH:
        cause = f"{cause[:MAX_CAUSE_LENGTH]}… ({len(cause)} characters)"
    return type(error)(description=error.description, details={"cause": cause} if cause else {})
