"""A crash (kill -9) at any moment loses no transaction id and no finished session.

Replies wait for one journal line each, not for the book or a ledger month to be
rewritten; those are written by the checkpoint after SESSION_READINGS_SAVE_DELAY.
A crash is simulated by taking what is on disk at a moment (HA's stores, the
journal files), stopping HA, putting that back and starting a new instance on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from dataclasses import dataclass
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage
from homeassistant.helpers.json import json_bytes
from ocpp.exceptions import InternalError
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.delayed_save import SESSION_READINGS_SAVE_DELAY

from .client import TestChargePoint, connect_charge_point
from .conftest import Connect
from .restart_helpers import restarted
from .test_ledger import record
from .test_sessions import get_sessions, meter, sample, stamp, start, stop


@dataclass
class Disk:
    """What a restart reads: HA's stores (held in `hass_storage`) and the journal."""

    stores: dict[str, Any]
    journal: dict[str, bytes]


def journal_dir(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(storage.STORAGE_DIR))


def journal_files(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str = "*journal"
) -> dict[str, bytes]:
    """The journal files on disk: the sessions' and the charge points', or one `kind`."""
    found = journal_dir(hass).glob(f"{DOMAIN}.{entry.entry_id}.{kind}.*")
    return {path.name: path.read_bytes() for path in sorted(found)}


def sessions_journal(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, bytes]:
    return journal_files(hass, entry, "journal")


def disk_now(hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any]) -> Disk:
    return Disk(copy.deepcopy(hass_storage), journal_files(hass, entry))


async def crash(
    hass: HomeAssistant, entry: MockConfigEntry, hass_storage: dict[str, Any], disk: Disk
) -> None:
    """HA dies with `disk` on disk: whatever its stop writes is undone."""
    await hass.async_stop(force=True)
    hass_storage.clear()
    hass_storage.update(disk.stores)
    for name in journal_files(hass, entry):
        (journal_dir(hass) / name).unlink()
    for name, data in disk.journal.items():
        (journal_dir(hass) / name).write_bytes(data)


async def checkpoint(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(seconds=SESSION_READINGS_SAVE_DELAY))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def keys(entry: MockConfigEntry) -> tuple[str, str]:
    prefix = f"{DOMAIN}.{entry.entry_id}"
    return f"{prefix}.transactions", f"{prefix}.ledger.2026-11"


async def test_a_crash_right_after_the_replies_loses_nothing(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    entry = setup_integration
    book_key, month_key = keys(entry)
    async with connect("/CP1") as cp1, connect("/CP2") as cp2:
        await cp1.boot()
        await cp2.boot()
        await cp2.status(1, ChargePointStatus.charging)
        finished = await start(cp1)
        going = await start(cp2, 2_000_000)
        await meter(cp2, going, sample(10, 2_001_500))
        await stop(cp1, finished, 1_002_345, 30)
        # The replies waited for the journal, not for the whole book or month.
        assert book_key not in hass_storage
        assert month_key not in hass_storage
        assert sessions_journal(hass, entry)
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, port):
        (session,) = await get_sessions(hass2)
        assert session["transaction_id"] == finished
        assert session["energy_kwh"] == 2.345
        async with connect_charge_point(port, "/CP2") as cp:
            await cp.status(1, ChargePointStatus.charging)
            await hass2.async_block_till_done()
            # Its open session is there.
            assert hass2.states.get("sensor.cp2_session_id_tag").state == "RESIDENT-7"
            await stop(cp, going, 2_004_000, 40)
        async with connect_charge_point(port, "/CP1") as cp:
            # No id is given out twice, whatever was on disk.
            assert await start(cp, 1_002_345, timestamp=stamp(50)) == going + 1
        sessions = {s["transaction_id"]: s["energy_kwh"] for s in await get_sessions(hass2)}
        assert sessions == {finished: 2.345, going: 4.0}
        # The restart made the files whole again and emptied the journal.
        assert [s["transaction_id"] for s in hass_storage[month_key]["data"]["sessions"]] == [
            finished
        ]
        assert hass_storage[book_key]["data"]["open"][0]["transaction_id"] == going


