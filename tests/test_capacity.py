"""Home Assistant's cap of enabled entities per config entry, as a user meets it.

The cap is lowered (capacity.ENTITY_CAP) so that two chargers reach it: the user
sees a repair issue near it, a charger past it still has its status, energy and
connectivity, one log line says which charger got no more, and everything clears
(and the missing entities appear) once a charger is removed.
"""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.entity_platform import MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp import capacity
from custom_components.levity_ocpp.charge_point_settings import DEFAULTS, data_from_settings
from custom_components.levity_ocpp.const import DOCUMENTATION_URL, DOMAIN, SUBENTRY_CHARGE_POINT

from .conftest import Connect, async_wait_until
from .test_connection import (
    RemoveDevice,
    connect_configured,
    device_named,
    remove_device,  # noqa: F401 - the fixture
    state,
)

CAPACITY_LOGGER = "custom_components.levity_ocpp.capacity"


def enabled_entities(hass: HomeAssistant, entry: MockConfigEntry, charge_point: str) -> set[str]:
    """The enabled entities of one charger, as the entity settings list them."""
    return {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if entity.disabled_by is None and entity.entity_id.split(".")[1].startswith(charge_point)
    }


def issue(hass: HomeAssistant, kind: str, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """A repair issue of this central system, as Settings > Repairs shows it."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")


async def charge(hass: HomeAssistant, connect: Connect, charge_point: str) -> None:
    """A charger boots, reports its connector and an energy register, and goes away."""
    async with connect_configured(connect, f"/{charge_point}") as cp:
        await cp.boot()
        await cp.status(1)
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {
                        "timestamp": "2026-11-01T10:00:00Z",
                        "sampled_value": [
                            {
                                "measurand": "Energy.Active.Import.Register",
                                "value": "1000",
                                "unit": "Wh",
                            }
                        ],
                    }
                ],
            ),
            suppress=False,
        )
        await hass.async_block_till_done()
    await hass.async_block_till_done()


def refusals(caplog: pytest.LogCaptureFixture, charge_point: str) -> list[str]:
    """The log lines that say a charger got no more entities."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == CAPACITY_LOGGER and f"charge point {charge_point} " in record.getMessage()
    ]


def essentials(charge_point: str) -> set[str]:
    """The entities a charger must never be without."""
    cp = charge_point.lower()
    return {f"binary_sensor.{cp}_connectivity", f"sensor.{cp}_status", f"sensor.{cp}_energy"}


async def test_the_cap_is_home_assistants() -> None:
    assert capacity.ENTITY_CAP == MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY


def test_the_learn_more_link_is_the_readme_section() -> None:
    manifest = json.loads(
        (Path(__file__).parents[1] / "custom_components/levity_ocpp/manifest.json").read_text()
    )
    assert manifest["documentation"] == DOCUMENTATION_URL
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "\n## Large sites\n" in readme
    assert f"{DOCUMENTATION_URL}#large-sites" == capacity.LEARN_MORE_URL


