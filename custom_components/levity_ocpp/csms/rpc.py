"""OCPP-J framing on top of the `ocpp` library: frame log and malformed-frame errors.

The library drops frames it cannot parse without answering and raises on some
well-formed-but-odd ones (an action that is not a string, for instance). A
charger gets a CALLERROR for every CALL it sends, however broken, and the
connection keeps going.

A charger that sends its last frames and hangs up at once has every one of them
handled: an answer that can no longer be sent is dropped, the reading goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
import json
import logging
import sys
from typing import Any, ClassVar

from ocpp.charge_point import (
    ChargePoint as LibraryChargePoint,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    FormatViolationError,
    InternalError,
    NotImplementedError as ActionNotImplementedError,
    NotSupportedError as ActionNotSupportedError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
    UnknownCallErrorCodeError,
)
from ocpp.messages import Call, CallError, MessageType, unpack, validate_payload
from websockets.exceptions import ConnectionClosed

from .commands import (
    ChargePointOffline,
    CommandCallError,
    CommandNotApplicable,
    CommandTimedOut,
)
from .model import ChargePoint, Direction

_LOGGER = logging.getLogger(__name__)

# When a frame is too broken to carry a usable unique id (OCPP 2.0.1 part 4 uses "-1").
UNKNOWN_MESSAGE_ID = "-1"
MAX_MESSAGE_ID_LENGTH = 36


def _message_id_of(raw: str | bytes) -> str:
    """Best effort: the unique id of a broken frame, so the charger can match our error."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return UNKNOWN_MESSAGE_ID
    if (
        isinstance(frame, list)
        and len(frame) > 1
        and isinstance(frame[1], str)
        and 0 < len(frame[1]) <= MAX_MESSAGE_ID_LENGTH
    ):
        return frame[1]
    return UNKNOWN_MESSAGE_ID


def _reply_id(message: Call) -> str:
    unique_id = message.unique_id
    if isinstance(unique_id, str) and 0 < len(unique_id) <= MAX_MESSAGE_ID_LENGTH:
        return unique_id
    return UNKNOWN_MESSAGE_ID


