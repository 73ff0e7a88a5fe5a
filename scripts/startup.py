"""Start-up of a site with N known chargers, in a real Home Assistant.

`.venv/bin/python -m scripts.startup [--charge-points 1000] [--profile]` writes a temp
config (scripts/bench/hass.py: recorder, the probe, levity_ocpp config entries of up
to CHARGERS_PER_CENTRAL_SYSTEM chargers each, as README "Large sites" splits a site)
with N approved charge points (subentries) and their saved state (a 1.6 Grizzl-E with
one connector, an energy register and the usual feature profiles), then starts hass
twice:

- first start: every entity is new (registered now);
- restart: every entity is restored from the registry, as after an HA update.

For each start it prints the seconds HA spent setting up levity_ocpp (store, devices
and every entity added: HA's own setup timing), the seconds from process start until
every enabled entity had a state, the entity counts and every WARNING/ERROR HA logged.
`--profile` runs the restart under cProfile (the event loop's thread, from process
start to stop), writes the stats next to the config and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from scripts.bench.hass import CHARGERS_PER_CENTRAL_SYSTEM, Hass

DOMAIN = "levity_ocpp"
NOTICE = "We found a custom integration"

FEATURE_PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger"


def known_charge_point(charge_point_id: str) -> dict[str, Any]:
    """What the store keeps of a charger that booted and sent an energy register."""
    from custom_components.levity_ocpp.csms.model import ChargePoint  # noqa: PLC0415
    from custom_components.levity_ocpp.store import charge_point_to_dict  # noqa: PLC0415

    now = datetime.now(UTC)
    cp = ChargePoint(charge_point_id, vendor="United Chargers", model="Grizzl-E")
    cp.configuration["SupportedFeatureProfiles"] = {
        "key": "SupportedFeatureProfiles",
        "readonly": True,
        "value": FEATURE_PROFILES,
    }
    cp.connector(0).status = "Available"
    connector = cp.connector(1)
    connector.status = "Available"
    connector.status_time = now
    connector.energy_register_kwh = 1234.5
    connector.energy_register_time = now
    return charge_point_to_dict(cp)


def write_site(hass: Hass, count: int) -> None:
    """Add N approved charge points to the entries hass.py wrote, and their saved state."""
    from custom_components.levity_ocpp.charge_point_settings import (  # noqa: PLC0415
        DEFAULTS,
        data_from_settings,
    )
    from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT  # noqa: PLC0415
    from custom_components.levity_ocpp.durable_store import STORAGE_VERSION  # noqa: PLC0415

    ids = [f"CP{number:04d}" for number in range(count)]
    storage = hass.config_dir / ".storage"
    entries_path = storage / "core.config_entries"
    entries = json.loads(entries_path.read_text())
    for index, entry in enumerate(entries["data"]["entries"]):
        first = index * CHARGERS_PER_CENTRAL_SYSTEM
        share = ids[first : first + CHARGERS_PER_CENTRAL_SYSTEM]
        entry["subentries"] = [
            {
                "data": data_from_settings(cp_id, DEFAULTS),
                "subentry_id": f"01SUBENTRY{first + number:016d}",
                "subentry_type": SUBENTRY_CHARGE_POINT,
                "title": cp_id,
                "unique_id": cp_id,
            }
            for number, cp_id in enumerate(share)
        ]
        key = f"{DOMAIN}.{entry['entry_id']}.charge_points"
        (storage / key).write_text(
            json.dumps(
                {
                    "version": STORAGE_VERSION,
                    "minor_version": 1,
                    "key": key,
                    "data": {"charge_points": [known_charge_point(cp_id) for cp_id in share]},
                }
            )
        )
    entries_path.write_text(json.dumps(entries))


# assist_pipeline (a default integration) needs pymicro-vad, which HA compiles from
# source at every start where it is missing (design.md "HA facts that bite"): minutes
# of a compiler on the cores being measured. An installed HA has it once; here HA is
# told not to try.
SKIP_PIP_PACKAGES = ("pymicro-vad",)


def start(hass: Hass, profile: Path | None) -> float:
    """Start hass as Hass.start does (under cProfile if asked); the monotonic start time."""
    env = {**os.environ, "SETUP_PORT": str(hass.http_port)}
    log = (hass.config_dir / "hass.console.log").open("ab")
    profiler = [] if profile is None else ["-m", "cProfile", "-o", str(profile)]
    skip = [arg for package in SKIP_PIP_PACKAGES for arg in ("--skip-pip-packages", package)]
    started = time.monotonic()
    hass.process = subprocess.Popen(
        [
            *(sys.executable, *profiler, "-m", "homeassistant", "-c", str(hass.config_dir)),
            *("--log-file", str(hass.log_path), *skip),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=hass.config_dir,
    )
    return started


def stop(hass: Hass, timeout: float = 120) -> None:
    """Stop hass as a user would (Ctrl+C: cProfile writes its stats on the way out)."""
    process = hass.process
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        hass.stop()


async def measure_start(
    hass: Hass, label: str, limit_s: float, profile: Path | None = None
) -> dict[str, Any]:
    """Start hass, wait until every enabled entity has a state, stop it; the figures."""
    mark = hass.log_mark()
    started = start(hass, profile)
    try:
        await hass.wait_ready(limit_s)
        deadline = time.monotonic() + limit_s
        previous: dict[str, Any] = {}
        while True:
            timing = await hass.ask({"op": "setup_timing"})
            restored = await hass.ask({"op": "restored"})
            # Loaded, every enabled entity has a state, and nothing changed for a poll.
            if (
                timing["loaded"]
                and restored["enabled"]
                and restored["present"] == restored["enabled"]
                and restored == previous
            ):
                break
            previous = restored
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: entities not all present: {restored}")
            await asyncio.sleep(0.5)
        all_present_s = time.monotonic() - started
        # CPU seconds of hass (all threads) until then: comparable on a busy machine.
        cpu_s = hass.cpu_s()
        # Stopped once HA's start is over, so it stops cleanly (no warning next start).
        while not (await hass.ask({"op": "setup_timing"}))["running"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: Home Assistant did not finish starting")
            await asyncio.sleep(0.5)
        running_s = time.monotonic() - started
    finally:
        stop(hass)
    problems = hass.log_problems(mark)
    # Not HA's notice that levity_ocpp is a custom integration; its warnings about our
    # calls ("Detected that custom integration 'levity_ocpp' calls ...") do count.
    ours = [line for line in problems if DOMAIN in line and NOTICE not in line]
    return {
        "start": label,
        "setup_s": timing["seconds"],
        "all_present_after_process_start_s": round(all_present_s, 1),
        "running_after_s": round(running_s, 1),
        "cpu_s_until_present": round(cpu_s, 1),
        **restored,
        "warnings": len(problems),
        "levity_warnings": len(ours),
        "problems": problems,
    }


def print_profile(path: Path, top: int = 40) -> None:
    """The functions the restart spent its time in, by own time and with callees."""
    stats = pstats.Stats(str(path))
    for key in ("tottime", "cumulative"):
        print(f"-- top {top} by {key}: {path}", flush=True)
        stats.sort_stats(key).print_stats(top)


async def run(count: int, limit_s: float, keep: Path | None, *, profile: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="levity-startup-") as tmp:
        hass = Hass(keep or Path(tmp) / "config")
        hass.write_config(count)
        write_site(hass, count)
        # Kept where a later look can find it: next to the config when it is kept.
        stats_path = (keep or Path(tempfile.gettempdir())) / f"startup-{count}.pstats"
        for label in ("first start", "restart"):
            profiled = stats_path if profile and label == "restart" else None
            figures = await measure_start(hass, label, limit_s, profiled)
            problems = figures.pop("problems")
            print(json.dumps({"charge_points": count, **figures}), flush=True)
            for line in problems:
                print("  ", line[:400])
            if profiled is not None:
                print_profile(profiled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=1000)
    parser.add_argument("--limit-s", type=float, default=600, help="give up after this")
    parser.add_argument("--keep", type=Path, help="config dir to use and keep (empty)")
    parser.add_argument("--profile", action="store_true", help="cProfile the restart")
    args = parser.parse_args()
    asyncio.run(run(args.charge_points, args.limit_s, args.keep, profile=args.profile))


if __name__ == "__main__":
    main()
