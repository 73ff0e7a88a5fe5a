"""Saved state reaches the disk within a bound, however busy the chargers are.

A status, a setting or a session's end is on disk within SAVE_DELAY; what a
charger sends over and over (readings, heartbeats) waits for the next snapshot,
so a site metering every few seconds does not rewrite its files every few
seconds (an SD card's life), and busy chargers cannot postpone either save.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import cycle
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from ocpp.v16.enums import ChargePointStatus
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.delayed_save import (
    READINGS_SAVE_DELAY,
    SAVE_DELAY,
    SESSION_READINGS_SAVE_DELAY,
)
from custom_components.levity_ocpp.store import ChargePointStore

from .conftest import Connect
from .test_journal import journal_files
from .test_sessions import meter, sample, start

STEP = 3  # seconds between two messages of a busy charger


async def settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let a save that is due run, so that the next change opens a window."""
    freezer.tick(SAVE_DELAY + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def restart_reads(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, ChargePoint]:
    """The charge points a restart would read now: the snapshot and the journal."""
    return {cp.id: cp for cp in await ChargePointStore(hass, entry.entry_id).async_load()}


async def seconds_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    saved: Callable[[], Awaitable[bool]],
    change: Callable[[int], Awaitable[None]],
    *,
    within: float,
    step: int = STEP,
) -> int:
    """Make a change every `step` seconds until `saved()`; return when it was."""
    await change(0)
    for elapsed in range(step, int(2 * within), step):
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        if await saved():
            return elapsed
        await change(elapsed)
        await hass.async_block_till_done()
    raise AssertionError("not saved")


async def test_charge_points_are_saved_while_statuses_keep_coming(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = setup_integration
    statuses = cycle([ChargePointStatus.charging, ChargePointStatus.suspended_ev])
    sent: list[str] = []
    async with connect("/CP1") as cp:
        await cp.boot()
        await settle(hass, freezer)

        async def change(elapsed: int) -> None:
            # Each status tells when it was sent: a save of an older one is told apart.
            sent.append(f"{next(statuses)} at {elapsed + len(sent) * 1000}")
            status, _ = sent[-1].split(" at ")
            await cp.status(1, ChargePointStatus(status), info=sent[-1])

        async def saved() -> bool:
            known = await restart_reads(hass, entry)
            connector = known["CP1"].connectors.get(1) if "CP1" in known else None
            return connector is not None and connector.info == sent[-1]

        # The first change opens a window; later ones do not push the save back.
        first = await seconds_until(hass, freezer, saved, change, within=SAVE_DELAY)
        assert SAVE_DELAY <= first < SAVE_DELAY + STEP
        # After the save, the next change opens the next window.
        second = await seconds_until(hass, freezer, saved, change, within=SAVE_DELAY)
        assert SAVE_DELAY <= second < SAVE_DELAY + STEP
        # Each window journaled the one charger that changed, not a snapshot of all.
        assert journal_files(hass, entry, "charge_points_journal")


async def test_readings_alone_wait_for_the_snapshot(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Meter values every minute write nothing for minutes, then one snapshot."""
    entry = setup_integration
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    sent: list[float] = []
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        # A first reading of each series is kept soon (its sensors exist from then on).
        await meter(cp, tx, sample(0, 1_000_000))
        await settle(hass, freezer)
        journal = journal_files(hass, entry, "charge_points_journal")
        hass_storage.pop(key, None)

        async def change(elapsed: int) -> None:
            sent.append(1_000_001 + elapsed)
            await meter(cp, tx, sample(elapsed / 60, sent[-1]))

        async def saved() -> bool:
            if key not in hass_storage:
                # Neither a snapshot nor a journal line for readings alone.
                assert journal_files(hass, entry, "charge_points_journal") == journal
                return False
            return (await restart_reads(hass, entry))["CP1"].connectors[1].energy_register_kwh == (
                sent[-1] / 1000
            )

        elapsed = await seconds_until(
            hass, freezer, saved, change, within=READINGS_SAVE_DELAY, step=60
        )
        assert READINGS_SAVE_DELAY <= elapsed < READINGS_SAVE_DELAY + 60
        # The snapshot has what the journal had: the journal is gone.
        assert journal_files(hass, entry, "charge_points_journal") == {}


async def test_open_session_readings_are_saved_while_meter_values_keep_coming(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    key = f"{DOMAIN}.{setup_integration.entry_id}.transactions"
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        hass_storage.pop(key, None)
        sent: list[float] = []

        async def change(elapsed: int) -> None:
            sent.append(1_000_000 + 30 * elapsed)
            await meter(cp, tx, sample(elapsed / 60, sent[-1]))

        async def saved() -> bool:
            return key in hass_storage

        elapsed = await seconds_until(
            hass, freezer, saved, change, within=SESSION_READINGS_SAVE_DELAY, step=30
        )
        assert SESSION_READINGS_SAVE_DELAY <= elapsed < SESSION_READINGS_SAVE_DELAY + 30
        (saved_session,) = hass_storage[key]["data"]["open"]
        assert saved_session["last_register_wh"] == sent[-1]


async def test_a_change_during_unload_is_saved_with_it(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
) -> None:
    """Unloading writes what waits for its delayed save, and no stale save follows."""
    entry = setup_integration
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.faulted)
    hass_storage.pop(key, None)
    assert await hass.config_entries.async_unload(entry.entry_id)
    (saved,) = hass_storage[key]["data"]["charge_points"]
    assert saved["connectors"][-1]["status"] == ChargePointStatus.faulted
    assert journal_files(hass, entry, "charge_points_journal") == {}
