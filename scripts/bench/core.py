"""Benchmark the central system core: MeterValues throughput, latency and memory.

Runs `csms.CentralSystem` on 127.0.0.1 with N charge points (real `ocpp` clients over
real WebSockets), each charging a session and sending MeterValues as fast as the
central system answers. Then a hostile burst: chargers sending 100 frames of 1 MiB
each, with the default 64 KiB frame limit (each closed with 1009) and with the limit
raised to 2 MiB (each taken and answered), and what memory stays behind per charger.
Last, what handling one MeterValues costs on the library's path and on ours
(handling.py). Prints the figures against the targets and exits 1 if a target is
missed. Run with
`scripts/benchmark [--charge-points 20] [--messages 300] [--hostile-charge-points 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gc
import json
import logging
import os
import statistics
import sys
import time
import tracemalloc
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from custom_components.levity_ocpp.csms.guards import KIB, Limits
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import ChargePoint as ChargePointModel
from custom_components.levity_ocpp.csms.server import CentralSystem

# Targets for a 2-core machine: 20 chargers sending every 10 s is 2 messages/s, so
# these leave two orders of magnitude of headroom for bigger sites and bursts.
TARGET_THROUGHPUT = 300.0  # MeterValues per second, all charge points together
TARGET_P99_MS = 100.0  # round trip of one MeterValues, at full load
TARGET_KIB = 512.0  # steady-state memory, frame log full
# What a charger that sent 100 frames of 1 MiB leaves behind: its frame log (128 KiB
# at most) and its model, never the frames.
TARGET_HOSTILE_KIB = 256.0
HOSTILE_FRAMES = 100
MIB = 1 << 20


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


def meter_value(at: datetime, energy_wh: float) -> list[dict[str, Any]]:
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
    async with connect(
        f"ws://127.0.0.1:{port}/{charge_point_id}", subprotocols=[Subprotocol("ocpp1.6")]
    ) as ws:
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


def rss() -> int:
    """This process's resident memory in bytes (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def hostile(port: int, charge_point_id: str, frame: str) -> None:
    """Send HOSTILE_FRAMES frames, reconnecting whenever the central system closes."""
    sent = 0
    while sent < HOSTILE_FRAMES:
        async with connect(
            f"ws://127.0.0.1:{port}/{charge_point_id}",
            subprotocols=[Subprotocol("ocpp1.6")],
            max_size=None,
        ) as ws:
            with contextlib.suppress(ConnectionClosed):
                while sent < HOSTILE_FRAMES:
                    await ws.send(frame)
                    sent += 1
                    while json.loads(await ws.recv())[0] == 2:  # skip requests of ours
                        pass


@dataclass
class Burst:
    retained_kib: float  # per charge point: Python allocations still held after the burst
    frame_log_kib: float  # per charge point
    rss_mib: float  # the whole process, run again without tracing
    rss_trimmed_mib: float  # the same once glibc has returned the memory it keeps free


def malloc_trim() -> None:
    """Let glibc hand freed memory back to the OS (it keeps some for reuse otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def hostile_burst(charge_points: int, max_frame_bytes: int, *, traced: bool) -> Burst:
    """Memory kept after `charge_points` chargers each sent HOSTILE_FRAMES frames of 1 MiB."""
    central = CentralSystem(
        host="127.0.0.1",
        port=0,
        heartbeat_interval=300,
        limits=Limits(max_frame_bytes=max_frame_bytes, messages_per_second=1000),
    )
    await central.start()
    assert central.bound_port is not None
    frame = json.dumps([2, "big", "DataTransfer", {"vendorId": "acme", "data": "x" * MIB}])
    await hostile(central.bound_port, "WARMUP", frame)  # what any first burst allocates once
    gc.collect()
    rss_before = rss()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await asyncio.gather(
        *(hostile(central.bound_port, f"BAD{n:02d}", frame) for n in range(charge_points))
    )
    await asyncio.sleep(0.1)  # the server sees the last closes
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss_after = rss()
    malloc_trim()
    rss_trimmed = rss()
    logs = [central.charge_points[f"BAD{n:02d}"].frames.bytes for n in range(charge_points)]
    await central.stop()
    return Burst(
        (after - before) / 1024 / charge_points,
        statistics.mean(logs) / 1024,
        (rss_after - rss_before) / MIB,
        (rss_trimmed - rss_before) / MIB,
    )


async def measure_hostile(charge_points: int, max_frame_bytes: int) -> Burst:
    """The burst twice: traced for what Python keeps, untraced for the process's RSS."""
    traced = await hostile_burst(charge_points, max_frame_bytes, traced=True)
    untraced = await hostile_burst(charge_points, max_frame_bytes, traced=False)
    return Burst(
        traced.retained_kib, traced.frame_log_kib, untraced.rss_mib, untraced.rss_trimmed_mib
    )


