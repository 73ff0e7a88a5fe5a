"""A test charge point: a real `ocpp` library client over a real WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
from ssl import SSLContext
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ChargePointStatus, RegistrationStatus
from websockets.asyncio.client import ClientConnection, connect


class TestChargePoint(ChargePoint):
    """An OCPP 1.6 charge point driven by a test."""

    __test__ = False  # not a pytest test class

    @property
    def connection(self) -> ClientConnection:
        """The raw WebSocket, for frames the library would never send."""
        return self._connection

    async def boot(self, **fields: Any) -> Any:
        """Send a BootNotification and return the central system's answer."""
        payload = {"charge_point_vendor": "United Chargers", "charge_point_model": "Grizzl-E"}
        return await self.call(call.BootNotification(**{**payload, **fields}), suppress=False)

    async def status(
        self,
        connector_id: int,
        status: ChargePointStatus = ChargePointStatus.available,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        **fields: Any,
    ) -> Any:
        """Send a StatusNotification."""
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code=error_code, status=status, **fields
            ),
            suppress=False,
        )

    async def raw(self, frame: str | list[Any], timeout: float = 5) -> list[Any]:  # noqa: ASYNC109
        """Send a raw frame and return the next frame the central system sends.

        Only for use while the library's reader is not running (`start=False`).
        """
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self._connection.send(text)
        return json.loads(await asyncio.wait_for(self._connection.recv(), timeout))


@contextlib.asynccontextmanager
async def connect_charge_point(
    port: int,
    path: str = "/CP1",
    *,
    subprotocols: list[str] | None = None,
    start: bool = True,
    answer_configuration: bool = True,
    charge_point_class: type[TestChargePoint] | None = None,
    ssl: SSLContext | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[TestChargePoint]:
    """Open a WebSocket as a charge point; `start` runs the library's reader loop.

    With `ssl` over wss; `headers` are sent with the handshake (Authorization).
    """
    offered = ["ocpp1.6"] if subprotocols is None else subprotocols
    async with connect(
        f"{'wss' if ssl else 'ws'}://127.0.0.1:{port}{path}",
        subprotocols=offered or None,
        open_timeout=5,
        ssl=ssl,
        additional_headers=headers,
    ) as websocket:
        cls = charge_point_class or TestChargePoint
        charge_point = cls(path.rstrip("/").rsplit("/", 1)[-1], websocket, 5)
        task = asyncio.create_task(charge_point.start()) if start else None
        try:
            yield charge_point
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


DEFAULT_CONFIGURATION: list[dict[str, Any]] = [
    {"key": "AuthorizationKey", "readonly": False, "value": "0123456789abcdef"},
    {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
]


class ConfiguredChargePoint(TestChargePoint):
    """A charge point that answers GetConfiguration, as real chargers do.

    `boot()` returns once the central system's GetConfiguration (sent after an
    accepted boot) has been answered, so no exchange is left half-done when a
    test disconnects.
    """

    __test__ = False

    configuration_keys: list[dict[str, Any]] = DEFAULT_CONFIGURATION

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Track the central system's configuration requests."""
        super().__init__(*args, **kwargs)
        self.configuration_answered = asyncio.Event()
        self.configuration_requests: list[list[str] | None] = []

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        """Return the configured keys (all of them, or the ones asked for)."""
        self.configuration_requests.append(key)
        items = [item for item in self.configuration_keys if not key or item["key"] in key]
        known = {item["key"] for item in items}
        return call_result.GetConfiguration(
            configuration_key=items, unknown_key=[k for k in key or [] if k not in known] or None
        )

    @after(Action.get_configuration)
    def after_get_configuration(self, key: list[str] | None = None) -> None:
        """The answer is on the wire."""
        self.configuration_answered.set()

    async def boot(self, **fields: Any) -> Any:
        """Boot, then wait until the configuration request that follows was answered."""
        self.configuration_answered.clear()
        reply = await super().boot(**fields)
        if reply.status == RegistrationStatus.accepted:
            await asyncio.wait_for(self.configuration_answered.wait(), 5)
        return reply