# The library answers every schema violation but a few with FormatViolation; the
# table of OCPP-J 4.2.3 names a closer code for these JSON-schema keywords.
_CODE_OF_SCHEMA_KEYWORD: dict[str, type[OCPPError]] = {
    **dict.fromkeys(
        ("enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
        PropertyConstraintViolationError,
    ),
    **dict.fromkeys(("multipleOf", "pattern", "format"), PropertyConstraintViolationError),
    **dict.fromkeys(("minItems", "maxItems"), OccurrenceConstraintViolationError),
}


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


def _check_call_shape(message: Call) -> None:
    """Reject CALLs whose parts have the wrong JSON types before the library sees them."""
    if not isinstance(message.unique_id, str) or not message.unique_id:
        raise ProtocolError(details={"cause": "MessageId must be a non-empty string"})
    if len(message.unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise ProtocolError(details={"cause": "MessageId is longer than 36 characters"})
    if not isinstance(message.action, str):
        raise ProtocolError(details={"cause": "Action must be a string"})
    if not isinstance(message.payload, dict):
        raise ProtocolError(details={"cause": "Payload must be a JSON object"})


class _LibraryLogger(logging.LoggerAdapter[logging.Logger]):
    """The library logs an OCPPError a handler raised as an ERROR with a traceback.

    Such an error is a charger's bad input, already answered with a CALLERROR: a
    warning without a traceback says what happened.
    """

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        if isinstance(error := sys.exception(), OCPPError):
            self.warning("%s: %s", str(msg) % args if args else msg, error)
            return
        super().exception(msg, *args, **kwargs)


_LIBRARY_LOGGER = _LibraryLogger(_LOGGER)


class FramedChargePoint(LibraryChargePoint):
    """A library ChargePoint that logs every frame and answers every broken CALL."""

    # Error codes the library raises that this OCPP version spells differently.
    error_code_spelling: ClassVar[dict[type[OCPPError], type[OCPPError]]] = {}
    # Every action this OCPP version defines, in either direction.
    known_actions: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, model: ChargePoint, connection: Any, response_timeout: float) -> None:
        """Bind the protocol handler to the charge point's model and its connection."""
        super().__init__(model.id, connection, response_timeout, logger=_LIBRARY_LOGGER)
        self.model = model
        self.active = True
        self._owned_tasks: set[asyncio.Task[Any]] = set()
        self._command_lock = asyncio.Lock()
        self._answers_lost = 0

    async def start(self) -> None:
        """Handle frames until the connection is closed and every frame it brought is read.

        websockets keeps the frames that arrived before a close readable after
        it; `recv` raises ConnectionClosed only once they are all consumed.
        """
        while True:
            await self.route_message(await self._connection.recv())

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Route one frame: CALLs to handlers, results to the waiting `call()`."""
        if not self.active:  # replaced by a newer connection: its frames don't count
            return
        self.model.log_frame(Direction.RECEIVED, _as_text(raw_msg))
        try:
            await self._route(raw_msg)
        except ConnectionClosed as closed:
            # The charger hung up before our answer: a routine end, said once.
            self._answers_lost += 1
            if self._answers_lost == 1:
                _LOGGER.debug("%s closed the connection before our answer (%s)", self.id, closed)

    async def _route(self, raw_msg: str | bytes) -> None:
        try:
            message = unpack(raw_msg)
        except OCPPError as error:
            _LOGGER.warning("%s sent a malformed frame (%s): %.200s", self.id, error, raw_msg)
            await self._send_error(_message_id_of(raw_msg), error)
            return
        if message.message_type_id in (MessageType.CallResult, MessageType.CallError):
            self._response_queue.put_nowait(message)
            return
        try:
            _check_call_shape(message)
            self._check_action_handled(message.action)
            await self._handle_call(message)
        except ConnectionClosed:
            raise
        except OCPPError as error:
            _LOGGER.warning("%s: %s rejected: %s", self.id, message.action, error)
            await self._send_error(_reply_id(message), error)
        except Exception:
            # A bug of ours must cost the charger one answer, never its connection.
            _LOGGER.exception("%s: error handling %.200s", self.id, raw_msg)
            await self._send_error(_reply_id(message), InternalError())

    def _check_action_handled(self, action: str) -> None:
        """Refuse actions without a handler with the code OCPP-J §4.2.3 names.

        NotImplemented: the action is unknown; NotSupported: known but not handled
        here. The library has the two the other way round.
        """
        if "_on_action" in self.route_map.get(action, {}):
            return
        if action in self.known_actions:
            raise ActionNotSupportedError(
                description="Requested Action is recognized but not supported by the receiver",
                details={"cause": f"{action} is not supported by this central system"},
            )
        raise ActionNotImplementedError(
            description="Requested Action is not known by receiver",
            details={"cause": f"{action} is not an action of this OCPP version"},
        )

    @contextmanager
    def cancelled_on_shutdown(self) -> Iterator[None]:
        """Let `shutdown` cancel the current task.

        The library runs `@after` handlers in tasks nobody owns; one waiting for a
        charger that has gone would otherwise linger until its response timeout.
        """
        task = asyncio.current_task()
        assert task is not None  # handlers always run in a task
        self._owned_tasks.add(task)
        try:
            yield
        finally:
            self._owned_tasks.discard(task)

    async def send_command(self, payload: Any) -> Any:
        """Send one request of ours and return the charger's confirmation.

        Requests queue behind the library's call lock, one outstanding at a time, in
        order; each waits `response_timeout` for its answer once sent. Every way of
        getting no usable answer is its own CommandFailed.
        """
        action = type(payload).__name__
        # The library validates each request in an executor before its call lock:
        # without a lock of ours, concurrent requests could overtake each other.
        async with self._command_lock:
            return await self._send_command(payload, action)

    async def _send_command(self, payload: Any, action: str) -> Any:
        if not self.active:
            raise ChargePointOffline(self.id, action)
        try:
            await validate_payload(
                Call("-", action, remove_nones(snake_to_camel_case(serialize_as_dict(payload)))),
                self._ocpp_version,
            )
        except OCPPError as error:
            detail = (error.details or {}).get("cause") or error.description
            raise CommandNotApplicable(self.id, action, str(detail)) from error
        request = asyncio.ensure_future(self.call(payload, suppress=False))
        # shutdown() cancels it: a charger that hangs up has answered "offline".
        self._owned_tasks.add(request)
        try:
            return await request
        except asyncio.CancelledError:
            if (current := asyncio.current_task()) is not None and current.cancelling():
                raise
            raise ChargePointOffline(self.id, action) from None
        except ConnectionClosed as error:
            raise ChargePointOffline(self.id, action) from error
        except TimeoutError as error:
            raise CommandTimedOut(
                self.id, action, f"no answer within {self._response_timeout:g} s"
            ) from error
        except OCPPError as error:
            raise CommandCallError(self.id, action, error.code, error.description) from error
        except UnknownCallErrorCodeError as error:
            raise CommandCallError(self.id, action, "UnknownErrorCode", str(error)) from error
        finally:
            self._owned_tasks.discard(request)

    async def shutdown(self) -> None:
        """Stop handling frames and cancel the work still waiting on this connection."""
        self.active = False
        tasks = [task for task in self._owned_tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self, reason: str) -> None:
        """Stop handling this connection's frames and close its socket."""
        self.active = False
        await self._connection.close(code=1000, reason=reason)

    async def _send_error(self, unique_id: str, error: OCPPError) -> None:
        error = self._respell(error)
        await self._send(
            CallError(unique_id, error.code, error.description, error.details or {}).to_json()
        )

    def _respell(self, error: OCPPError) -> OCPPError:
        if (refined := _schema_error_code(error)) is not None:
            error = refined
        if (spelled := self.error_code_spelling.get(type(error))) is None:
            return error
        return spelled(description=error.description, details=error.details)

    async def _send(self, message: str) -> None:
        await self._connection.send(message)
        # Logged once on the wire: an answer to a charger that hung up was never sent.
        self.model.log_frame(Direction.SENT, message)


def _as_text(raw: str | bytes) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
