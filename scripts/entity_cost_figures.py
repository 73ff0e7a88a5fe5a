"""The measurements of scripts/entity_cost.py (a pytest module: HA's test harness).

`.venv/bin/python -m scripts.entity_cost [--charge-points 20] [--minutes 10]` runs this in
HA's test harness (pytest-homeassistant-custom-component, a real WebSocket, no
recorder database) with chargers like the benchmark's (OCPP 1.6, one connector,
3-phase, 10 measurands every 10 s, a session running) and prints:

- steady metering of one charger for `--minutes` (the clock frozen and moved 10 s
  per message): which entities changed state or attributes and how often, how many
  of them change at all (distinct entity ids the recorder has to look up), and per
  message how many entities were asked whether they changed and how many values
  they computed;
- memory: N chargers connected, then N more; per charger of the second batch the
  bytes still allocated (tracemalloc, by source area), the new Python objects by
  type (gc), the registry entries, enabled and disabled, and the entity objects.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import contextlib
from datetime import UTC, datetime, timedelta
import gc
import os
from pathlib import Path
import random
import time
import tracemalloc
from typing import Any, ClassVar

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp import entity as levity_entity
from tests.client import ConfiguredChargePoint
from tests.conftest import Connect

# The fixtures of the test suite (this module is run by pytest, from the checkout).
pytest_plugins = ("tests.conftest",)

START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=10)
POWER_W = 11_000.0


class BenchCharger(ConfiguredChargePoint):
    """The benchmark's charger (scripts/bench/load.py): one connector, Core only."""

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [  # type: ignore[misc]
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "10"},
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
    ]


class Meter:
    """One charger's readings as the benchmark's load generator makes them."""

    def __init__(self, seed: int) -> None:
        self.noise = random.Random(seed)
        self.register_wh = 1_234_500.0
        self.soc = 40.0
        self.temperature = 35.0

    def sample(self, at: datetime) -> dict[str, Any]:
        noise = self.noise
        power_w = POWER_W + noise.gauss(0, 25)
        self.register_wh += power_w * INTERVAL.total_seconds() / 3600
        self.soc = min(100.0, self.soc + power_w * INTERVAL.total_seconds() / 3600 / 600)
        self.temperature += noise.gauss(0, 0.05)
        values: list[dict[str, Any]] = [
            {"value": f"{self.register_wh:.0f}", "measurand": "Energy.Active.Import.Register"},
            {"value": f"{power_w:.0f}", "measurand": "Power.Active.Import", "unit": "W"},
        ]
        for phase in ("L1", "L2", "L3"):
            current = power_w / 3 / 230 + noise.gauss(0, 0.05)
            values.append(
                {"value": f"{current:.2f}", "measurand": "Current.Import", "phase": phase}
            )
        for phase in ("L1-N", "L2-N", "L3-N"):
            voltage = 230 + noise.gauss(0, 1)
            values.append({"value": f"{voltage:.1f}", "measurand": "Voltage", "phase": phase})
        values += [
            {"value": "16.0", "measurand": "Current.Offered", "unit": "A"},
            {"value": f"{self.soc:.0f}", "measurand": "SoC", "unit": "Percent", "location": "EV"},
            {"value": f"{self.temperature:.1f}", "measurand": "Temperature", "unit": "Celsius"},
        ]
        return {"timestamp": at.isoformat().replace("+00:00", "Z"), "sampledValue": values}


async def charging(
    stack: contextlib.AsyncExitStack, connect: Connect, name: str, meter: Meter, at: datetime
) -> tuple[BenchCharger, int]:
    """A charger connects, boots, charges: a session and one full sample."""
    cp = await stack.enter_async_context(connect(f"/{name}", charge_point_class=BenchCharger))
    assert isinstance(cp, BenchCharger)
    await cp.boot()
    await cp.status(0)
    await cp.status(1, ChargePointStatus.charging)
    stamp = at.isoformat().replace("+00:00", "Z")
    reply = await cp.call(
        call.StartTransaction(
            connector_id=1, id_tag="BENCHTAG", meter_start=int(meter.register_wh), timestamp=stamp
        ),
        suppress=False,
    )
    await send(cp, reply.transaction_id, meter.sample(at))
    return cp, reply.transaction_id


