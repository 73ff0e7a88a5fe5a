"""The ``ocpp`` library link: one websocket connection, routing CALLs to the sim.

Every command an OCPP 1.6 central system can send is routed to the sim's
``handle_<action>`` method (see ``commands``, ``charging_commands`` and
``management``), unless the sim's :class:`~.behaviour.Behaviour` says to answer
Rejected, to answer CALLERROR NotSupported, or never to answer. ``LinkBase`` is
the part every OCPP version shares (``v201.link`` is the 2.0.1 one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import NotSupportedError, OCPPError
from ocpp.messages import MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint
from websockets.asyncio.client import ClientConnection

from .behaviour import COMMANDS
from .logs import FRAMES_LOGGER

if TYPE_CHECKING:
    from .core import SimulatedChargePoint


class LinkBase:
    """One websocket connection; routes the central system's CALLs to the sim.

    Mixed in before the library's ChargePoint of an OCPP version. Handlers answer
    at once; work that sends messages of its own is handed to ``defer`` and runs
    from the ``@after`` hooks, so the CALLRESULT goes out first, as the spec
    requires.
    """

    def __init__(self, sim: SimulatedChargePoint, ws: ClientConnection) -> None:
        super().__init__(
            sim.cp_id,
            ws,
            response_timeout=sim.response_timeout,
            logger=FRAMES_LOGGER,
        )
        self.sim = sim
        self.ws = ws
        self.serve_task: asyncio.Task[None] | None = None
        self.dropped = asyncio.Event()
        self.abort = False
        self.online = False
        self._deferred: list[Coroutine[Any, Any, None]] = []

    def drop(self, *, abort: bool) -> None:
        """Stop sending; abort the socket now (power cut) or let the loop close it."""
        self.abort = abort
        self.online = False
        self.dropped.set()
        if abort and self.ws.transport is not None:
            self.ws.transport.abort()

    def defer(self, coro: Coroutine[Any, Any, None] | None) -> None:
        """Run ``coro`` once the CALLRESULT being built has been sent (None: forget
        the follow-ups of a reply that never went out)."""
        if coro is None:
            for pending in self._deferred:
                pending.close()
            self._deferred.clear()
        else:
            self._deferred.append(coro)

    def run_deferred(self) -> None:
        coros, self._deferred = self._deferred, []
        if coros:
            self.sim.spawn(_in_order(coros))

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Swallow the CALLs the sim is told never to answer; route the rest."""
        try:
            msg = unpack(raw_msg)
        except OCPPError:
            msg = None  # the library answers and logs a broken frame
        if (
            msg is not None
            and msg.message_type_id == MessageType.Call
            and msg.action in self.sim.behaviour.time_out
        ):
            self.sim._log.info("<- %s from central system: not answering (as told)", msg.action)
            return
        await super().route_message(raw_msg)

    def answer(self, action: StrEnum, handler: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """Answer a CALL: as told by the behaviour, or by the sim's handler."""
        self.sim._log.info("<- %s from central system: %s", action, kwargs or "{}")
        if action in self.sim.behaviour.not_supported:
            raise NotSupportedError(details={"cause": f"{action} is not supported here"})
        if (rejection := self.sim.behaviour.rejection(action)) is not None:
            self.sim._log.info("%s refused (as told)", action)
            return rejection
        return handler(self, **kwargs)


async def _in_order(coros: list[Coroutine[Any, Any, None]]) -> None:
    try:
        for coro in coros:
            await coro
    finally:
        for coro in coros:  # those a failure or a cancel left unstarted
            coro.close()


def route(link: type[LinkBase], actions: Iterable[StrEnum], prefix: str) -> None:
    """Give ``link`` an ``@on`` and an ``@after`` handler for each action; the
    ``@on`` one answers with the sim's ``<prefix><action name>`` method."""
    for action in sorted(actions):
        _route(link, action, prefix)


def _route(link: type[LinkBase], action: StrEnum, prefix: str) -> None:
    name = action.name

    def answer(self: LinkBase, **kwargs: Any) -> Any:
        return self.answer(action, getattr(self.sim, f"{prefix}{name}"), kwargs)

    def follow_up(self: LinkBase, **_: Any) -> None:
        self.run_deferred()

    # The library finds routes by function name: each needs its own.
    answer.__name__, follow_up.__name__ = f"on_{name}", f"after_{name}"
    setattr(link, answer.__name__, on(action)(answer))
    setattr(link, follow_up.__name__, after(action)(follow_up))


class Link(LinkBase, ChargePoint):
    """An OCPP 1.6 connection: every 1.6 command goes to the sim's ``handle_<action>``."""


route(Link, COMMANDS, "handle_")
