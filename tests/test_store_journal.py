"""The charge point store's snapshot and journal: what a restart reads back.

Each store is made the way the integration makes it; "a restart" is a new
store on the same `.storage`, reading the snapshot (HA's store, held in
`hass_storage`) and the journal files.
"""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import storage
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.csms.model import Change, ChargePoint
from custom_components.levity_ocpp.delayed_save import READINGS_SAVE_DELAY, SAVE_DELAY
from custom_components.levity_ocpp.store import ChargePointStore

ENTRY = "E1"
SNAPSHOT = f"{DOMAIN}.{ENTRY}.charge_points"


def journal_paths(hass: HomeAssistant) -> list[Path]:
    directory = Path(hass.config.path(storage.STORAGE_DIR))
    return sorted(directory.glob(f"{DOMAIN}.{ENTRY}.charge_points_journal.*"))


def journal_lines(hass: HomeAssistant) -> list[dict[str, Any]]:
    return [json.loads(line) for path in journal_paths(hass) for line in path.read_text().split()]


def write_journal(hass: HomeAssistant, generation: int, lines: list[dict[str, Any]]) -> None:
    directory = Path(hass.config.path(storage.STORAGE_DIR))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{DOMAIN}.{ENTRY}.charge_points_journal.{generation}"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


async def wait(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def started(hass: HomeAssistant, live: list[ChargePoint]) -> ChargePointStore:
    """A store that loaded what is on disk into `live` and saves from it."""
    store = ChargePointStore(hass, ENTRY)
    live[:] = await store.async_load()
    store.bind(lambda: live)
    for charge_point in live:
        charge_point.save_listener = store.changed
    return store


async def restart(hass: HomeAssistant) -> dict[str, ChargePoint]:
    return {cp.id: cp for cp in await ChargePointStore(hass, ENTRY).async_load()}


def known(store: ChargePointStore, live: list[ChargePoint], charge_point_id: str) -> ChargePoint:
    charge_point = ChargePoint(charge_point_id)
    charge_point.save_listener = store.changed
    live.append(charge_point)
    store.changed(charge_point)
    return charge_point


async def test_a_status_is_journaled_alone_and_read_back_after_a_crash(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    cp1, cp2 = known(store, live, "CP1"), known(store, live, "CP2")
    await wait(hass, freezer, SAVE_DELAY)
    cp2.connector(1).status = "Faulted"
    cp2.notify(1)
    await wait(hass, freezer, SAVE_DELAY)
    # The second line holds the one charger that changed, not the fleet.
    first, second = journal_lines(hass)
    assert [cp["id"] for cp in first["charge_points"]] == ["CP1", "CP2"]
    assert [cp["id"] for cp in second["charge_points"]] == ["CP2"]
    assert SNAPSHOT not in hass_storage
    restored = await restart(hass)
    assert list(restored) == ["CP1", "CP2"]
    assert restored["CP2"].connectors[1].status == "Faulted"
    assert cp1.connectors == {}
    await store.async_save_now()


async def test_readings_wait_for_the_snapshot_which_folds_the_journal(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    cp = known(store, live, "CP1")
    await wait(hass, freezer, SAVE_DELAY)
    lines = journal_lines(hass)
    cp.connector(1).energy_register_kwh = 12.5
    cp.notify(1, Change.READINGS)
    cp.notify(1, Change.TIME)
    await wait(hass, freezer, SAVE_DELAY)
    assert journal_lines(hass) == lines
    assert (await restart(hass))["CP1"].connectors == {}
    await wait(hass, freezer, READINGS_SAVE_DELAY)
    assert journal_paths(hass) == []
    assert hass_storage[SNAPSHOT]["data"]["charge_points"][0]["id"] == "CP1"
    assert (await restart(hass))["CP1"].connectors[1].energy_register_kwh == 12.5


async def test_time_alone_writes_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    cp = known(store, live, "CP1")
    await store.async_save_now()
    saved = hass_storage[SNAPSHOT]
    cp.notify(1, Change.TIME)
    await wait(hass, freezer, READINGS_SAVE_DELAY)
    assert hass_storage[SNAPSHOT] is saved
    assert journal_paths(hass) == []


async def test_a_removed_charge_point_stays_removed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    cp1, cp2 = known(store, live, "CP1"), known(store, live, "CP2")
    await store.async_save_now()
    live.remove(cp1)
    store.removed(cp1)
    cp1.notify()  # a late change of the removed one does not bring it back
    await wait(hass, freezer, SAVE_DELAY)
    assert journal_lines(hass) == [{"charge_points": [], "removed": ["CP1"]}]
    assert list(await restart(hass)) == ["CP2"]
    # Added again with the same id before the next save: it is kept, not removed.
    store.removed(cp2)
    again = known(store, live, "CP2")
    again.vendor = "Alfen"
    again.notify()
    await wait(hass, freezer, SAVE_DELAY)
    assert (await restart(hass))["CP2"].vendor == "Alfen"
    await store.async_save_now()


async def test_unreadable_records_and_lines_are_skipped_and_logged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[SNAPSHOT] = {
        "version": 1,
        "key": SNAPSHOT,
        "data": {"charge_points": [{"id": "CP1"}, "junk", {"id": 7}], "journal": 3},
    }
    lines = [
        {"charge_points": [{"id": "OLD"}]},  # generation 2: the snapshot has it
        {"charge_points": [{"id": "CP2", "vendor": "ABB"}]},
        {"charge_points": [{"vendor": "no id"}]},
        {"charge_points": "CP3"},
        {"removed": [1]},
    ]
    write_journal(hass, 2, lines[:1])
    write_journal(hass, 3, lines[1:])
    with caplog.at_level(logging.ERROR):
        live: list[ChargePoint] = []
        await started(hass, live)
    assert [cp.id for cp in live] == ["CP1", "CP2"]
    assert live[1].vendor == "ABB"
    assert caplog.text.count("Skipped a saved charge point without an id") == 2
    assert caplog.text.count("Skipped a journaled change of charge points") == 3
    # The journal it replayed is folded into the next snapshot.
    await wait(hass, freezer, READINGS_SAVE_DELAY)
    assert journal_paths(hass) == []
    assert [cp["id"] for cp in hass_storage[SNAPSHOT]["data"]["charge_points"]] == ["CP1", "CP2"]


async def test_a_damaged_record_is_skipped_and_the_others_load(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    hass_storage[SNAPSHOT] = {
        "version": 1,
        "key": SNAPSHOT,
        "data": {"charge_points": [{"id": "CP1", "connectors": [{}]}, {"id": "CP2"}]},
    }
    assert list(await restart(hass)) == ["CP2"]
    assert "Skipped a saved charge point that could not be read" in caplog.text


async def test_a_failing_snapshot_keeps_the_journal_and_warns_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    cp = known(store, live, "CP1")
    await wait(hass, freezer, SAVE_DELAY)
    with patch.object(
        storage.Store, "_async_write_data", side_effect=storage.WriteError("disk full")
    ):
        # A change not journaled yet when the snapshot fails is journaled after all.
        cp.model = "Go"
        cp.notify()
        await store.async_checkpoint()
        await wait(hass, freezer, SAVE_DELAY)
        assert (await restart(hass))["CP1"].model == "Go"
        cp.vendor = "Zaptec"
        cp.notify()
        await wait(hass, freezer, READINGS_SAVE_DELAY)  # tried again, failed again
    assert caplog.text.count("Could not write the charge points' file") == 1
    assert journal_paths(hass)
    assert (await restart(hass))["CP1"].vendor == "Zaptec"
    # Once the disk takes it, the snapshot has all and the journal goes.
    await store.async_checkpoint()
    assert journal_paths(hass) == []
    assert (await restart(hass))["CP1"].vendor == "Zaptec"


async def test_a_save_while_ha_stops_waits_for_the_final_write(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    known(store, live, "CP1")
    hass.set_state(CoreState.stopping)
    await store.async_save_now()
    assert SNAPSHOT not in hass_storage
    hass.set_state(CoreState.final_write)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage[SNAPSHOT]["data"]["charge_points"][0]["id"] == "CP1"
    hass.set_state(CoreState.running)


async def test_removing_deletes_the_snapshot_and_the_journal(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, hass_storage: dict[str, Any]
) -> None:
    live: list[ChargePoint] = []
    store = await started(hass, live)
    known(store, live, "CP1")
    await store.async_save_now()
    known(store, live, "CP2")
    await wait(hass, freezer, SAVE_DELAY)
    assert journal_paths(hass)
    await store.async_remove()
    assert SNAPSHOT not in hass_storage
    assert journal_paths(hass) == []
