"""Only the StopTransaction burst, in a real HA, with a cProfile of the loop thread.

`.venv/bin/python -m scripts.bench.stop_burst [--charge-points 100] [--bursts 3]`

A measurement run by hand (not a test, not the benchmark): a fresh config as the
benchmark writes it, N chargers with open sessions from the load generator, a
short settle, then `--bursts` bursts of 100 simultaneous StopTransactions (each
charger starts a new session after its stop; MeterValues between bursts give the
sessions energy). Prints p50/p99 of the replies per burst and over all, then one
more burst under cProfile (it slows the loop: that burst's figures are not
counted) and the top of its profile (the burst and the 2 s after it). Python
3.12+ profiles every thread: the executor's journal writes and the recorder's
thread show up too.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import pstats
import tempfile

from .hass import Hass
from .main import BURST, Load
from .report import median, percentile

SETTLE_S = 20.0
WINDOW_S = 12.0  # every charger sends MeterValues once or more


async def burst(load: Load, hass: Hass, profile: Path | None = None) -> tuple[list[float], float]:
    """One burst of stops, after a window that gives the sessions some energy.

    Returns the replies' latencies and the CPU ms of hass's event loop thread for
    the burst and the 2 s after it, per stop: less at the mercy of a busy machine
    than the latencies are. That includes the start that follows each stop, the
    state writes and everything else the loop did meanwhile.
    """
    await load.ask({"op": "window", "s": WINDOW_S})
    await asyncio.sleep(1)  # the window's last replies are written
    if profile is not None:
        await hass.ask({"op": "profile_start"})
    cpu0 = (await hass.ask({"op": "loop_cpu"}))["s"]
    stops: list[float] = (await load.ask({"op": "burst", "n": BURST}))["stops_ms"]
    await asyncio.sleep(2)  # what follows the replies stays out of the next window
    cpu_ms = ((await hass.ask({"op": "loop_cpu"}))["s"] - cpu0) * 1000 / len(stops)
    if profile is not None:
        await hass.ask({"op": "profile_stop", "path": str(profile)})
    return stops, cpu_ms


async def run(count: int, bursts: int, top: int) -> None:
    config = Path(tempfile.mkdtemp(prefix=f"levity-stop-burst-{count}-"))
    hass = Hass(config)
    hass.write_config(count)
    hass.start()
    load: Load | None = None
    try:
        await hass.wait_ready()
        load = await Load.start(hass.ocpp_urls, count)
        connected = await load.ask({"op": "connect"})
        print(f"{count} chargers charging after {connected['connect_s']:.1f} s ({config})")
        await load.ask({"op": "window", "s": SETTLE_S})  # start-up work settles
        path = config / "burst.pstats"
        everything: list[float] = []
        cpu: list[float] = []
        for number in range(1, bursts + 1):
            stops, cpu_ms = await burst(load, hass)
            everything += stops
            cpu.append(cpu_ms)
            print(
                f"burst {number}: {len(stops)} StopTransactions  "
                f"p50 {median(stops):7.1f} ms  p99 {percentile(stops, 0.99):7.1f} ms  "
                f"loop CPU {cpu_ms:5.2f} ms per stop"
            )
        print(
            f"all {len(everything)}: p50 {median(everything):.1f} ms  "
            f"p99 {percentile(everything, 0.99):.1f} ms  "
            f"loop CPU per stop, median of the bursts: {median(cpu):.2f} ms"
        )
        stops, _ = await burst(load, hass, path)
        print(f"profiled burst (not counted): p50 {median(stops):.1f} ms")
        stats = pstats.Stats(str(path))
        for key in ("tottime", "cumulative"):
            print(f"-- cProfile of the loop thread during the bursts, top {top} by {key}")
            stats.sort_stats(key).print_stats(top)
    finally:
        if load is not None:
            await load.close()
        hass.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charge-points", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.charge_points, args.bursts, args.top))


if __name__ == "__main__":
    main()