async def send(cp: BenchCharger, transaction_id: int, sample: dict[str, Any]) -> None:
    await cp.call(
        call.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=[sample]),
        suppress=False,
    )


class Calls:
    """Counts the fan-out's work: entities asked whether they changed, values computed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.changed = 0
        self.values = 0
        self.writes = 0
        self.seconds = 0.0  # in the listeners: asking, computing, writing
        entity_cls = levity_entity.LevityEntity
        changed, write = entity_cls._changed, entity_cls._write

        def counted_changed(entity: Any) -> None:
            self.changed += 1
            started = time.process_time()
            changed(entity)
            self.seconds += time.process_time() - started

        def counted_write(entity: Any, snapshot: tuple[object, ...]) -> None:
            self.writes += 1
            write(entity, snapshot)

        monkeypatch.setattr(entity_cls, "_changed", counted_changed)
        monkeypatch.setattr(entity_cls, "_write", counted_write)
        from custom_components.levity_ocpp import sensor  # noqa: PLC0415

        current_value = sensor.LevitySensor.current_value

        def counted_value(entity: Any) -> Any:
            self.values += 1
            return current_value(entity)

        monkeypatch.setattr(sensor.LevitySensor, "current_value", counted_value)


async def test_steady_metering(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    minutes = int(os.environ.get("ENTITY_COST_MINUTES", "10"))
    freezer.move_to(START)
    meter = Meter(1)
    states: Counter[str] = Counter()
    attributes: Counter[str] = Counter()
    calls = Calls(monkeypatch)  # before the entities exist: they listen with these
    async with contextlib.AsyncExitStack() as stack:
        cp, tx = await charging(stack, connect, "CP1", meter, START)
        await hass.async_block_till_done()
        calls.changed = calls.values = calls.writes = 0
        calls.seconds = 0.0

        def count(event: Event[Any]) -> None:
            old, new = event.data["old_state"], event.data["new_state"]
            if old is None or new is None or not new.entity_id.split(".")[1].startswith("cp1"):
                return
            if old.state != new.state:
                states[new.entity_id] += 1
            elif old.attributes != new.attributes:
                attributes[new.entity_id] += 1

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        messages = minutes * 6
        for step in range(1, messages + 1):
            at = START + step * INTERVAL
            freezer.move_to(at)
            async_fire_time_changed(hass, at)
            await send(cp, tx, meter.sample(at))
            await hass.async_block_till_done()
    registry = er.async_get(hass)
    entries = [
        e for e in registry.entities.values() if e.config_entry_id == setup_integration.entry_id
    ]
    enabled = sorted(e.entity_id for e in entries if e.disabled_by is None)
    print(f"\n== one charger, {minutes} min of steady metering ({messages} MeterValues)")
    print(f"registered entities {len(entries)}, enabled {len(enabled)}")
    print(f"{'entity':45} {'state':>6} {'attrs':>6}  per minute")
    for entity_id in enabled:
        n, a = states[entity_id], attributes[entity_id]
        print(f"{entity_id:45} {n:6} {a:6}  {(n + a) / minutes:.2f}")
    rows = sum(states.values()) + sum(attributes.values())
    print(f"state rows per charger-minute {rows / minutes:.2f}")
    print(f"distinct entities that changed {len(set(states) | set(attributes))}")
    print(
        f"per MeterValues: entities asked {calls.changed / messages:.1f}, "
        f"values computed {calls.values / messages:.1f}, writes {calls.writes / messages:.2f}, "
        f"{calls.seconds / messages * 1e6:.0f} µs of CPU in the listeners (one run: it varies)"
    )


def _area(filename: str) -> str:
    for marker, area in (
        ("custom_components/levity_ocpp/csms", "levity_ocpp/csms (core)"),
        ("custom_components/levity_ocpp", "levity_ocpp (HA side)"),
        ("homeassistant/helpers/entity_registry", "HA entity registry"),
        ("homeassistant/helpers/device_registry", "HA device registry"),
        ("homeassistant/helpers/entity_platform", "HA entity platform"),
        ("homeassistant/helpers/entity.py", "HA entity"),
        ("homeassistant/core.py", "HA core (states, bus)"),
        ("homeassistant/", "HA other"),
        ("websockets/", "websockets (both ends)"),
        ("ocpp/", "ocpp library (both ends)"),
        ("tests/", "test client"),
    ):
        if marker in filename:
            return area
    return "other"


async def test_memory_per_charger(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count = int(os.environ.get("ENTITY_COST_CHARGE_POINTS", "20"))
    # The test harness runs the loop in debug mode: every task keeps its stack.
    asyncio.get_running_loop().set_debug(False)
    at = datetime.now(UTC)
    registry = er.async_get(hass)

    def census() -> tuple[Counter[str], int, int, int]:
        gc.collect()
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        mine = [e for e in registry.entities.values() if e.platform == "levity_ocpp"]
        entities = sum(1 for o in gc.get_objects() if isinstance(o, levity_entity.LevityEntity))
        disabled = sum(1 for e in mine if e.disabled_by is not None)
        return types, len(mine), disabled, entities

    async with contextlib.AsyncExitStack() as stack:
        for n in range(count):
            await charging(stack, connect, f"CPA{n:03d}", Meter(n), at)
        await hass.async_block_till_done()
        before_types, before_entries, before_disabled, before_entities = census()
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        for n in range(count):
            await charging(stack, connect, f"CPB{n:03d}", Meter(n), at)
        await hass.async_block_till_done()
        after = tracemalloc.take_snapshot()
        after_types, after_entries, after_disabled, after_entities = census()
        tracked_areas: Counter[str] = Counter()
        tracked_lines: Counter[str] = Counter()
        for obj in gc.get_objects():
            if (origin := tracemalloc.get_object_traceback(obj)) is not None:
                frame = origin[0]
                tracked_areas[_area(frame.filename)] += 1
                where = f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}"
                tracked_lines[f"{where}:{frame.lineno} {type(obj).__qualname__}"] += 1
        tracemalloc.stop()
    # A restart (here: a reload) with every charger known: entity objects made.
    made = 0
    entity_init = levity_entity.LevityEntity.__init__

    def counted_init(entity: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        entity_init(entity, *args, **kwargs)

    monkeypatch.setattr(levity_entity.LevityEntity, "__init__", counted_init)
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    areas: Counter[str] = Counter()
    for stat in after.compare_to(before, "filename"):
        areas[_area(stat.traceback[0].filename)] += stat.size_diff
    print(f"\n== memory per charger (the second {count} of {2 * count})")
    print(f"registry entries {(after_entries - before_entries) / count:.1f}")
    print(f"  of them disabled {(after_disabled - before_disabled) / count:.1f}")
    print(f"entity objects {(after_entities - before_entities) / count:.1f}")
    print(f"entity objects made at a restart {made / (2 * count):.1f}")
    print(f"tracemalloc KiB {sum(areas.values()) / count / 1024:.1f}")
    for area, size in areas.most_common():
        print(f"  {area:32} {size / count / 1024:8.1f}")
    print("lines of levity_ocpp (HA side), HA entity and HA core (per charger, top 15)")
    lines = [
        s
        for s in after.compare_to(before, "lineno")
        if _area(s.traceback[0].filename)
        in ("levity_ocpp (HA side)", "HA entity", "HA core (states, bus)")
    ]
    for stat in sorted(lines, key=lambda s: -s.size_diff)[:15]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"
        print(f"  {where:40} {stat.size_diff / count / 1024:8.1f}")
    diff = Counter({t: after_types[t] - before_types[t] for t in after_types})
    print(f"new gc-tracked objects per charger {diff.total() / count:.1f}")
    print("new gc-tracked objects by where they were made (per charger)")
    for area, n in tracked_areas.most_common():
        print(f"  {area:32} {n / count:8.1f}")
    for where, n in tracked_lines.most_common(15):
        print(f"  {where:60} {n / count:8.1f}")
    print("new objects by type (per charger, top 25)")
    for name, n in diff.most_common(25):
        print(f"  {name:40} {n / count:8.1f}")