async def test_stops_at_the_same_moment_all_reach_the_ledger(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    entry = setup_integration
    chargers = 12
    async with contextlib.AsyncExitStack() as stack:
        cps: list[TestChargePoint] = [
            await stack.enter_async_context(connect(f"/CP{n}")) for n in range(chargers)
        ]
        for cp in cps:
            await cp.boot()
        ids = [await start(cp, 1_000_000) for cp in cps]
        await asyncio.gather(
            *(
                stop(cp, tx, 1_000_000 + 100 * (n + 1), 30)
                for n, (cp, tx) in enumerate(zip(cps, ids, strict=True))
            )
        )
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, _):
        sessions = {s["transaction_id"]: s["energy_kwh"] for s in await get_sessions(hass2)}
    assert sessions == {tx: round(0.1 * (n + 1), 6) for n, tx in enumerate(ids)}


async def test_a_checkpoint_writes_the_files_and_empties_the_journal(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = setup_integration
    book_key, month_key = keys(entry)
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        finished = await start(cp)
        await stop(cp, finished, 1_001_000, 20)
        going = await start(cp, 1_001_000, timestamp=stamp(25))
        await meter(cp, going, sample(30, 1_001_840))
        await checkpoint(hass, freezer)
        assert sessions_journal(hass, entry) == {}
        (session,) = hass_storage[month_key]["data"]["sessions"]
        assert session["energy_kwh"] == 1.0
        assert hass_storage[book_key]["data"]["open"][0]["last_register_wh"] == 1_001_840
        # The book as the checkpoint wrote it is not written again by a start.
        book = hass_storage[book_key]
        await stop(cp, going, 1_002_000, 40)
        later = await start(cp, 1_002_000, timestamp=stamp(45))
        assert hass_storage[book_key] is book
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, port):
        assert hass2.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
        async with connect_charge_point(port, "/CP1") as cp:
            await stop(cp, later, 1_002_500, 50)
        sessions = {s["transaction_id"]: s["energy_kwh"] for s in await get_sessions(hass2)}
        assert sessions == {finished: 1.0, going: 1.0, later: 0.5}


async def test_a_journal_its_checkpoint_already_has_changes_nothing(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A crash after the checkpoint's files, before its journal was deleted."""
    entry = setup_integration
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        finished = await start(cp)
        await stop(cp, finished, 1_001_000, 20)
        going = await start(cp, 1_001_000, timestamp=stamp(25))
        await meter(cp, going, sample(30, 1_001_840))
        journal = journal_files(hass, entry)
        await checkpoint(hass, freezer)
        disk = Disk(copy.deepcopy(hass_storage), journal)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, _):
        # The journal's older start does not take back the readings saved since.
        assert hass2.states.get("sensor.cp1_session_energy").state == "0.84"
        (session,) = await get_sessions(hass2)
        assert session["transaction_id"] == finished


