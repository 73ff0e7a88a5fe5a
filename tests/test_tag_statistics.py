"""Energy statistics per id tag: one per central system and card, no raw tag in sight."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
import re

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import list_statistic_ids
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    statistics_during_period,
)

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
)
from custom_components.levity_ocpp.migration import MINOR_VERSION
from custom_components.levity_ocpp.tag_statistics import (
    energy_statistic_id,
    energy_statistic_name,
)

from .client import connect_charge_point
from .conftest import listening_port
from .test_sessions import T0, stamp, start, stop


async def charge(port: int, sessions: list[tuple[str, int]]) -> None:
    """One charger runs sessions one after the other: (id tag, Wh) each."""
    async with connect_charge_point(port, "/CP1") as cp:
        await cp.boot()
        register, minutes = 1_000_000, 0
        for id_tag, energy_wh in sessions:
            tx = await start(cp, register, id_tag=id_tag, timestamp=stamp(minutes))
            register += energy_wh
            await stop(cp, tx, register, minutes + 5)
            minutes += 6


async def sums(hass: HomeAssistant, statistic_ids: set[str]) -> dict[str, float]:
    """The last hourly sum of each statistic."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, T0 - timedelta(hours=1), None, statistic_ids
    )
    return {statistic_id: rows[-1]["sum"] for statistic_id, rows in stats.items()}


async def test_two_central_systems_keep_their_own_sums(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    other = MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system on port 9001",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, CONF_ADMISSION_POLICY: "accept"},
        minor_version=MINOR_VERSION,
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()

    first = [("AB:12", 2000), ("ab-12", 3000), ("ab12", 1000), ("AB12", 4000)]
    await charge(listening_port(setup_integration), first)
    await charge(listening_port(other), [("AB12", 7000)])

    def ids(entry: MockConfigEntry, *tags: str) -> list[str]:
        return [energy_statistic_id(entry.entry_id, tag) for tag in tags]

    colon, dash, card = ids(setup_integration, "AB:12", "ab-12", "ab12")
    (card_elsewhere,) = ids(other, "AB12")
    assert len({colon, dash, card, card_elsewhere}) == 4
    assert await sums(hass, {colon, dash, card, card_elsewhere}) == pytest.approx(
        {colon: 2.0, dash: 3.0, card: 5.0, card_elsewhere: 7.0}  # ab12 and AB12: one card
    )

    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    names = {item["statistic_id"]: item["name"] for item in listed if item["source"] == DOMAIN}
    assert names[card] == "EV charging, card …12 (OCPP central system)"
    assert names[card_elsewhere] == "EV charging, card …12 (OCPP central system on port 9001)"
    assert set(names) == {colon, dash, card, card_elsewhere}
    for statistic_id, name in names.items():
        assert re.fullmatch(rf"{DOMAIN}:energy_[0-9a-f]{{8}}_[0-9a-f]{{16}}", statistic_id)
        assert "AB" not in name and "ab" not in name


@pytest.mark.parametrize(
    ("id_tag", "shown"),
    [
        ("RESIDENT-7", "…NT-7"),
        ("04a1b2c3d4e5f6", "…E5F6"),
        ("abc", "…C"),
        ("x", "…"),
    ],
)
def test_the_name_shows_only_the_end_of_the_tag(id_tag: str, shown: str) -> None:
    assert energy_statistic_name(id_tag, "Site") == f"EV charging, card {shown} (Site)"


async def test_stops_at_the_same_moment_add_up_per_tag(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A burst of stops, several per tag in one hour and one in the next: no kWh lost."""
    port = listening_port(setup_integration)
    tags = ["FLAT-1", "FLAT-2"]
    async with contextlib.AsyncExitStack() as stack:
        cps = [
            await stack.enter_async_context(connect_charge_point(port, f"/CP{n}")) for n in range(7)
        ]
        for cp in cps:
            await cp.boot()
        ids = [
            await start(cp, 1_000_000, id_tag=tags[n % 2], timestamp=stamp(0))
            for n, cp in enumerate(cps)
        ]
        # 1, 2, ... 6 kWh by 10:45; the last session (FLAT-1, 7 kWh) ends at 11:30.
        await asyncio.gather(
            *(
                stop(cp, tx, 1_000_000 + 1000 * (n + 1), 30 if n < 6 else 75)
                for n, (cp, tx) in enumerate(zip(cps, ids, strict=True))
            )
        )
    flat1, flat2 = (energy_statistic_id(setup_integration.entry_id, tag) for tag in tags)
    assert await sums(hass, {flat1, flat2}) == pytest.approx({flat1: 16.0, flat2: 12.0})
