"""The load generator: N lightweight OCPP 1.6J chargers in their own process.

Raw `websockets` with prepared JSON frames keeps a charger to a few KiB and the
generator's CPU off Home Assistant's core. The orchestrator drives it over
stdin/stdout, one JSON object a line:
  {"op": "connect", "n": 1}    the first n chargers (default all) boot, report Charging,
                               start a session
  {"op": "window", "s": 180}   MeterValues every 10 s (staggered) for s seconds from the
                               connected chargers, with an
                               occasional stop/start (each charger every ~10 minutes, or
                               "restart_per_s"); answers latencies in ms
  {"op": "burst", "n": 100}    n chargers send StopTransaction at once (then restart)
  {"op": "close"}
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import random
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

INTERVAL_S = 10.0
SESSION_RESTART_PER_S = 1 / 600  # each charger restarts its session every ~10 minutes
VOLTAGE = 230.0
CURRENT_A = 16.0

CONFIGURATION = [
    {"key": "MeterValueSampleInterval", "readonly": False, "value": "10"},
    {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
    {
        "key": "MeterValuesSampledData",
        "readonly": False,
        "value": "Energy.Active.Import.Register,Power.Active.Import,Current.Import,"
        "Voltage,Current.Offered,SoC,Temperature",
    },
    {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
    {"key": "AuthorizeRemoteTxRequests", "readonly": False, "value": "false"},
]
# What a charger answers to each command a central system may send it.
ANSWERS: dict[str, dict[str, Any]] = {
    "ChangeConfiguration": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "GetLocalListVersion": {"listVersion": 0},
    "SendLocalList": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "DataTransfer": {"status": "UnknownVendorId"},
}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Charger:
    """One charger: a socket, its pending CALLs, its meter."""

    def __init__(self, fleet: Fleet, number: int) -> None:
        self.fleet = fleet
        self.number = number
        self.id = f"bench{number:05d}"
        self.ws: ClientConnection | None = None
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.ids = itertools.count(1)
        self.register_wh = random.uniform(1_000, 50_000)
        self.transaction_id: int | None = None
        self.temperature = random.uniform(30, 40)
        self.soc = random.uniform(20, 60)
        self.sent_at = 0.0

    async def call(self, action: str, payload: dict[str, Any]) -> tuple[Any, float]:
        assert self.ws is not None
        message_id = str(next(self.ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[message_id] = future
        self.sent_at = time.time()  # wall clock: compared with HA's collections
        sent = time.perf_counter()
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        result = await asyncio.wait_for(future, 60)
        return result, (time.perf_counter() - sent) * 1000

    async def receive(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            message = json.loads(raw)
            if message[0] == 3 and (future := self.pending.pop(message[1], None)):
                if not future.done():
                    future.set_result(message[2])
            elif message[0] == 4 and (future := self.pending.pop(message[1], None)):
                if not future.done():
                    future.set_exception(RuntimeError(f"CALLERROR {message[2:]}"))
            elif message[0] == 2:
                await self.answer(message[1], message[2], message[3])

    async def answer(self, message_id: str, action: str, payload: dict[str, Any]) -> None:
        assert self.ws is not None
        self.fleet.commands[action] = self.fleet.commands.get(action, 0) + 1
        if action == "GetConfiguration":
            keys = payload.get("key")
            result: dict[str, Any] = {
                "configurationKey": [c for c in CONFIGURATION if not keys or c["key"] in keys]
            }
        elif action in ANSWERS:
            result = ANSWERS[action]
        else:
            await self.ws.send(json.dumps([4, message_id, "NotImplemented", action, {}]))
            return
        await self.ws.send(json.dumps([3, message_id, result]))

    async def connect(self, url: str) -> None:
        self.ws = await connect(
            f"{url}/{self.id}",
            subprotocols=[Subprotocol("ocpp1.6")],
            open_timeout=120,
            ping_interval=None,
        )
        self.fleet.tasks.add(asyncio.create_task(self.receive()))
        await self.call(
            "BootNotification",
            {
                "chargePointVendor": "Levity",
                "chargePointModel": "Bench 11kW",
                "chargeBoxSerialNumber": self.id,
                "firmwareVersion": "1.0.0",
            },
        )
        await self.status(0, "Available")
        await self.status(1, "Charging")
        await self.start()

    async def status(self, connector_id: int, status: str) -> None:
        await self.call(
            "StatusNotification",
            {
                "connectorId": connector_id,
                "errorCode": "NoError",
                "status": status,
                "timestamp": now_iso(),
            },
        )

    async def start(self) -> float:
        result, ms = await self.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "BENCHTAG",
                "meterStart": int(self.register_wh),
                "timestamp": now_iso(),
            },
        )
        self.transaction_id = int(result["transactionId"])
        return ms

    async def stop(self) -> float:
        _, ms = await self.call(
            "StopTransaction",
            {
                "transactionId": self.transaction_id,
                "meterStop": int(self.register_wh),
                "timestamp": now_iso(),
                "reason": "EVDisconnected",
            },
        )
        self.transaction_id = None
        return ms

    def sample(self) -> list[dict[str, Any]]:
        power_w = 11_000 + random.gauss(0, 25)
        self.register_wh += power_w * INTERVAL_S / 3600
        self.soc = min(100.0, self.soc + power_w * INTERVAL_S / 3600 / 600)
        self.temperature += random.gauss(0, 0.05)
        values: list[dict[str, Any]] = [
            {
                "value": f"{self.register_wh:.0f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {"value": f"{power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W"},
        ]
        for phase in ("L1", "L2", "L3"):
            current = power_w / 3 / VOLTAGE + random.gauss(0, 0.05)
            values.append(
                {
                    "value": f"{current:.2f}",
                    "measurand": "Current.Import",
                    "unit": "A",
                    "phase": phase,
                }
            )
        for phase in ("L1-N", "L2-N", "L3-N"):
            voltage = VOLTAGE + random.gauss(0, 1)
            values.append(
                {"value": f"{voltage:.1f}", "measurand": "Voltage", "unit": "V", "phase": phase}
            )
        values += [
            {"value": f"{CURRENT_A:.1f}", "measurand": "Current.Offered", "unit": "A"},
            {"value": f"{self.soc:.0f}", "measurand": "SoC", "unit": "Percent", "location": "EV"},
            {"value": f"{self.temperature:.1f}", "measurand": "Temperature", "unit": "Celsius"},
        ]
        return [{"timestamp": now_iso(), "sampledValue": values}]

    async def meter_values(self) -> float:
        payload: dict[str, Any] = {"connectorId": 1, "meterValue": self.sample()}
        if self.transaction_id is not None:
            payload["transactionId"] = self.transaction_id
        _, ms = await self.call("MeterValues", payload)
        return ms

    async def run(self, offset_s: float, until: float, window: Window) -> None:
        """MeterValues every interval from `offset_s` on; now and then a new session."""
        next_at = time.monotonic() + offset_s
        while (wait := next_at - time.monotonic()) < until - time.monotonic():
            await asyncio.sleep(max(0.0, wait))
            next_at += INTERVAL_S
            if self.fleet.busy.get(self.id):
                continue
            try:
                ms = await self.meter_values()
                window.meter_values.append(ms)
                window.meter_values_sent.append(self.sent_at)
                if random.random() < window.restart_per_s * INTERVAL_S:
                    await self.stop()
                    await self.status(1, "Finishing")
                    await self.status(1, "Charging")
                    window.starts.append(await self.start())
            except (RuntimeError, TimeoutError, OSError) as error:
                window.errors.append(f"{self.id}: {error!r}")


class GcPauses:
    """The generator's own full collections since it last told them."""

    def __init__(self) -> None:
        self.started = 0.0
        self.count = 0
        self.longest_s = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self.started = time.perf_counter()
            return
        self.count += 1
        self.longest_s = max(self.longest_s, time.perf_counter() - self.started)

    def figures(self) -> dict[str, float]:
        figures = {"gen2_count": self.count, "gen2_max_ms": self.longest_s * 1000}
        self.count, self.longest_s = 0, 0.0
        return figures


