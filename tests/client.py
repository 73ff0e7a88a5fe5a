"""A test charge point: a real `ocpp` library client over a real WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
from typing import Any

from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
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

    async def raw(self, frame: str | list[Any], timeout: float = 5) -> list[Any]:
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
) -> AsyncIterator[TestChargePoint]:
    """Open a WebSocket as a charge point; `start` runs the library's reader loop."""
    offered = ["ocpp1.6"] if subprotocols is None else subprotocols
    async with connect(
        f"ws://127.0.0.1:{port}{path}", subprotocols=offered or None, open_timeout=5
    ) as websocket:
        charge_point = TestChargePoint(path.rstrip("/").rsplit("/", 1)[-1], websocket, 5)
        task = asyncio.create_task(charge_point.start()) if start else None
        try:
            yield charge_point
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
