"""What a connection of one ChargePoint class shares with every other: its handlers.

The library makes a map of bound handlers per connection and an asyncio.Queue for
the answers to our requests; both cost every charger memory for what one class
table and a holder that is empty when idle do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import inspect
from typing import Any

from ocpp.routing import create_route_map

type Routes = dict[str, dict[str, Any]]


# Per class: its @on/@after handlers by action (functions, not bound methods), and
# the actions whose handlers skip schema validation whatever the settings say.
_ROUTES: dict[type, tuple[Routes, frozenset[str]]] = {}


def _class_routes(cls: type) -> tuple[Routes, frozenset[str]]:
    """A class's routes, found once.

    The library makes a map of bound methods per connection: two dozen objects
    every charger keeps for nothing.
    """
    if (found := _ROUTES.get(cls)) is None:
        table: Routes = create_route_map(cls)
        skipped = frozenset(
            action for action, route in table.items() if route.get("_skip_schema_validation")
        )
        found = _ROUTES[cls] = (table, skipped)
    return found


def routes(cls: type) -> Routes:
    """The @on/@after handlers of a ChargePoint class by action."""
    return _class_routes(cls)[0]


def never_validated(cls: type) -> frozenset[str]:
    """The actions whose handlers skip schema validation whatever the settings say."""
    return _class_routes(cls)[1]


# Whether a handler (a function) takes `call_unique_id`: read once, not per message.
_TAKES_UNIQUE_ID: dict[Callable[..., Any], bool] = {}


def takes_unique_id(handler: Callable[..., Any]) -> bool:
    """Whether the handler's signature names `call_unique_id` (the library passes it then)."""
    if (takes := _TAKES_UNIQUE_ID.get(handler)) is None:
        takes = _TAKES_UNIQUE_ID[handler] = (
            "call_unique_id" in inspect.signature(handler).parameters
        )
    return takes


class Answers:
    """The answers to our requests, queued for `call()` (asyncio.Queue's put_nowait/get).

    Holds nothing while empty: a Queue keeps four deques and an Event per connection
    (3.3 KiB) for the one answer that is ever waited for at a time (`_call_lock`).
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        """Keep an answer; wake the request waiting for one."""
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Any:
        """The oldest answer kept, once there is one."""
        while self._items is None:
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.pop(0)
        if not self._items:
            self._items = None
        return item
