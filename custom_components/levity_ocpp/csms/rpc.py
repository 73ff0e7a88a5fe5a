"""OCPP-J framing on top of the `ocpp` library: frame log, broken frames, stale answers.

The library drops frames it cannot parse without answering, raises on some
well-formed-but-odd ones (an action that is not a string, for instance), logs a
whole frame per fault and keeps every answer nobody waits for. Here a charger
gets a CALLERROR for every CALL it sends, however broken, the connection keeps
going, and whatever it sends costs bounded memory and log lines (guards.py).

A charger that sends its last frames and hangs up at once has every one of them
handled: an answer that can no longer be sent is dropped, the reading goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import inspect
import logging
from typing import Any, ClassVar

from ocpp.charge_point import (
    ChargePoint as LibraryChargePoint,
    _raise_key_error,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    InternalError,
    OCPPError,
    UnknownCallErrorCodeError,
)
from ocpp.messages import Call, CallResult, MessageType
from websockets.exceptions import ConnectionClosed

from . import schema_check
from .call_errors import SHOWN_ACTION_LENGTH, action_not_handled, check_call_shape, respell
from .commands import (
    ChargePointOffline,
    CommandCallError,
    CommandNotApplicable,
    CommandTimedOut,
)
from .framelog import Direction
from .frames import (
    Message,
    error_frame,
    message_id_of,
    parse,
    usable_id,
)
from .guards import CLOSE_POLICY_VIOLATION, ConnectionGuard, clipped
from .lenient import fit_call, fit_result
from .library_log import LibraryLogger
from .model import ChargePoint
from .routes import Answers, never_validated, routes, takes_unique_id

_LOGGER = logging.getLogger(__name__)
# How long a request whose answer arrived just before the connection closed may
# take to return it (its validation may run in an executor).
ANSWERED_GRACE_S = 2.0


def _reply_id(message: Call) -> str:
    return usable_id(message.unique_id)


class FramedChargePoint(LibraryChargePoint):
    """A library ChargePoint that logs every frame and answers every broken CALL."""

    # Error codes the library raises that this OCPP version spells differently.
    error_code_spelling: ClassVar[dict[type[OCPPError], type[OCPPError]]] = {}
    # Every action this OCPP version defines, in either direction.
    known_actions: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        model: ChargePoint,
        connection: Any,
        response_timeout: float,
        guard: ConnectionGuard | None = None,
    ) -> None:
        """Bind the protocol handler to the charge point's model and its connection."""
        self.guard = guard or ConnectionGuard()
        super().__init__(
            model.id, connection, response_timeout, logger=LibraryLogger(_LOGGER, self.guard)
        )
        # The library's map of bound handlers, one per connection: the class's
        # (routes.py) serves instead. Only the library's _handle_call read it.
        del self.route_map
        self._response_queue = Answers()
        self.model = model
        self.active = True
        self._owned_tasks: set[asyncio.Task[Any]] = set()
        self._command_lock = asyncio.Lock()
        self._answers_lost = 0
        # Our requests sent and not yet answered, by unique id: their action. Only
        # their answers are queued for `call()`; any other is stale and dropped.
        self._awaited: dict[str, str] = {}
        self._actions: dict[str, str] = {}
        self._closing: asyncio.Task[None] | None = None
        # Running @after handlers, referenced until done (the loop keeps only weak ones).
        self._after_tasks: set[asyncio.Future[Any]] = set()
        # Whether the CALL being handled skips schema validation (`_prepare_call`):
        # CALLs of one connection are handled one after the other.
        self._skip_validation = False

    async def start(self) -> None:
        """Handle frames until the connection is closed and every frame it brought is read.

        websockets keeps the frames that arrived before a close readable after
        it; `recv` raises ConnectionClosed only once they are all consumed.
        """
        while True:
            raw_msg = await self._connection.recv()
            if self.guard.rate.take():
                await self.route_message(raw_msg)
            elif self.active:
                self._close_for_rate()

    def _close_for_rate(self) -> None:
        """Close a connection that sends more than the rate limit (RFC 6455 1008)."""
        self.active = False  # what it sends until the close is not handled
        limit = self.guard.limits.messages_per_second
        self.guard.faults.warning(
            _LOGGER,
            "%s sends more than %g messages per second (the limit in the central system's "
            "options); closing its connection",
            self.id,
            limit,
        )
        # In a task: the loop goes on reading, so the charger's close frame is seen.
        self._closing = asyncio.create_task(
            self._connection.close(CLOSE_POLICY_VIOLATION, f"more than {limit:g} messages/s"),
            name=f"levity_ocpp close {self.id} over its message rate",
        )

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Route one frame: CALLs to handlers, results to the waiting `call()`."""
        if not self.active:  # replaced by a newer connection: its frames don't count
            return
        self.model.log_frame(Direction.RECEIVED, raw_msg)
        try:
            await self._route(raw_msg)
        except ConnectionClosed as closed:
            # The charger hung up before our answer: a routine end, said once.
            self._answers_lost += 1
            if self._answers_lost == 1:
                _LOGGER.debug("%s closed the connection before our answer (%s)", self.id, closed)

    async def _route(self, raw_msg: str | bytes) -> None:
        try:
            message = parse(raw_msg)
        except OCPPError as error:
            answer = self._respell(error)
            self.guard.faults.warning(
                _LOGGER, "%s sent a malformed frame (%s): %s", self.id, answer, clipped(raw_msg)
            )
            await self._send_error(message_id_of(raw_msg), answer)
            return
        if message.message_type_id != MessageType.Call:
            self._take_answer(message)
            return
        # What the handler changes reaches the listeners (HA state writes) after
        # its reply has been handed to the transport: the charger waits for no entity.
        model = self.model  # a boot's answer may swap it
        model.hold_notifications()
        try:
            await self._answer(raw_msg, message)
        finally:
            model.release_notifications()

    async def _answer(self, raw_msg: str | bytes, message: Call) -> None:
        """Handle a CALL and send its CALLRESULT, or a CALLERROR for whatever went wrong."""
        try:
            check_call_shape(message)
            self._check_action_handled(message.action)
            self._prepare_call(message)
            await self._handle_call(message)
        except ConnectionClosed:
            raise
        except OCPPError as error:
            answer = self._respell(error)
            self.guard.faults.warning(
                _LOGGER,
                "%s: %s rejected: %s",
                self.id,
                clipped(message.action, SHOWN_ACTION_LENGTH),
                answer,
            )
            await self._send_error(_reply_id(message), answer)
        except Exception:  # noqa: BLE001 - logged with its traceback, throttled
            # A bug of ours must cost the charger one answer, never its connection.
            self.guard.faults.log(
                logging.ERROR,
                _LOGGER,
                "%s: error handling %s",
                self.id,
                clipped(raw_msg),
                exc_info=True,
            )
            await self._send_error(_reply_id(message), InternalError())

    def _take_answer(self, message: Message) -> None:
        """Queue the answer to a request we await; drop any other, with a DEBUG line."""
        unique_id = message.unique_id
        if isinstance(unique_id, str) and self._awaited.pop(unique_id, None) is not None:
            self._response_queue.put_nowait(message)
            return
        _LOGGER.debug(
            "%s: ignored an answer to no request of ours (late or repeated): %s",
            self.id,
            clipped(message.to_json()),
        )

    def _check_action_handled(self, action: str) -> None:
        """Refuse actions without a handler with the code OCPP-J §4.2.3 names."""
        if "_on_action" not in routes(type(self)).get(action, {}):
            raise action_not_handled(action, self.known_actions)

    async def _handle_call(self, msg: Call) -> Any:
        """The library's handling of a CALL, at less cost per message.

        As the library does it: validate the request, call `@on` with the payload's
        keys in snake_case (and call_unique_id if it takes it), answer what it raised
        with the library's CALLERROR, validate and send its reply, then start
        `@after`. Here a payload the compiled schema passes is validated inline (the
        library, in its executor, only judges the others: same verdict, same error),
        key spellings are looked up and the handler's signature is read once.
        """
        version = self._ocpp_version
        handlers = routes(type(self)).get(msg.action, {})
        if "_on_action" not in handlers:  # _answer refuses these before (with the right code)
            _raise_key_error(msg.action, version)
        skip_validation = self._skip_validation
        if not skip_validation:
            await schema_check.validate(msg, version)
        snake_case_payload = schema_check.to_snake_case(msg.payload)
        handler = handlers["_on_action"]
        try:
            response = self._run_handler(handler, snake_case_payload, msg.unique_id)
            if inspect.isawaitable(response):
                response = await response
        except Exception as error:  # answered as the library answers it
            self.logger.exception("Error while handling request '%s'", msg)
            await self._send(msg.create_call_error(error).to_json())
            return None
        result = msg.create_call_result(
            snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        )
        if not skip_validation:
            await schema_check.validate(result, version)
        await self._send(result.to_json())
        try:
            after = handlers["_after_action"]
            response = self._run_handler(after, snake_case_payload, msg.unique_id)
            if inspect.isawaitable(response):
                # A task: an @after handler may send requests of its own.
                after_task = asyncio.ensure_future(response)
                self._after_tasks.add(after_task)
                after_task.add_done_callback(self._after_tasks.discard)
        except KeyError:  # @after is optional
            pass
        return response

    def _run_handler(
        self, handler: Callable[..., Any], payload: dict[str, Any], unique_id: str
    ) -> Any:
        """Call a handler (the class's function) with the payload, and the CALL's id if named."""
        if takes_unique_id(handler):
            return handler(self, **payload, call_unique_id=unique_id)
        return handler(self, **payload)

    def _prepare_call(self, message: Call) -> None:
        """Validate a CALL's payload against the schema, unless the charger's settings say not.

        The library reads the flag per message; without validation the handler is
        given only the fields it takes (lenient.py).
        """
        route = routes(type(self))[message.action]
        validate = self.guard.settings().validate_schema
        self._skip_validation = not validate or message.action in never_validated(type(self))
        if not validate:
            handler = route["_on_action"].__get__(self, type(self))
            message.payload = fit_call(handler, message.payload)

    async def call(
        self,
        payload: Any,
        suppress: bool = True,
        unique_id: str | None = None,
        skip_schema_validation: bool = False,
    ) -> Any:
        """Send a request and return the answer; the library's call, answers tracked.

        The answer is validated unless this charger's settings say not; then it is
        taken with only the fields its result has.
        """
        unique_id = unique_id or str(self._unique_id_generator())
        action = type(payload).__name__
        self._awaited[unique_id] = self._actions[unique_id] = action
        skip = skip_schema_validation or not self.guard.settings().validate_schema
        try:
            return await self._call(payload, suppress, unique_id, skip)
        finally:
            self._awaited.pop(unique_id, None)
            self._actions.pop(unique_id, None)

    async def _call(self, payload: Any, suppress: bool, unique_id: str, skip: bool) -> Any:
        """The library's `call`, with the request and its answer validated as in `_handle_call`."""
        request = Call(
            unique_id,
            type(payload).__name__,
            remove_nones(snake_to_camel_case(serialize_as_dict(payload))),
        )
        if not skip:
            await schema_check.validate(request, self._ocpp_version)
        async with self._call_lock:  # one request of ours outstanding at a time
            await self._send(request.to_json())
            try:
                response = await self._get_specific_response(unique_id, self._response_timeout)
            except TimeoutError as error:
                raise TimeoutError(
                    f"Waited {self._response_timeout}s for response on {request.to_json()}."
                ) from error
        if response.message_type_id == MessageType.CallError:
            self.logger.warning("Received a CALLError: %s'", response)
            if suppress:
                return None
            raise response.to_exception()
        if not skip:
            response.action = request.action
            await schema_check.validate(response, self._ocpp_version)
        result_class = getattr(self._call_result, request.action)
        return result_class(**schema_check.to_snake_case(response.payload))

    async def _get_specific_response(self, unique_id: str, timeout: float) -> Any:  # noqa: ASYNC109 - the library's signature
        """The answer to our request `unique_id`, within `timeout` (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self._response_queue.get()
                if response.unique_id == unique_id:
                    break
                # Queued for a request that gave up meanwhile.
                _LOGGER.debug("%s: ignored a late answer %s", self.id, clipped(response.to_json()))
        if isinstance(response, CallResult) and not self.guard.settings().validate_schema:
            action = self._actions[unique_id]
            response.payload = fit_result(getattr(self._call_result, action), response.payload)
        return response

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
            await schema_check.validate(
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
        if tasks and self._actions.keys() - self._awaited.keys():
            # An answer read before the close is an answer: a charger that replies
            # and hangs up at once (to reboot) did take the command. Let the requests
            # it completes return it before the rest are cancelled.
            await asyncio.wait(tasks, timeout=ANSWERED_GRACE_S)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self, reason: str) -> None:
        """Stop handling this connection's frames and close its socket."""
        self.active = False
        await self._connection.close(code=1000, reason=reason)

    async def _send_error(self, unique_id: str, error: OCPPError) -> None:
        await self._send(error_frame(unique_id, self._respell(error)))

    def _respell(self, error: OCPPError) -> OCPPError:
        """The error as this OCPP version spells it, with a short cause."""
        return respell(error, self.error_code_spelling)

    async def _send(self, message: str) -> None:
        await self._connection.send(message)
        # Logged once on the wire: an answer to a charger that hung up was never sent.
        self.model.log_frame(Direction.SENT, message)