async def test_past_the_cap_a_charger_keeps_status_energy_and_connectivity(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    remove_device: RemoveDevice,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = setup_integration
    await charge(hass, connect, "CP1")
    first = enabled_entities(hass, entry, "cp1")
    assert essentials("CP1") <= first
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None
    # Room for exactly the essentials of one more charger.
    monkeypatch.setattr(capacity, "ENTITY_CAP", len(first) + 3)

    caplog.set_level(logging.WARNING, CAPACITY_LOGGER)
    await charge(hass, connect, "CP2")
    # CP2 connects again (and again): still one log line for it.
    await charge(hass, connect, "CP2")

    assert enabled_entities(hass, entry, "cp2") == essentials("CP2")
    assert state(hass, "sensor.cp2_energy") == "1.0"
    assert state(hass, "sensor.cp2_status") == "available"
    await async_wait_until(hass, lambda: state(hass, "binary_sensor.cp2_connectivity") == "off")
    (line,) = refusals(caplog, "CP2")
    assert "only its status, energy and connectivity" in line
    assert "#large-sites" in line
    reached = issue(hass, capacity.ISSUE_REACHED, entry)
    assert reached is not None
    assert reached.severity is ir.IssueSeverity.ERROR
    assert reached.learn_more_url == capacity.LEARN_MORE_URL
    assert reached.translation_placeholders == {
        "central_system": entry.title,
        "cap": str(len(first) + 3),
        "port": str(entry.runtime_data.central_system.bound_port),
        "count": "1",
        "charge_points": "CP2",
    }
    near = issue(hass, capacity.ISSUE_NEAR, entry)
    assert near is not None
    assert near.translation_placeholders is not None
    assert near.translation_placeholders["percent"] == "100"

    # A third charger has no room even for its essentials: it is named too (the
    # issue names a few and counts the rest).
    monkeypatch.setattr(capacity, "MAX_LISTED", 1)
    await charge(hass, connect, "CP3")
    assert enabled_entities(hass, entry, "cp3") == set()
    (line,) = refusals(caplog, "CP3")
    assert "no new entities" in line
    reached = issue(hass, capacity.ISSUE_REACHED, entry)
    assert reached is not None
    assert reached.translation_placeholders is not None
    assert reached.translation_placeholders["charge_points"] == "CP2 (+1)"
    assert reached.translation_placeholders["count"] == "2"

    # The user removes CP1: CP2 gets everything it missed, CP3 its essentials and what
    # is left; the issue now names CP3 alone.
    await remove_charger(hass, remove_device, entry, "CP1")
    assert len(enabled_entities(hass, entry, "cp2")) == len(first)
    assert essentials("CP3") <= enabled_entities(hass, entry, "cp3")
    assert len(enabled_entities(hass, entry, "cp3")) == 3
    reached = issue(hass, capacity.ISSUE_REACHED, entry)
    assert reached is not None
    assert reached.translation_placeholders is not None
    assert reached.translation_placeholders["charge_points"] == "CP3"

    # CP3 removed too: under the cap and under 90 % of it, both issues are gone.
    await remove_charger(hass, remove_device, entry, "CP3")
    assert issue(hass, capacity.ISSUE_REACHED, entry) is None
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None


async def remove_charger(
    hass: HomeAssistant, remove: RemoveDevice, entry: MockConfigEntry, name: str
) -> None:
    """The user deletes a charger's device (and its subentry) in the UI."""
    device = device_named(hass, entry, name)
    assert device is not None
    assert (await remove(device.id))["success"]
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()


async def test_a_reload_right_after_a_removal_adds_what_was_missing(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    remove_device: RemoveDevice,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = setup_integration
    await charge(hass, connect, "CP1")
    first = enabled_entities(hass, entry, "cp1")
    monkeypatch.setattr(capacity, "ENTITY_CAP", len(first) + 3)
    await charge(hass, connect, "CP2")
    assert enabled_entities(hass, entry, "cp2") == essentials("CP2")
    device = device_named(hass, entry, "CP1")
    assert device is not None
    assert (await remove_device(device.id))["success"]
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)  # within the second
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert len(enabled_entities(hass, entry, "cp2")) == len(first)
    assert issue(hass, capacity.ISSUE_REACHED, entry) is None


async def test_a_new_charger_fills_the_last_places(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Room for some of a charger's extras: it gets them, and the issue names it."""
    entry = setup_integration
    await charge(hass, connect, "CP1")
    first = enabled_entities(hass, entry, "cp1")
    monkeypatch.setattr(capacity, "ENTITY_CAP", len(first) + 5)
    caplog.set_level(logging.WARNING, CAPACITY_LOGGER)
    await charge(hass, connect, "CP2")
    second = enabled_entities(hass, entry, "cp2")
    assert essentials("CP2") <= second
    assert len(second) == 5
    assert len(refusals(caplog, "CP2")) == 1


async def test_near_the_cap_a_repair_issue_says_how_to_split_the_site(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    remove_device: RemoveDevice,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = setup_integration
    await charge(hass, connect, "CP1")
    count = len(enabled_entities(hass, entry, "cp1"))
    cap = int(count / capacity.NEAR_CAP_SHARE)  # the count is just past 90 % of it
    monkeypatch.setattr(capacity, "ENTITY_CAP", cap)
    # Seen at the next start of the central system.
    caplog.set_level(logging.WARNING, CAPACITY_LOGGER)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    near = issue(hass, capacity.ISSUE_NEAR, entry)
    assert near is not None
    assert near.severity is ir.IssueSeverity.WARNING
    assert near.learn_more_url == capacity.LEARN_MORE_URL
    assert near.translation_placeholders == {
        "central_system": entry.title,
        "cap": str(cap),
        "port": str(entry.runtime_data.central_system.bound_port),
        "enabled": str(count),
        "percent": str(count * 100 // cap),
    }
    assert issue(hass, capacity.ISSUE_REACHED, entry) is None
    assert not refusals(caplog, "CP1")  # its entities are restored, none refused

    # Entities the user disables do not count: two fewer, and it is no longer near.
    registry = er.async_get(hass)
    for entity_id in ("sensor.cp1_session_duration", "sensor.cp1_session_energy"):
        registry.async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.async_block_till_done()
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None
    registry.async_update_entity(
        "sensor.cp1_session_energy", disabled_by=None
    )  # one back: 1 short of 90 %
    await hass.async_block_till_done()
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None

    # An unload takes the issues along; the next start shows them again if still true.
    registry.async_update_entity("sensor.cp1_session_duration", disabled_by=None)
    await hass.async_block_till_done()
    assert issue(hass, capacity.ISSUE_NEAR, entry) is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, capacity.ISSUE_NEAR, entry) is not None

    # Removing the charger clears it.
    await remove_charger(hass, remove_device, entry, "CP1")
    assert issue(hass, capacity.ISSUE_NEAR, entry) is None


async def test_entities_disabled_by_default_take_no_place(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the cap, a charger's entities disabled by default are still there to enable."""
    entry = setup_integration
    await charge(hass, connect, "CP1")
    monkeypatch.setattr(capacity, "ENTITY_CAP", len(enabled_entities(hass, entry, "cp1")) + 3)
    await charge(hass, connect, "CP2")
    registry = er.async_get(hass)
    heartbeat = registry.async_get("sensor.cp2_last_heartbeat")
    assert heartbeat is not None
    assert heartbeat.disabled_by is er.RegistryEntryDisabler.INTEGRATION


def translations() -> dict[str, Any]:
    path = Path(__file__).parents[1] / "custom_components/levity_ocpp/strings.json"
    issues: dict[str, Any] = json.loads(path.read_text())["issues"]
    return issues


@pytest.mark.parametrize("kind", [capacity.ISSUE_NEAR, capacity.ISSUE_REACHED])
def test_the_issues_tell_how_to_split_the_site(kind: str) -> None:
    text = translations()[kind]["description"]
    assert "{port}" in text
    assert "Add entry" in text


def site(count: int) -> list[str]:
    """The charge point ids of a site."""
    return [f"CP{number:02d}" for number in range(count)]


def known_site(hass_storage: dict[str, Any], entry: MockConfigEntry, ids: list[str]) -> list[str]:
    """Chargers saved before (an energy register each); no entity of theirs registered."""
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    connector = {"connector_id": 1, "status": "Available", "energy_register_kwh": 1.0}
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"charge_points": [{"id": cp, "connectors": [connector]} for cp in ids]},
    }
    return ids


async def test_a_site_that_outgrew_its_central_system_is_told_in_one_line(
    hass: HomeAssistant,
    socket_enabled: None,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Many known chargers start past the cap (their entities gone): one line, not one each.

    Every charger still has its status, energy and connectivity; the line and the
    repair issue count the chargers that got no more.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        data=dict(config_entry.data),
        options=dict(config_entry.options),
        minor_version=config_entry.minor_version,
        subentries_data=[
            ConfigSubentryData(
                data=data_from_settings(cp, DEFAULTS),
                subentry_type=SUBENTRY_CHARGE_POINT,
                title=cp,
                unique_id=cp,
            )
            for cp in site(12)
        ],
    )
    ids = known_site(hass_storage, entry, site(12))
    monkeypatch.setattr(capacity, "ENTITY_CAP", 3 * len(ids) + 10)  # essentials and 10 more
    monkeypatch.setattr(capacity, "MAX_LOGGED", 3)
    caplog.set_level(logging.WARNING, CAPACITY_LOGGER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    for cp in ids:
        assert essentials(cp) <= enabled_entities(hass, entry, cp.lower())
    (line,) = [r.getMessage() for r in caplog.records if r.name == CAPACITY_LOGGER]
    reached = issue(hass, capacity.ISSUE_REACHED, entry)
    assert reached is not None
    assert reached.translation_placeholders is not None
    refused = int(reached.translation_placeholders["count"])
    assert refused > 1
    assert f"{refused} charge points (" in line
    assert f" (+{refused - 3})) get only their status, energy and connectivity" in line
    assert "#large-sites" in line


async def test_an_entity_the_user_disabled_stays_away_until_enabled(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    """At the next start it is not added (no state); enabled, it has a state again."""
    entry = setup_integration
    await charge(hass, connect, "CP1")
    registry = er.async_get(hass)
    registry.async_update_entity("sensor.cp1_energy", disabled_by=er.RegistryEntryDisabler.USER)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.cp1_energy") is None
    energy = registry.async_get("sensor.cp1_energy")
    assert energy is not None
    assert energy.disabled_by is er.RegistryEntryDisabler.USER
    assert hass.states.get("sensor.cp1_status") is not None  # the others are there

    registry.async_update_entity("sensor.cp1_energy", disabled_by=None)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)  # as HA does 30 s later
    await hass.async_block_till_done()
    assert hass.states.get("sensor.cp1_energy") is not None
