"""Issue 10's figures in a real Home Assistant: `scripts/benchmark --help`.

For each N: a fresh config (SQLite recorder, this checkout's integration, the
probe), the idle baseline, N chargers from a separate load-generator process,
a warm-up, steady windows (rows, DB growth, latency, CPU, RSS, GC), a burst of
StopTransactions, then a restart of hass on the same config (start-up time and
every warning HA logged). `--profile` adds a separate profiled window at the
largest N, after the measured ones, so it distorts none of them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
from pathlib import Path
import pstats
import sys
import tempfile
import time
from typing import Any

from custom_components.levity_ocpp.delayed_save import (
    READINGS_SAVE_DELAY,
    SESSION_READINGS_SAVE_DELAY,
)

from .hass import ROOT, Hass
from .report import Report, median, percentile
from .storage import StorageWrites, snapshot_sizes

MIB = 1 << 20
ANSWER_LIMIT = 64 * MIB
IDLE_S = 20.0
WARMUP_S = 60.0
ROWS_PER_CHARGER_MINUTE = 15.0
MIB_PER_CHARGER_DAY = 4.5
RSS_MIB_PER_CHARGER = 0.25
CPU_AT_100 = 3.0  # % of a core at 100 chargers; flat per charger beyond
START_UP_S = 10.0
BURST = 100
RECORDER_DRAIN_S = 600.0
STARTS = 100  # at least this many StartTransactions measured
# HA's notice for every custom integration: true of any custom integration, not a problem.
EXPECTED_WARNINGS = ("We found a custom integration",)


def latency_target(count: int) -> float:
    return 20.0 if count <= 100 else 50.0


class Load:
    """The load-generator process, driven one JSON line at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, urls: list[str], count: int) -> Load:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "scripts.bench.load", ",".join(urls), str(count),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
            limit=ANSWER_LIMIT,  # a window's latencies at 1,000 chargers: ~100 KB a line
        )  # fmt: skip
        return cls(process)

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def close(self) -> None:
        if self.process.returncode is None:
            await self.ask({"op": "close"})
            await self.process.wait()


# How Home Assistant's container image runs hass with jemalloc (its services.d run script).
JEMALLOC_CONF = "background_thread:true,metadata_thp:auto,dirty_decay_ms:20000,muzzy_decay_ms:20000"


def allocator_environment(allocator: str) -> dict[str, str]:
    """What hass's environment needs to run with this allocator."""
    if allocator == "glibc":
        return {}
    found = sorted((ROOT / ".python" / "jemalloc").glob("usr/lib/*/libjemalloc.so.2"))
    if not found:
        raise SystemExit("no .python/jemalloc: run scripts/benchmark, which fetches it")
    return {"LD_PRELOAD": str(found[0]), "MALLOC_CONF": JEMALLOC_CONF}


