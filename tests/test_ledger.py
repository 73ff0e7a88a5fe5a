"""The session ledger on disk: one file per month, an index, migration, removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.delayed_save import SESSION_READINGS_SAVE_DELAY

from .conftest import Connect
from .test_sessions import get_sessions, meter, sample, start, stop


def record(transaction_id: int, started_at: str, energy_kwh: float = 1.0) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "charge_point_id": "CP1",
        "connector_id": 1,
        "id_tag": "RESIDENT-7",
        "started_at": started_at,
        "stopped_at": started_at,
        "meter_start_wh": 0.0,
        "meter_stop_wh": energy_kwh * 1000,
        "energy_kwh": energy_kwh,
        "anomalies": [],
    }


def saved(key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "key": key, "data": data}


async def checkpoint(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the delayed save of the book and the ledger months run."""
    freezer.tick(timedelta(seconds=SESSION_READINGS_SAVE_DELAY))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def ledger_keys(hass_storage: dict[str, Any], entry: MockConfigEntry) -> set[str]:
    prefix = f"{DOMAIN}.{entry.entry_id}.ledger"
    return {key for key in hass_storage if key.startswith(prefix)}


OCTOBER = [record(1, "2026-10-05T08:00:00+00:00"), record(2, "2026-10-31T23:30:00+00:00")]
# 00:30 in Berlin on 1 November is still October in UTC: months follow UTC.
NOVEMBER = [record(3, "2026-11-01T00:30:00+01:00"), record(4, "2026-11-20T12:00:00+00:00")]


@pytest.fixture
def legacy_ledger(config_entry: MockConfigEntry, hass_storage: dict[str, Any]) -> str:
    """A ledger saved as one file by an earlier version."""
    key = f"{DOMAIN}.{config_entry.entry_id}.ledger"
    undated = {**record(9, "x"), "started_at": "not a time"}
    sessions = [*OCTOBER, *NOVEMBER, undated]
    hass_storage[key] = saved(key, {"sessions": sessions})
    return key


async def test_single_file_ledger_is_split_into_months(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    legacy_ledger: str,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    prefix = legacy_ledger
    assert ledger_keys(hass_storage, setup_integration) == {
        f"{prefix}_index",
        f"{prefix}.2026-10",
        f"{prefix}.2026-11",
    }
    assert hass_storage[f"{prefix}_index"]["data"] == {"months": ["2026-10", "2026-11"]}
    october = hass_storage[f"{prefix}.2026-10"]["data"]["sessions"]
    assert [s["transaction_id"] for s in october] == [1, 2, 3]
    logged = [r.getMessage() for r in caplog.get_records("setup")]  # during the fixtures
    assert "Dropped 1 saved sessions without a readable start time" in logged
    assert [s["transaction_id"] for s in await get_sessions(hass)] == [1, 2, 3, 4]


async def test_a_query_reads_the_months_its_range_touches(
    hass: HomeAssistant, legacy_ledger: str, setup_integration: MockConfigEntry
) -> None:
    async def ids(**data: Any) -> list[int]:
        return [s["transaction_id"] for s in await get_sessions(hass, **data)]

    assert await ids(start=datetime(2026, 11, 1, tzinfo=UTC)) == [4]
    assert await ids(end=datetime(2026, 10, 31, tzinfo=UTC)) == [1]
    assert await ids(start=datetime(2026, 10, 31, tzinfo=UTC), end=datetime(2026, 11, 30)) == [
        2,
        3,
        4,
    ]
    assert await ids(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 2, 1)) == []


async def test_a_stop_writes_only_its_own_month(
    hass: HomeAssistant,
    legacy_ledger: str,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    prefix = legacy_ledger
    october_file = hass_storage[f"{prefix}.2026-10"]
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)  # 2026-11-01T10:15Z
        await stop(cp, tx, 1_002_000, 30)
    await checkpoint(hass, freezer)
    assert hass_storage[f"{prefix}.2026-10"] is october_file  # not rewritten
    november = hass_storage[f"{prefix}.2026-11"]["data"]["sessions"]
    assert [s["transaction_id"] for s in november] == [4, tx]


async def test_a_stop_in_a_new_month_adds_it_to_the_index(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    prefix = f"{DOMAIN}.{setup_integration.entry_id}.ledger"
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await stop(cp, tx, 1_002_000, 30)
    await checkpoint(hass, freezer)
    assert hass_storage[f"{prefix}_index"]["data"] == {"months": ["2026-11"]}
    (session,) = hass_storage[f"{prefix}.2026-11"]["data"]["sessions"]
    assert session["energy_kwh"] == pytest.approx(2.0)
    # A reload reads it back through the index.
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    assert [s["transaction_id"] for s in await get_sessions(hass)] == [tx]


async def test_an_amended_session_replaces_its_record_in_its_month(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Late readings on a session closed at a reboot: saved soon, in a bounded time."""
    key = f"{DOMAIN}.{setup_integration.entry_id}.ledger.2026-11"
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_000))
        await cp.boot()  # closed by the central system at 1 kWh
        await checkpoint(hass, freezer)
        assert [s["energy_kwh"] for s in hass_storage[key]["data"]["sessions"]] == [1.0]
        for minutes in range(20, 120, 10):  # its queued readings, every 3 s
            await meter(cp, tx, sample(minutes, 1_000_000 + 100 * minutes))
            freezer.tick(3)
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
        await checkpoint(hass, freezer)
    (session,) = hass_storage[key]["data"]["sessions"]
    assert session["transaction_id"] == tx
    assert session["energy_kwh"] == pytest.approx(11.0)


async def test_removing_the_entry_removes_every_month(
    hass: HomeAssistant,
    legacy_ledger: str,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    assert ledger_keys(hass_storage, setup_integration)
    await hass.config_entries.async_remove(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert ledger_keys(hass_storage, setup_integration) == set()
    assert f"{DOMAIN}.{setup_integration.entry_id}.transactions" not in hass_storage


async def test_damaged_month_files_are_read_as_far_as_they_go(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    socket_enabled: None,
    hass_storage: dict[str, Any],
) -> None:
    prefix = f"{DOMAIN}.{config_entry.entry_id}.ledger"
    hass_storage[f"{prefix}_index"] = saved(
        f"{prefix}_index", {"months": ["2026-10", "2026-11", "2026-12", 7, "garbage!"]}
    )
    hass_storage[f"{prefix}.2026-10"] = saved(f"{prefix}.2026-10", {"sessions": "oops"})
    hass_storage[f"{prefix}.2026-11"] = saved(
        f"{prefix}.2026-11", {"sessions": [NOVEMBER[1], "not a record"]}
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # 2026-12 is listed but was never written: no sessions, no error.
    assert [s["transaction_id"] for s in await get_sessions(hass)] == [4]
