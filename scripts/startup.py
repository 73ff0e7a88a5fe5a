"""Start-up of a central system with N known chargers, in a real Home Assistant.

`.venv/bin/python -m scripts.startup [--charge-points 1000]` writes a temp config
(scripts/bench/hass.py: recorder, the probe, one levity_ocpp config entry) with N
approved charge points (subentries) and their saved state (a 1.6 Grizzl-E with one
connector, an energy register and the usual feature profiles), then starts hass twice:

- first start: every entity is new (registered now);
- restart: every entity is restored from the registry, as after an HA update.

For each start it prints the seconds HA spent setting up levity_ocpp (store, devices
and every entity added: HA's own setup timing), the seconds from process start until
every enabled entity had a state, the entity counts and every WARNING/ERROR HA logged.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
from pathlib import Path
import tempfile
import time
from typing import Any

from scripts.bench.hass import ENTRY_ID, Hass

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
    """Add N approved charge points to the entry hass.py wrote, and their saved state."""
    from custom_components.levity_ocpp.charge_point_settings import (  # noqa: PLC0415
        DEFAULTS,
        data_from_settings,
    )
    from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT  # noqa: PLC0415
    from custom_components.levity_ocpp.store import STORAGE_VERSION  # noqa: PLC0415

    ids = [f"CP{number:04d}" for number in range(count)]
    storage = hass.config_dir / ".storage"
    entries_path = storage / "core.config_entries"
    entries = json.loads(entries_path.read_text())
    entries["data"]["entries"][0]["subentries"] = [
        {
            "data": data_from_settings(cp_id, DEFAULTS),
            "subentry_id": f"01SUBENTRY{number:016d}",
            "subentry_type": SUBENTRY_CHARGE_POINT,
            "title": cp_id,
            "unique_id": cp_id,
        }
        for number, cp_id in enumerate(ids)
    ]
    entries_path.write_text(json.dumps(entries))
    (storage / f"{DOMAIN}.{ENTRY_ID}.charge_points").write_text(
        json.dumps(
            {
                "version": STORAGE_VERSION,
                "minor_version": 1,
                "key": f"{DOMAIN}.{ENTRY_ID}.charge_points",
                "data": {"charge_points": [known_charge_point(cp_id) for cp_id in ids]},
            }
        )
    )


async def measure_start(hass: Hass, label: str, limit_s: float) -> dict[str, Any]:
    """Start hass, wait until every enabled entity has a state, stop it; the figures."""
    offset = hass.log_path.stat().st_size if hass.log_path.exists() else 0
    started = hass.start()
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
    finally:
        hass.stop()
    problems = hass.log_problems(offset)
    return {
        "start": label,
        "setup_s": timing["seconds"],
        "all_present_after_process_start_s": round(all_present_s, 1),
        **restored,
        "warnings": len(problems),
        "problems": problems,
    }


async def run(count: int, limit_s: float, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="levity-startup-") as tmp:
        hass = Hass(keep or Path(tmp) / "config")
        hass.write_config()
        write_site(hass, count)
        for label in ("first start", "restart"):
            figures = await measure_start(hass, label, limit_s)
            problems = figures.pop("problems")
            print(json.dumps({"charge_points": count, **figures}))
            for line in problems:
                print("  ", line[:400])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=1000)
    parser.add_argument("--limit-s", type=float, default=600, help="give up after this")
    parser.add_argument("--keep", type=Path, help="config dir to use and keep (empty)")
    args = parser.parse_args()
    asyncio.run(run(args.charge_points, args.limit_s, args.keep))


if __name__ == "__main__":
    main()