class Window:
    def __init__(self, restart_per_s: float) -> None:
        self.restart_per_s = restart_per_s
        self.meter_values: list[float] = []
        self.meter_values_sent: list[float] = []  # time.time() of each
        self.starts: list[float] = []
        self.errors: list[str] = []


class Fleet:
    def __init__(self, urls: list[str], count: int) -> None:
        self.urls = urls  # a large site's central systems: chargers spread over them
        self.chargers = [Charger(self, n) for n in range(1, count + 1)]
        self.tasks: set[asyncio.Task[None]] = set()
        self.commands: dict[str, int] = {}
        self.busy: dict[str, bool] = {}
        self.gc = GcPauses()
        gc.callbacks.append(self.gc)

    async def connect(self, count: int | None) -> dict[str, Any]:
        started = time.monotonic()
        chosen = [c for c in self.chargers[:count] if c.ws is None]
        limit = asyncio.Semaphore(20)  # a site powering up, not 1,000 handshakes at once

        async def one(charger: Charger) -> float:
            async with limit:
                await charger.connect(self.urls[charger.number % len(self.urls)])
                return 0.0

        await asyncio.gather(*(one(c) for c in chosen))
        # The generator's own long-lived objects (sockets, chargers) out of its
        # collector's way: its pauses would count as Home Assistant's latency.
        gc.collect()
        gc.freeze()
        return {"connect_s": time.monotonic() - started}

    async def window(self, seconds: float, restart_per_s: float) -> dict[str, Any]:
        connected = [c for c in self.chargers if c.ws is not None]
        count = len(connected)
        window = Window(restart_per_s)
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(c.run(i * INTERVAL_S / count, until, window) for i, c in enumerate(connected))
        )
        return {
            "meter_values_ms": window.meter_values,
            "meter_values_sent": window.meter_values_sent,
            "starts_ms": window.starts,
            "errors": window.errors[:20],
            "error_count": len(window.errors),
            "commands": dict(self.commands),
            "gc": self.gc.figures(),
        }

    async def burst(self, n: int) -> dict[str, Any]:
        chosen = random.sample(self.chargers, min(n, len(self.chargers)))
        for charger in chosen:
            self.busy[charger.id] = True
        try:
            stops = await asyncio.gather(*(c.stop() for c in chosen))
            for charger in chosen:
                await charger.start()
        finally:
            self.busy.clear()
        return {"stops_ms": list(stops)}

    async def close(self) -> None:
        await asyncio.gather(
            *(c.ws.close() for c in self.chargers if c.ws is not None), return_exceptions=True
        )


async def main() -> None:
    urls, count = sys.argv[1].split(","), int(sys.argv[2])
    fleet = Fleet(urls, count)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        request = json.loads(line)
        answer: dict[str, Any]
        match request["op"]:
            case "connect":
                answer = await fleet.connect(request.get("n"))
            case "window":
                answer = await fleet.window(
                    float(request["s"]),
                    float(request.get("restart_per_s", SESSION_RESTART_PER_S)),
                )
            case "burst":
                answer = await fleet.burst(int(request["n"]))
            case "close":
                await fleet.close()
                answer = {"ok": True}
            case other:
                answer = {"error": f"unknown op {other}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if request["op"] == "close":
            return


if __name__ == "__main__":
    asyncio.run(main())