async def measure(
    count: int,
    minutes: int,
    profile: bool,
    report: Report,
    trace_memory: bool = False,
    gc_freeze: bool = False,
    allocator: str = "glibc",
) -> None:
    config = Path(tempfile.mkdtemp(prefix=f"levity-bench-{count}-"))
    hass = Hass(config, environment=allocator_environment(allocator))
    hass.write_config(count)
    report.section(
        f"N = {count} chargers in {len(hass.ocpp_ports)} central system(s), {allocator}'s "
        f"malloc  (config {config})"
    )
    hass.start()
    load: Load | None = None
    try:
        await hass.wait_ready()
        await asyncio.sleep(IDLE_S)  # start-up work settles
        environment = {problem_kind(line) for line in hass.log_problems()}
        cpu0, t0 = hass.cpu_s(), time.monotonic()
        await asyncio.sleep(IDLE_S)
        idle_pct = (hass.cpu_s() - cpu0) / (time.monotonic() - t0) * 100
        rss_before = hass.rss_mib()

        load = await Load.start(hass.ocpp_urls, count)
        # The first charger loads the platforms, translations and code every charger
        # shares: RSS per charger is what each further one adds.
        await load.ask({"op": "connect", "n": 1})
        await asyncio.sleep(5)
        rss_one = hass.rss_mib()
        # What each further charger adds once its code paths are warm: RSS with half
        # the fleet and with all of it, each after the same metering and a drained
        # recorder (the 1 -> N figure below also holds what the first charger's
        # sessions, statistics and caches load once).
        half = max(1, count // 2)
        connected = await load.ask({"op": "connect", "n": half})
        await load.ask({"op": "window", "s": WARMUP_S / 2})
        await recorder_drained(hass)
        rss_half = hass.rss_mib()
        if trace_memory:
            await hass.ask({"op": "trace_start"})
        more = await load.ask({"op": "connect"})
        report.note(
            f"{count} chargers connected, booted, charging in "
            f"{connected['connect_s'] + more['connect_s']:.1f} s"
        )
        await load.ask({"op": "window", "s": WARMUP_S / 2})
        await recorder_drained(hass)
        rss_full = hass.rss_mib()
        if trace_memory:
            traced = await hass.ask({"op": "trace_stop"})
            memory_trace(report, traced, count - half, rss_full - rss_half)
        await load.ask({"op": "window", "s": WARMUP_S / 2})

        await recorder_drained(hass)  # the warm-up's rows are not the window's
        if gc_freeze:
            frozen = await hass.ask({"op": "gc_freeze"})
            report.note(f"gc.freeze() in HA after the warm-up: {frozen['frozen']} objects frozen")
        await hass.ask({"op": "gc_reset"})
        entity_ids = (await hass.ask({"op": "entities"}))["entity_ids"]
        db0 = hass.db_bytes()
        writes, watched = StorageWrites(config / ".storage"), asyncio.Event()
        watcher = asyncio.create_task(writes.watch(watched))
        written0 = hass.written_bytes()
        start_ts, cpu0, t0 = time.time(), hass.cpu_s(), time.monotonic()
        meter_ms: list[float] = []
        meter_sent: list[float] = []
        start_ms: list[float] = []
        load_gc = {"gen2_count": 0, "gen2_max_ms": 0.0}
        errors = 0
        rss: list[float] = []
        for _ in range(minutes):
            window = await load.ask({"op": "window", "s": 60})
            meter_ms += window["meter_values_ms"]
            meter_sent += window["meter_values_sent"]
            start_ms += window["starts_ms"]
            add_load_gc(load_gc, window["gc"])
            errors += window["error_count"]
            rss.append(hass.rss_mib())
            for error in window["errors"][:3]:
                report.note(f"load error: {error}")
        elapsed = time.monotonic() - t0
        end_ts = time.time()
        cpu_pct = (hass.cpu_s() - cpu0) / elapsed * 100
        written = hass.written_bytes() - written0
        watched.set()
        await watcher
        gc_figures = await hass.ask({"op": "gc"})
        # Rows and growth count what the recorder wrote: wait until it has caught up
        # with the window (at a load it cannot keep up with, that takes a while).
        backlog = (await hass.ask({"op": "recorder_backlog"}))["backlog"]
        drain_s = await recorder_drained(hass)
        await asyncio.sleep(7)  # the recorder commits every 5 s (its default)
        db1 = hass.db_bytes()
        rows = hass.state_rows(entity_ids, start_ts, end_ts)
        # Sessions at a realistic rate above (each charger every ~10 minutes) leave few
        # StartTransactions in a small fleet: a window of session churn adds samples
        # (not counted in the recorder figures).
        churn = await load.ask(
            {"op": "window", "s": 60, "restart_per_s": max(1 / 600, STARTS / (count * 60))}
        )
        start_ms += churn["starts_ms"]
        meter_ms += churn["meter_values_ms"]
        meter_sent += churn["meter_values_sent"]
        add_load_gc(load_gc, churn["gc"])
        # The churn window's collections count too (the steady ones are above).
        gc_figures = merge_pauses(gc_figures, await hass.ask({"op": "gc"}))
        errors += churn["error_count"]
        charger_minutes = count * elapsed / 60

        report.note(
            f"steady window {elapsed:.0f} s and a 60 s window of session churn, "
            f"{len(entity_ids)} levity_ocpp entities, {len(meter_ms)} MeterValues, "
            f"{len(start_ms)} StartTransactions, {errors} errors"
        )
        report.figure("recorder backlog at the window's end", backlog, "events")
        report.figure("  ... drained after", drain_s, "s")
        report.figure("recorder state rows per charger-minute", rows / charger_minutes, "rows",
                      ROWS_PER_CHARGER_MINUTE)  # fmt: skip
        report.figure("DB growth per charger-day", (db1 - db0) / MIB / charger_minutes * 1440,
                      "MiB", MIB_PER_CHARGER_DAY)  # fmt: skip
        target = latency_target(count)
        await hass.ask({"op": "snapshots"})  # after the window: sizes of what is due later
        storage_figures(report, writes, snapshot_sizes(config / ".storage"), count)
        report.figure("HA disk writes per charger-day (recorder, .storage, all)",
                      written / MIB / charger_minutes * 1440, "MiB")  # fmt: skip
        report.figure("MeterValues p50", percentile(meter_ms, 0.5), "ms")
        report.figure("MeterValues p99", percentile(meter_ms, 0.99), "ms", target)
        report.figure("StartTransaction p50", percentile(start_ms, 0.5), "ms")
        report.figure("StartTransaction p99", percentile(start_ms, 0.99), "ms", target)
        report.figure("HA CPU idle (before chargers)", idle_pct, "% of a core")
        report.figure("HA CPU with chargers", cpu_pct, "% of a core")
        per_100 = (cpu_pct - idle_pct) / count * 100
        report.figure("HA CPU above idle per 100 chargers", per_100, "% of a core", CPU_AT_100)
        report.figure("RSS before chargers", rss_before, "MiB")
        report.figure("RSS with one charger", rss_one, "MiB")
        report.figure("RSS per further charger", (rss[-1] - rss_one) / max(1, count - 1), "MiB",
                      RSS_MIB_PER_CHARGER)  # fmt: skip
        report.figure(f"RSS per charger, {half} -> {count} chargers",
                      (rss_full - rss_half) / max(1, count - half), "MiB",
                      RSS_MIB_PER_CHARGER)  # fmt: skip
        rss_end = hass.rss_mib()
        if allocator == "glibc" and (await hass.ask({"op": "malloc_trim"}))["released"] is not None:
            rss_trimmed = hass.rss_mib()
            report.figure("  of it free memory malloc held (malloc_trim)", rss_end - rss_trimmed,
                          "MiB")  # fmt: skip
            report.figure("RSS per further charger, after malloc_trim",
                          (rss_trimmed - rss_one) / max(1, count - 1), "MiB")  # fmt: skip
        growth = [b - a for a, b in itertools.pairwise(rss)]
        report.note("RSS growth per minute, window by window: "
                    + ", ".join(f"{g:+.1f}" for g in growth) + " MiB")  # fmt: skip
        tail_figures(report, meter_ms, meter_sent, target, gc_figures["pauses"], load_gc)
        report.figure("GC gen-2 collections in window", gc_figures["gen2_count"], "")
        report.figure("GC gen-2 max pause", gc_figures["gen2_max_ms"], "ms")
        report.figure("GC gen-2 total pause", gc_figures["gen2_total_ms"], "ms")
        report.print()

        burst = await load.ask({"op": "burst", "n": BURST})
        stops = burst["stops_ms"]
        report.figure(f"{len(stops)} simultaneous StopTransactions p50", median(stops), "ms",
                      100.0)  # fmt: skip
        report.figure(f"{len(stops)} simultaneous StopTransactions p99",
                      percentile(stops, 0.99), "ms")  # fmt: skip
        report.print()

        if profile:
            await profiled_window(hass, load, config, report)

        await load.close()
        load = None
        await start_up(hass, report, environment)
    finally:
        if load is not None:
            load.process.kill()
        hass.stop()
        report.print()


def memory_trace(report: Report, traced: dict[str, Any], added: int, rss_mib: float) -> None:
    """Python's allocations while the second half connected, against what RSS grew."""
    report.section(
        f"allocations traced while {added} chargers connected (tracemalloc on: times are off)"
    )
    report.figure("RSS growth per charger", rss_mib * 1024 / added, "KiB")
    report.figure("Python allocations still held per charger", traced["bytes"] / 1024 / added,
                  "KiB")  # fmt: skip
    report.print()
    for where, size, count in traced["top"]:
        print(f"  {size / 1024 / added:8.1f} KiB {count / added:7.1f} blocks  {where}")


def add_load_gc(total: dict[str, Any], window: dict[str, Any]) -> None:
    total["gen2_count"] += window["gen2_count"]
    total["gen2_max_ms"] = max(total["gen2_max_ms"], window["gen2_max_ms"])


def merge_pauses(steady: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """The steady window's GC figures with the pauses of what came after (for the tail)."""
    return {**steady, "pauses": later["pauses"]}


def tail_figures(
    report: Report,
    latencies_ms: list[float],
    sent: list[float],
    target_ms: float,
    pauses: list[tuple[float, float]],
    load_gc: dict[str, Any],
) -> None:
    """How many MeterValues missed the target, and how many were in flight in a GC pause.

    A reply is in a pause's shadow when the request was sent before the pause
    ended and answered after it began (both processes use the same wall clock).
    """
    slow = [(at, ms) for at, ms in zip(sent, latencies_ms, strict=True) if ms > target_ms]
    shadowed = sum(
        1
        for at, ms in slow
        if any(at <= start + length and start <= at + ms / 1000 for start, length in pauses)
    )
    share = len(slow) / max(1, len(latencies_ms)) * 100
    report.figure(f"MeterValues over {target_ms:.0f} ms", len(slow), f"({share:.2f} %)")
    report.figure("  ... of them in flight during an HA full collection", shadowed, "")
    report.note(
        f"  the load generator's own full collections: {load_gc['gen2_count']}, "
        f"longest {load_gc['gen2_max_ms']:.1f} ms (its long-lived objects frozen)"
    )


def storage_figures(
    report: Report, writes: StorageWrites, sizes: dict[str, int], count: int
) -> None:
    """The integration's own writes per charger-day: measured appends, snapshots by cadence.

    A snapshot is due every READINGS_SAVE_DELAY (charge points) and
    SESSION_READINGS_SAVE_DELAY (the book) while chargers meter: more than a
    window sees, so a day's snapshots are their size times their cadence.
    """
    per_day = 86400 / writes.seconds / count / 1024
    report.figure("levity_ocpp journal appends per charger-day", writes.appended * per_day, "KiB")
    report.note(
        f"  rewrites seen in the {writes.seconds:.0f} s window: "
        + (", ".join(f"{n} x {kind}" for kind, n in sorted(writes.rewrites.items())) or "none")
    )
    snapshots = (
        (
            sizes["charge_points"] * 86400 / READINGS_SAVE_DELAY
            + sizes["transactions"] * 86400 / SESSION_READINGS_SAVE_DELAY
        )
        / count
        / 1024
    )
    report.figure("levity_ocpp snapshots per charger-day (by cadence)", snapshots, "KiB")


async def recorder_drained(hass: Hass) -> float:
    """Seconds until the recorder's backlog is empty (polled: it is another process)."""
    started = time.monotonic()
    while time.monotonic() - started < RECORDER_DRAIN_S:
        if not (await hass.ask({"op": "recorder_backlog"}))["backlog"]:
            break
        await asyncio.sleep(1)
    return time.monotonic() - started


async def profiled_window(hass: Hass, load: Load, config: Path, report: Report) -> None:
    path = config / "loop.pstats"
    await hass.ask({"op": "profile_start"})
    await load.ask({"op": "window", "s": 60})
    await hass.ask({"op": "profile_stop", "path": str(path)})
    report.section(f"cProfile of the event loop thread, 60 s window: {path}")
    report.print()
    stats = pstats.Stats(str(path))
    for key in ("tottime", "cumulative"):
        print(f"-- top 25 by {key}", flush=True)
        stats.sort_stats(key).print_stats(25)
    # What fills the old generation (and so brings on its full collections).
    await hass.ask({"op": "promotions_start"})
    window = await load.ask({"op": "window", "s": 30})
    promoted = await hass.ask({"op": "promotions"})
    messages = max(1, len(window["meter_values_ms"]))
    report.section(
        f"objects moved to the old generation in 30 s (tracemalloc on): {promoted['total']}, "
        f"{promoted['total'] / messages:.0f} per MeterValues; top 40 by type and origin"
    )
    report.print()
    for what, n in promoted["top"]:
        print(f"  {n / messages:8.1f}  {what}", flush=True)


async def start_up(hass: Hass, report: Report, environment: set[str]) -> None:
    hass.stop()
    mark = hass.log_mark()
    hass.start()
    started = time.monotonic()
    await hass.wait_ready()
    restored = math.nan
    answer: dict[str, Any] = {}
    while time.monotonic() - started < 300:
        answer = await hass.ask({"op": "restored"})
        if answer["enabled"] and answer["present"] >= answer["enabled"]:
            restored = time.monotonic() - started
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(10)  # warnings that come right after start-up count too
    report.figure(f"start-up: {answer.get('enabled')} entities restored", restored, "s",
                  START_UP_S)  # fmt: skip
    lines = hass.log_problems(mark)
    problems = [line for line in lines if not any(w in line for w in EXPECTED_WARNINGS)]
    # What this machine's HA logs with no charger at all (a missing ffmpeg, a
    # package it cannot build offline) is not the chargers' doing.
    counted = [line for line in problems if problem_kind(line) not in environment]
    report.figure("start-up: HA warnings and errors", len(counted), "lines", 0)
    kinds: dict[str, list[str]] = {}
    for line in counted:
        kinds.setdefault(problem_kind(line), []).append(line)
    for same in kinds.values():  # thousands of one error are one note
        more = f"\n  (and {len(same) - 1} more of this kind)" if len(same) > 1 else ""
        report.note(same[0][:2000] + more)
    if len(problems) > len(counted):
        report.note(f"(not counted: {len(problems) - len(counted)} lines HA logged at its first "
                    f"start here, before any charger: {sorted(environment)})")  # fmt: skip
    if len(lines) > len(problems):
        report.note(f"(not counted: {len(lines) - len(problems)} 'custom integration' notices)")


def problem_kind(line: str) -> str:
    """A log line without its time and thread: '[logger] message', the first 80 characters."""
    head = line.split("\n", 1)[0]
    logger_at = head.find(" [")
    return head[logger_at + 1 : logger_at + 81] if logger_at >= 0 else head[:80]


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/benchmark", description=__doc__)
    parser.add_argument("--charge-points", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--minutes", type=int, default=3, help="steady window (minutes)")
    parser.add_argument("--profile", action="store_true", help="profile the largest N")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="trace Python's allocations while the second half connects (a diagnosis: "
        "tracing slows HA, so that run's other figures do not count)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="call gc.freeze() in HA after the warm-up: what Home Assistant would gain "
        "from it (its call, not the integration's; not the figures that count)",
    )
    parser.add_argument(
        "--allocator",
        choices=("glibc", "jemalloc"),
        default="glibc",
        help="the malloc hass runs with: jemalloc as Home Assistant's container image (and so "
        "HA OS) preloads it; scripts/benchmark fetches it into .python/jemalloc",
    )
    args = parser.parse_args()
    report = Report()
    largest = max(args.charge_points)
    for count in args.charge_points:
        profile = args.profile and count == largest
        asyncio.run(
            measure(
                count,
                args.minutes,
                profile,
                report,
                args.trace_memory,
                args.gc_freeze,
                args.allocator,
            )
        )
    report.print()
    if report.missed:
        print(f"\nMISSED: {', '.join(report.missed)}")
        return 1
    print("\nevery target met")
    return 0
