"""Saved state reaches the disk within a bound, however busy the chargers are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import cycle
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from ocpp.v16.enums import ChargePointStatus
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.delayed_save import SAVE_DELAY

from .conftest import Connect
from .test_sessions import meter, sample, start

STEP = 3  # seconds between two messages of a busy charger


async def seconds_until_saved(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    key: str,
    change: Callable[[int], Awaitable[None]],
) -> int:
    """Make a change every STEP seconds until `key` is written; return when it was."""
    hass_storage.pop(key, None)
    await change(0)
    for elapsed in range(STEP, 4 * int(SAVE_DELAY), STEP):
        freezer.tick(STEP)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        if key in hass_storage:
            return elapsed
        await change(elapsed)
        await hass.async_block_till_done()
    raise AssertionError(f"{key} was not saved")


async def test_charge_points_are_saved_while_statuses_keep_coming(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    key = f"{DOMAIN}.{setup_integration.entry_id}.charge_points"
    statuses = cycle([ChargePointStatus.charging, ChargePointStatus.suspended_ev])
    sent: list[ChargePointStatus] = []
    async with connect("/CP1") as cp:
        await cp.boot()

        async def change(_elapsed: int) -> None:
            sent.append(next(statuses))
            await cp.status(1, sent[-1])

        # The first change opens a window; later ones do not push the save back.
        first = await seconds_until_saved(hass, freezer, hass_storage, key, change)
        assert SAVE_DELAY <= first < SAVE_DELAY + STEP
        (saved,) = hass_storage[key]["data"]["charge_points"]
        assert saved["connectors"][-1]["status"] == sent[-1]
        # After the save, the next change opens the next window.
        second = await seconds_until_saved(hass, freezer, hass_storage, key, change)
        assert SAVE_DELAY <= second < SAVE_DELAY + STEP


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
        sent: list[float] = []

        async def change(elapsed: int) -> None:
            sent.append(1_000_000 + 30 * elapsed)
            await meter(cp, tx, sample(elapsed / 60, sent[-1]))

        elapsed = await seconds_until_saved(hass, freezer, hass_storage, key, change)
        assert SAVE_DELAY <= elapsed < SAVE_DELAY + STEP
        (saved,) = hass_storage[key]["data"]["open"]
        assert saved["last_register_wh"] == sent[-1]


async def test_a_change_during_unload_is_saved_with_it(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
) -> None:
    """Unloading writes what waits for its delayed save, and no stale save follows."""
    key = f"{DOMAIN}.{setup_integration.entry_id}.charge_points"
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.faulted)
    hass_storage.pop(key, None)
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    (saved,) = hass_storage[key]["data"]["charge_points"]
    assert saved["connectors"][-1]["status"] == ChargePointStatus.faulted