async def benchmark(charge_points: int, messages: int, hostile_charge_points: int) -> int:
    result, central, hooks = await run(charge_points, messages)
    await central.stop()
    total = len(result.latencies_ms)
    throughput = total / result.elapsed_s
    ordered = sorted(result.latencies_ms)
    p50 = statistics.median(ordered)
    p99 = ordered[min(total - 1, int(total * 0.99))]
    kib = await measure_memory(charge_points, 250)
    refused = await measure_hostile(hostile_charge_points, 64 * KIB)
    taken = await measure_hostile(hostile_charge_points, 2 * MIB)
    from .handling import measure as measure_handling, report as handling_report  # noqa: PLC0415 - it imports this module

    handling = handling_report(await measure_handling(1000))

    checks = [
        (
            "throughput (MeterValues/s)",
            throughput,
            TARGET_THROUGHPUT,
            throughput >= TARGET_THROUGHPUT,
        ),
        ("latency p99 (ms)", p99, TARGET_P99_MS, p99 <= TARGET_P99_MS),
        ("memory per charge point (KiB)", kib, TARGET_KIB, kib <= TARGET_KIB),
        (
            "after burst, 64 KiB limit (KiB)",
            refused.retained_kib,
            TARGET_HOSTILE_KIB,
            refused.retained_kib <= TARGET_HOSTILE_KIB,
        ),
        (
            "after burst, 2 MiB limit (KiB)",
            taken.retained_kib,
            TARGET_HOSTILE_KIB,
            taken.retained_kib <= TARGET_HOSTILE_KIB,
        ),
    ]
    print(f"{charge_points} charge points x {messages} MeterValues (8 sampled values each)")
    print(f"  elapsed                          {result.elapsed_s:10.2f} s")
    print(f"  latency p50                      {p50:10.2f} ms")
    print(f"  model notifications / MeterValues {hooks.notifications / total:9.2f}")
    print(
        f"hostile burst: {hostile_charge_points} charge points x {HOSTILE_FRAMES} frames of 1 MiB"
    )
    for name, burst in (("64 KiB limit (closed 1009)", refused), ("2 MiB limit (answered)", taken)):
        print(
            f"  {name:30s} frame log {burst.frame_log_kib:5.1f} KiB per charge point; "
            f"RSS {burst.rss_mib:+.1f} MiB, {burst.rss_trimmed_mib:+.1f} MiB after malloc_trim"
        )
    print("\n".join(handling))
    failed = False
    for name, value, target, ok in checks:
        failed |= not ok
        print(f"  {name:32s} {value:10.1f}   target {target:g}   {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=20)
    parser.add_argument("--messages", type=int, default=300, help="MeterValues per charge point")
    parser.add_argument(
        "--hostile-charge-points", type=int, default=5, help="chargers sending 1 MiB frames"
    )
    args = parser.parse_args()
    # Per-frame info logs of the clients and the server would measure the terminal.
    logging.disable(logging.INFO)
    # The hostile chargers' faults would fill the terminal (a few lines each; the point).
    logging.getLogger("custom_components.levity_ocpp").setLevel(logging.ERROR)
    return asyncio.run(benchmark(args.charge_points, args.messages, args.hostile_charge_points))


if __name__ == "__main__":
    sys.exit(main())
