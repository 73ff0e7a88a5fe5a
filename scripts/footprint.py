"""What the central system core keeps per charger over time, and its MeterValues latency.

The core (`csms.CentralSystem`, no Home Assistant) runs in this process; N simulated
chargers run in a child process (so their objects are not counted), each booting,
starting a session, sending MeterValues every `--interval` seconds for `--minutes` and
stopping it (with transactionData). A MeterValues is what a real 3-phase charger sends:
11 sampled values (energy register, power, current and voltage per phase, SoC,
temperature, offered current). Printed: garbage-collector-tracked objects
per charger once all are charging, Python memory retained per charger at each minute
(tracemalloc, so it levels off or not), the allocation sites that grew most, the CPU
time this process spent per MeterValues between minute 1 and the last minute (the
whole core: WebSocket, ocpp library, handler, model), what parsing costs per sampled
value and what the core's own handling (parsing, session, model) costs per MeterValues,
and the MeterValues round trips seen by the chargers. Every listener of every
entity is stood in for by one counting listener per connector. `--profile` adds the
functions the core spent that time in (cProfile, which slows it).

Run with `.venv/bin/python -m scripts.footprint --charge-points 300 --minutes 3`
(`--costs-only`: just the parsing and handling figures, in seconds).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
import cProfile
from datetime import UTC, datetime, timedelta
import gc
import json
import logging
import pstats
import statistics
import sys
import time
import timeit
import tracemalloc
from typing import Any

from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from custom_components.levity_ocpp.csms.guards import Limits
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.meter import parse_meter_values
from custom_components.levity_ocpp.csms.model import ChargePoint as ChargePointModel
from custom_components.levity_ocpp.csms.server import CentralSystem
from custom_components.levity_ocpp.csms.sessions import SessionManager
from custom_components.levity_ocpp.csms.transactions import TransactionBook

from .bench.core import BenchChargePoint, CountingHooks


def meter_value(at: datetime, energy_wh: float) -> list[dict[str, Any]]:
    """One MeterValues sample of a charging 3-phase charger (11 sampled values)."""
    values: list[dict[str, Any]] = [
        {
            "value": f"{energy_wh:.1f}",
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
            "context": "Sample.Periodic",
            "location": "Outlet",
        },
        {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
    ]
    for phase in ("L1", "L2", "L3"):
        values += [
            {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": phase},
            {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": f"{phase}-N"},
        ]
    values += [
        {"value": "55", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        {"value": "31.5", "measurand": "Temperature", "unit": "Celsius", "location": "Body"},
        {"value": "16", "measurand": "Current.Offered", "unit": "A"},
    ]
    return [{"timestamp": at.isoformat(), "sampledValue": values}]


async def handler_cost_us() -> float:
    """What the core's own part of a MeterValues costs, in µs: parsing, session, model.

    No WebSocket, no ocpp library (its validation and case conversion), no listener:
    the meter values of one session, one message after another.
    """
    sessions = SessionManager(TransactionBook(), CentralSystemHooks())
    model = ChargePointModel("CP")
    start = datetime.now(UTC) - timedelta(days=1)
    tx = await sessions.start(model, 1, "TAG", start, 0)
    runs = 500
    messages = [meter_value(start + timedelta(seconds=n), n * 30.0) for n in range(runs * 7)]
    best = float("inf")
    for repeat in range(7):
        began = time.process_time()
        for message in messages[repeat * runs : (repeat + 1) * runs]:
            samples = parse_meter_values(message)
            await sessions.meter_values(model, 1, samples, tx.transaction_id)
        best = min(best, time.process_time() - began)
    return best / runs * 1e6


class MeterCountingHooks(CountingHooks):
    """Also counts the MeterValues (and stops) that changed a session."""

    def __init__(self) -> None:
        super().__init__()
        self.session_changes = 0

    def transactions_changed(self) -> None:
        self.session_changes += 1


def parse_cost_us() -> float:
    """What parsing one sampled value costs, in µs (of the message the chargers send)."""
    message = meter_value(datetime.now(UTC), 1234.5)
    count = len(message[0]["sampledValue"])
    runs = 500
    # The best of several, in CPU time: what it costs, not what else the machine does.
    best = min(
        timeit.repeat(
            lambda: parse_meter_values(message), timer=time.process_time, number=runs, repeat=7
        )
    )
    return best / runs / count * 1e6


async def _charger(port: int, charge_point_id: str, args: argparse.Namespace) -> list[float]:
    async with connect(
        f"ws://127.0.0.1:{port}/{charge_point_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        compression=None if args.no_deflate else "deflate",
    ) as ws:
        cp = BenchChargePoint(charge_point_id, ws, response_timeout=120)
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
            deadline = time.monotonic() + args.minutes * 60
            n = 0
            while (now := time.monotonic()) < deadline:
                sent = time.perf_counter()
                await cp.call(
                    call.MeterValues(
                        connector_id=1,
                        transaction_id=tx.transaction_id,
                        meter_value=meter_value(start + timedelta(seconds=n), n * 30.0),
                    )
                )
                latencies.append((time.perf_counter() - sent) * 1000)
                n += 1
                await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - now)))
            await cp.call(
                call.StopTransaction(
                    meter_stop=int(n * 30),
                    timestamp=(start + timedelta(seconds=n)).isoformat(),
                    transaction_id=tx.transaction_id,
                    transaction_data=meter_value(start + timedelta(seconds=n), n * 30.0),
                )
            )
            return latencies
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def load(args: argparse.Namespace) -> None:
    """The child: N chargers; prints their round trips as one JSON line."""

    async def staggered(n: int) -> list[float]:
        await asyncio.sleep(args.interval * n / args.charge_points)
        return await _charger(args.port, f"CP{n:04d}", args)

    results = await asyncio.gather(*(staggered(n) for n in range(args.charge_points)))
    print(json.dumps([lat for r in results for lat in r]))


def _types() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _print_types(before: Counter[str], n: int, count: int) -> None:
    """The kinds of tracked object the chargers added, per charger."""
    grown = _types()
    grown.subtract(before)
    print("  gc-tracked objects per charger by type:")
    for name, added in grown.most_common(count):
        print(f"    {added / n:7.1f}  {name}")


def _top_held(snapshot: tracemalloc.Snapshot, n: int, count: int) -> None:
    for stat in snapshot.statistics("lineno")[:count]:
        frame = stat.traceback[0]
        print(
            f"    {stat.size / 1024 / n:7.2f} KiB {stat.count / n:6.1f} blocks  "
            f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"
        )


def _top_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, count: int) -> None:
    for stat in last.compare_to(first, "lineno")[:count]:
        frame = stat.traceback[0]
        print(
            f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
            f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"
        )


async def serve(args: argparse.Namespace) -> None:
    """The parent: the core, measured while the child's chargers charge."""
    n = args.charge_points
    limits = Limits(
        max_connections=n + 10, max_connections_per_address=n + 10, messages_per_second=1000
    )
    if args.costs_only:
        print(
            f"parsing: {parse_cost_us():.2f} µs per sampled value; parsing, session and "
            f"model: {await handler_cost_us():.0f} µs per MeterValues"
        )
        return
    hooks = MeterCountingHooks()
    central = CentralSystem(
        host="127.0.0.1", port=0, heartbeat_interval=3600, hooks=hooks, limits=limits
    )
    await central.start()
    parsing = parse_cost_us()  # before the chargers and tracemalloc: alone
    handling = await handler_cost_us()
    gc.collect()
    objects_before = len(gc.get_objects())
    types_before = _types() if args.types else Counter[str]()
    if args.trace:
        tracemalloc.start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.footprint",
        "--load",
        "--port",
        str(central.bound_port),
        "--charge-points",
        str(n),
        "--minutes",
        str(args.minutes),
        "--interval",
        str(args.interval),
        *(["--no-deflate"] if args.no_deflate else []),
        stdout=asyncio.subprocess.PIPE,
    )
    output = asyncio.create_task(child.communicate())
    began = time.monotonic()
    snapshots: list[tracemalloc.Snapshot] = []
    profile = cProfile.Profile() if args.profile else None
    cpu: list[tuple[float, int]] = []  # (process CPU seconds, MeterValues so far) each minute
    print(f"{n} chargers, MeterValues every {args.interval:g} s for {args.minutes:g} min")
    print(
        f"  parsing: {parsing:.2f} µs per sampled value; parsing, session and model: "
        f"{handling:.0f} µs per MeterValues"
    )
    for minute in range(1, int(args.minutes) + 1):
        await asyncio.sleep(began + 60 * minute - time.monotonic())
        # (before the collection below, which is this script's, not the core's)
        cpu.append((time.process_time(), hooks.session_changes))
        charging = sum(1 for cp in central.charge_points.values() if cp.connected)
        gc.collect()
        objects = (len(gc.get_objects()) - objects_before) / n
        line = f"  minute {minute}: {charging} connected, {objects:7.1f} gc-tracked objects/charger"
        if args.trace:
            line += f", {tracemalloc.get_traced_memory()[0] / 1024 / n:7.1f} KiB/charger"
            # A snapshot's traces are tracked objects too: this script's, not the core's.
            counted, types = len(gc.get_objects()), _types() if args.types else None
            snapshots.append(tracemalloc.take_snapshot())
            gc.collect()
            objects_before += len(gc.get_objects()) - counted
            if types is not None:
                types_before.update(_types() - types)
        print(line, flush=True)
        if args.types and minute == int(args.minutes):
            _print_types(types_before, n, args.types)
        if profile is not None and minute == 1:
            profile.enable()
    if profile is not None:
        profile.disable()
    stdout, _ = await output
    latencies = sorted(json.loads(stdout))
    if snapshots:
        print(f"  held most per charger at minute {len(snapshots)}:")
        _top_held(snapshots[-1], n, 12)
    if len(snapshots) >= 2:
        print(f"  grew most between minute 1 and minute {len(snapshots)}:")
        _top_growth(snapshots[0], snapshots[-1], 12)
    if len(cpu) >= 2 and cpu[-1][1] > cpu[0][1]:
        (cpu_first, count_first), (cpu_last, count_last) = cpu[0], cpu[-1]
        print(
            f"  core CPU {(cpu_last - cpu_first) / (count_last - count_first) * 1e6:.0f} µs "
            f"per MeterValues ({count_last - count_first} between minute 1 and "
            f"minute {len(cpu)}{', profiled' if profile else ''})"
        )
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    snapshots.clear()  # (their traces are tracked objects of this script's)
    gc.collect()
    print(
        f"  after the stops: {(len(gc.get_objects()) - objects_before) / n:7.1f} "
        "gc-tracked objects/charger"
    )
    if args.types:
        _print_types(types_before, n, args.types)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  {len(latencies)} MeterValues: p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms; "
        f"{hooks.notifications / len(latencies):.2f} listener calls each"
    )
    await central.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between MeterValues")
    parser.add_argument("--trace", action="store_true", help="tracemalloc (slower)")
    parser.add_argument(
        "--costs-only", action="store_true", help="only parsing and handling, no chargers"
    )
    parser.add_argument(
        "--types", type=int, default=0, metavar="N", help="the N commonest kinds of object kept"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions"
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="chargers that do not offer permessage-deflate (as much firmware does not)",
    )
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    logging.getLogger("custom_components.levity_ocpp").setLevel(logging.ERROR)
    asyncio.run(load(args) if args.load else serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
