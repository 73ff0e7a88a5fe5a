"""Benchmark the central system core: MeterValues throughput, latency and memory.

Runs `csms.CentralSystem` on 127.0.0.1 with N charge points (real `ocpp` clients over
real WebSockets), each charging a session and sending MeterValues as fast as the
central system answers. Prints the figures against the targets and exits 1 if a
target is missed. Run with `scripts/benchmark [--charge-points 20] [--messages 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gc
import logging
import statistics
import sys
import time
import tracemalloc

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect

from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import ChargePoint as ChargePointModel
from custom_components.levity_ocpp.csms.server import CentralSystem

# Targets for a 2-core machine: 20 chargers sending every 10 s is 2 messages/s, so
# these leave two orders of magnitude of headroom for bigger sites and bursts.
TARGET_THROUGHPUT = 300.0  # MeterValues per second, all charge points together
TARGET_P99_MS = 100.0  # round trip of one MeterValues, at full load
TARGET_KIB = 512.0  # steady-state memory, frame log full


class CountingHooks(CentralSystemHooks):
    """Counts model notifications: what entity updates would cost in HA."""

    def __init__(self) -> None:
        self.notifications = 0

    def charge_point_discovered(self, charge_point: ChargePointModel) -> None:
        for connector_id in (0, 1):
            charge_point.add_listener(connector_id, self._count)

    def _count(self) -> None:
        self.notifications += 1


@dataclass
class Result:
    latencies_ms: list[float]
    elapsed_s: float


def meter_value(at: datetime, energy_wh: float) -> list[dict]:
    values = [
        {"value": f"{energy_wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
    ]
    for phase in ("L1", "L2", "L3"):
        values += [
            {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": phase},
            {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": f"{phase}-N"},
        ]
    return [{"timestamp": at.isoformat(), "sampledValue": values}]


class BenchChargePoint(ChargePoint):
    """Answers the GetConfiguration the central system sends after boot."""

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        return call_result.GetConfiguration(configuration_key=[], unknown_key=key or [])


async def charge(port: int, charge_point_id: str, messages: int) -> list[float]:
    async with connect(f"ws://127.0.0.1:{port}/{charge_point_id}", subprotocols=["ocpp1.6"]) as ws:
        cp = BenchChargePoint(charge_point_id, ws)
        reader = asyncio.create_task(cp.start())
        try:
            await cp.call(
                call.BootNotification(charge_point_model="Bench", charge_point_vendor="L")
            )
            start = datetime.now(UTC)
            tx = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="BENCH", meter_start=0, timestamp=start.isoformat()
                )
            )
            latencies = []
            for n in range(messages):
                at = start + timedelta(seconds=n)
                sent = time.perf_counter()
                await cp.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=tx.transaction_id,
                        meter_value=meter_value(at, n * 30.0),
                    )
                )
                latencies.append((time.perf_counter() - sent) * 1000)
            return latencies
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def run(charge_points: int, messages: int) -> tuple[Result, CentralSystem, CountingHooks]:
    hooks = CountingHooks()
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=300, hooks=hooks)
    await central.start()
    assert central.bound_port is not None
    began = time.perf_counter()
    results = await asyncio.gather(
        *(charge(central.bound_port, f"CP{n:03d}", messages) for n in range(charge_points))
    )
    elapsed = time.perf_counter() - began
    return Result([lat for r in results for lat in r], elapsed), central, hooks


async def measure_memory(charge_points: int, messages: int) -> float:
    """KiB per charge point kept by the central system after a full run."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _, central, _ = await run(charge_points, messages)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    await central.stop()
    return (after - before) / 1024 / charge_points


async def benchmark(charge_points: int, messages: int) -> int:
    result, central, hooks = await run(charge_points, messages)
    await central.stop()
    total = len(result.latencies_ms)
    throughput = total / result.elapsed_s
    ordered = sorted(result.latencies_ms)
    p50 = statistics.median(ordered)
    p99 = ordered[min(total - 1, int(total * 0.99))]
    kib = await measure_memory(charge_points, 250)

    checks = [
        (
            "throughput (MeterValues/s)",
            throughput,
            TARGET_THROUGHPUT,
            throughput >= TARGET_THROUGHPUT,
        ),
        ("latency p99 (ms)", p99, TARGET_P99_MS, p99 <= TARGET_P99_MS),
        ("memory per charge point (KiB)", kib, TARGET_KIB, kib <= TARGET_KIB),
    ]
    print(f"{charge_points} charge points x {messages} MeterValues (8 sampled values each)")
    print(f"  elapsed                          {result.elapsed_s:10.2f} s")
    print(f"  latency p50                      {p50:10.2f} ms")
    print(f"  model notifications / MeterValues {hooks.notifications / total:9.2f}")
    failed = False
    for name, value, target, ok in checks:
        failed |= not ok
        print(f"  {name:32s} {value:10.1f}   target {target:g}   {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=20)
    parser.add_argument("--messages", type=int, default=300, help="MeterValues per charge point")
    args = parser.parse_args()
    # Per-frame info logs of the clients and the server would measure the terminal.
    logging.disable(logging.INFO)
    return asyncio.run(benchmark(args.charge_points, args.messages))


if __name__ == "__main__":
    sys.exit(main())