async def test_a_torn_last_line_is_ignored_and_logged_once(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = setup_integration
    async with connect("/CP1") as cp:
        await cp.boot()
        finished = await start(cp)
        await stop(cp, finished, 1_003_000, 30)
        disk = disk_now(hass, entry, hass_storage)
    # HA died while it wrote the next line (no reply went out for it).
    name = sorted(disk.journal)[-1]
    disk.journal[name] += b'{"session": {"transaction_id": 2, "char'
    await crash(hass, entry, hass_storage, disk)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        async with restarted(hass, entry, async_test_recorder) as (hass2, _):
            (session,) = await get_sessions(hass2)
            assert session["energy_kwh"] == 3.0
    torn = [r for r in caplog.records if "unfinished last line" in r.getMessage()]
    assert len(torn) == 1
    assert name in torn[0].getMessage()


async def test_unreadable_journal_lines_cost_only_themselves(
    hass: HomeAssistant,
    socket_enabled: None,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"{DOMAIN}.{config_entry.entry_id}.journal.3"
    lines = [
        b'{"session": ' + json_bytes(record(1, "2026-11-02T08:00:00+00:00", 7.5)) + b"}",
        b"not json at all",
        b"[1, 2]",
        b'{"transaction": {"transaction_id": 5}}',  # no counter, no fields
        b'{"session": {"started_at": "yesterday"}}',
        b'{"something": "else"}',
        b'{"session": ' + json_bytes(record(2, "2026-11-03T08:00:00+00:00", 2.5)) + b"}",
    ]
    journal_dir(hass).mkdir(parents=True, exist_ok=True)
    (journal_dir(hass) / name).write_bytes(b"\n".join(lines) + b"\n")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert {s["transaction_id"]: s["energy_kwh"] for s in await get_sessions(hass)} == {
        1: 7.5,
        2: 2.5,
    }
    assert f"Skipped 2 unreadable lines of {name}" in caplog.text
    assert "Skipped 3 journaled changes that could not be read" in caplog.text
    assert sessions_journal(hass, config_entry) == {}  # made whole, checkpointed


async def test_a_failing_checkpoint_keeps_the_journal(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = setup_integration
    _, month_key = keys(entry)
    async with connect("/CP1") as cp:
        await cp.boot()
        with patch.object(
            storage.Store, "_async_write_data", side_effect=storage.WriteError("disk full")
        ):
            first = await start(cp)
            await stop(cp, first, 1_001_000, 20)
            await checkpoint(hass, freezer)
            second = await start(cp, 1_001_000, timestamp=stamp(25))
            await stop(cp, second, 1_002_000, 30)
            await checkpoint(hass, freezer)
        assert caplog.text.count("Could not write the sessions' files") == 1
        assert month_key not in hass_storage
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, _):
        sessions = {s["transaction_id"]: s["energy_kwh"] for s in await get_sessions(hass2)}
    assert sessions == {first: 1.0, second: 1.0}


async def test_a_start_that_could_not_be_saved_is_not_answered(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    entry = setup_integration
    async with connect("/CP1") as cp:
        await cp.boot()
        with (
            patch(
                "custom_components.levity_ocpp.journal._append",
                side_effect=OSError(28, "No space left on device"),
            ),
            pytest.raises(InternalError),
        ):
            await start(cp)
        # The charger tries again: a session it has an id for, on disk.
        tx = await start(cp)
        assert hass.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, port):
        async with connect_charge_point(port, "/CP1") as cp:
            await stop(cp, tx, 1_001_000, 30)
        (session,) = await get_sessions(hass2)
        assert session["transaction_id"] == tx


async def test_removing_the_entry_removes_the_journal(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await start(cp)
    assert sessions_journal(hass, setup_integration)
    await hass.config_entries.async_remove(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert sessions_journal(hass, setup_integration) == {}


async def test_removing_an_entry_not_loaded_removes_its_journal(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Say HA crashed, and the entry is removed before it is loaded again."""
    journal_dir(hass).mkdir(parents=True, exist_ok=True)
    for generation in (7, 8):
        name = f"{DOMAIN}.{config_entry.entry_id}.journal.{generation}"
        (journal_dir(hass) / name).write_bytes(b'{"something": "else"}\n')
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert sessions_journal(hass, config_entry) == {}


async def test_an_orphan_completed_after_a_crash_is_corrected(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    """A session closed at a reboot, and its charger's late stop after HA's crash."""
    entry = setup_integration
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_000))
        await cp.boot()  # closed by the central system at 1 kWh
        await hass.async_block_till_done()
        disk = disk_now(hass, entry, hass_storage)
    await crash(hass, entry, hass_storage, disk)

    async with restarted(hass, entry, async_test_recorder) as (hass2, port):
        (session,) = await get_sessions(hass2)
        assert session["energy_kwh"] == 1.0
        async with connect_charge_point(port, "/CP1") as cp:
            await stop(cp, tx, 1_004_000, 40)
        await hass2.async_block_till_done()
        (session,) = await get_sessions(hass2)
        assert session["energy_kwh"] == 4.0
        assert session["closed_by"] == "charger"


# What the journal holds at a crash during a stop's write, or after one the previous
# version made as two lines: (name, is the session in the ledger after the restart,
# is it open in the book). Only the earlier version's crash between its lines left
# them apart (the charger's resent stop mended it); one line never does.
STOP_WRITES = [
    ("not begun", False, True),
    ("torn", False, True),
    ("whole", True, False),
    ("earlier version, crash between its two lines", True, True),
    ("earlier version, both lines", True, False),
]


@pytest.mark.parametrize(
    ("written", "recorded", "still_open"), STOP_WRITES, ids=[w for w, _, _ in STOP_WRITES]
)
async def test_a_stop_is_recorded_whole_or_not_at_all(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    written: str,
    recorded: bool,
    still_open: bool,
) -> None:
    """The ledger has the session exactly when the book has it closed; resent, it counts once."""
    entry = setup_integration
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        before = disk_now(hass, entry, hass_storage)
        await stop(cp, tx, 1_002_000, 30)
        after = disk_now(hass, entry, hass_storage)
    (name,) = after.journal  # no checkpoint came between: one file, appended to
    added = after.journal[name][len(before.journal.get(name, b"")) :]
    # One stop, one line: both the ledger's record and the book's change.
    assert added.count(b"\n") == 1
    line = json.loads(added)
    old_lines = [
        json_bytes({"session": line["session"]}) + b"\n",
        json_bytes({"transaction": line["transaction"], "next_id": line["next_id"]}) + b"\n",
    ]
    tail = {
        "not begun": b"",
        "torn": added[: len(added) // 2],
        "whole": added,
        "earlier version, crash between its two lines": old_lines[0],
        "earlier version, both lines": b"".join(old_lines),
    }[written]
    disk = Disk(after.stores, {name: before.journal.get(name, b"") + tail})
    await crash(hass, entry, hass_storage, disk)

    book_key, _ = keys(entry)
    async with restarted(hass, entry, async_test_recorder) as (hass2, port):
        sessions = await get_sessions(hass2)
        assert [s["energy_kwh"] for s in sessions] == ([2.0] if recorded else [])
        # What the book has (the restart wrote it).
        book = hass_storage[book_key]["data"]
        assert [t["transaction_id"] for t in book["open"]] == ([tx] if still_open else [])
        async with connect_charge_point(port, "/CP1") as cp:
            # Its reply was lost (or never sent): the charger sends the stop again.
            await stop(cp, tx, 1_002_000, 30)
            (session,) = await get_sessions(hass2)
            assert session["transaction_id"] == tx
            assert session["energy_kwh"] == 2.0
            assert session["stop_reason"] == "EVDisconnected"
            # No id is given out twice.
            assert await start(cp, 1_002_000, timestamp=stamp(40)) == tx + 1


async def test_a_clean_stop_leaves_nothing_to_replay(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HA stops (not a crash): the files are written and the journal is gone."""
    entry = setup_integration
    book_key, month_key = keys(entry)
    async with connect("/CP1") as cp:
        await cp.boot()
        finished = await start(cp)
        await stop(cp, finished, 1_002_000, 30)
        going = await start(cp, 1_002_000, timestamp=stamp(35))
    assert sessions_journal(hass, entry)
    await hass.async_stop()
    assert sessions_journal(hass, entry) == {}
    (session,) = hass_storage[month_key]["data"]["sessions"]
    assert session["transaction_id"] == finished
    assert hass_storage[book_key]["data"]["open"][0]["transaction_id"] == going

    caplog.clear()
    with caplog.at_level(logging.INFO):
        async with restarted(hass, entry, async_test_recorder) as (hass2, _):
            (session,) = await get_sessions(hass2)
            assert session["energy_kwh"] == 2.0
            assert hass2.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
    assert "Recovered" not in caplog.text
