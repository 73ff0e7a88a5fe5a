"""New charge points over time: the waiting list's bounds, removal, the policy, upgrades."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from ocpp.v16.enums import RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.levity_ocpp.central import charge_point_identifier, connector_identifier
from custom_components.levity_ocpp.charge_point_settings import (
    charge_point_subentries,
    data_from_settings,
    settings_from_data,
)
from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    DOMAIN,
    SUBENTRY_CHARGE_POINT,
)
from custom_components.levity_ocpp.csms.admission import FORGET_AFTER, MAX_UNKNOWN
from custom_components.levity_ocpp.csms.settings import ChargePointSettings

from .admission_helpers import (
    ObedientChargePoint,
    approve,
    asking_entry,
    devices_and_entities,
    discoveries,
)
from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import Connect, open_options_step
from .test_connection import device_named


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """New charge points wait for the user here."""
    return asking_entry()


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_at_most_twenty_wait_the_oldest_goes_first(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    for n in range(MAX_UNKNOWN + 1):
        async with connect(f"/NEW{n}") as cp:
            assert (await cp.boot()).status == RegistrationStatus.pending
        await settle(hass)
    offered = {unique_id.removeprefix(f"{entry.entry_id}_") for unique_id in discoveries(hass)}
    assert offered == {f"NEW{n}" for n in range(1, MAX_UNKNOWN + 1)}
    # Heard from again, one is young again: the next newcomer pushes out another.
    async with connect("/NEW1") as cp:
        await cp.boot()
    async with connect("/NEW99") as cp:
        await cp.boot()
    await settle(hass)
    offered = {unique_id.removeprefix(f"{entry.entry_id}_") for unique_id in discoveries(hass)}
    assert "NEW1" in offered and "NEW2" not in offered and "NEW99" in offered
    assert len(offered) == MAX_UNKNOWN
    assert devices_and_entities(hass, entry) == ([], [])


async def test_a_charger_gone_for_an_hour_is_forgotten(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = setup_integration
    async with connect("/CP7") as cp:
        await cp.boot()
    async with connect("/CP8") as cp:
        await cp.boot()
    await settle(hass)
    assert len(discoveries(hass)) == 2
    freezer.tick(FORGET_AFTER - timedelta(minutes=1))
    async with connect("/CP8") as cp:  # CP8 is still around
        await cp.boot()
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await settle(hass)
    assert set(discoveries(hass)) == {f"{entry.entry_id}_CP8"}
    freezer.tick(FORGET_AFTER)
    async_fire_time_changed(hass)
    await settle(hass)
    assert discoveries(hass) == {}
    # Forgotten is not refused: at its next boot it is offered again.
    async with connect("/CP7") as cp:
        assert (await cp.boot()).status == RegistrationStatus.pending
    await settle(hass)
    assert set(discoveries(hass)) == {f"{entry.entry_id}_CP7"}


async def test_added_by_hand_while_offered_the_offer_goes(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP7", charge_point_class=ObedientChargePoint) as cp:
        await cp.boot()
        await settle(hass)
        assert discoveries(hass)
        approve(hass, setup_integration, "CP7")
        await settle(hass)
        assert discoveries(hass) == {}
        # Connected: asked to boot again, and accepted.
        await asyncio.wait_for(cp.boot_replies.get(), 5)  # the first, pending
        reply = await asyncio.wait_for(cp.boot_replies.get(), 5)
        assert reply.status == RegistrationStatus.accepted


async def test_deleting_its_subentry_makes_a_charger_unknown_again(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    subentry = approve(hass, entry, "CP1")
    async with connect("/CP1", charge_point_class=ConfiguredChargePoint) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)  # two connectors: child devices
        await settle(hass)
        device = device_named(hass, entry, "CP1")
        assert device is not None and device.config_subentry_id == subentry.subentry_id
        assert len(dr.async_entries_for_parent_device(dr.async_get(hass), device.id)) == 2
        hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
        await asyncio.wait_for(cp.connection.wait_closed(), 5)
        await settle(hass)
    assert devices_and_entities(hass, entry) == ([], [])
    assert entry.runtime_data.charge_points == {}
    async with connect("/CP1") as cp:
        assert (await cp.boot()).status == RegistrationStatus.pending
    await settle(hass)
    assert set(discoveries(hass)) == {f"{entry.entry_id}_CP1"}


async def test_the_accept_policy_adds_every_new_charger(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    result = await open_options_step(hass, entry, "admission")
    assert result["data_schema"]({}) == {CONF_ADMISSION_POLICY: "approve"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ADMISSION_POLICY: "accept"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ADMISSION_POLICY] == "accept"
    await settle(hass)  # the central system restarts with it
    port = entry.runtime_data.central_system.bound_port
    assert port

    async with connect_charge_point(port, "/CP7", subprotocols=[]) as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted
        await settle(hass)
    subentry = charge_point_subentries(entry)["CP7"]
    assert settings_from_data(subentry.data).subprotocol_optional
    device = device_named(hass, entry, "CP7")
    assert device is not None and device.config_subentry_id == subentry.subentry_id
    assert discoveries(hass) == {}


async def test_an_upgrade_approves_the_chargers_known_before(
    hass: HomeAssistant, socket_enabled: None, hass_storage: dict[str, Any]
) -> None:
    """Stored before approvals existed: each keeps its device, entities and their names."""
    entry = asking_entry()
    # A charger added by hand in the version before this one keeps its settings.
    lenient = ChargePointSettings(validate_schema=False)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=entry.entry_id,
        title=entry.title,
        data=dict(entry.data),
        options=dict(entry.options),
        minor_version=1,
        subentries_data=[
            ConfigSubentryData(
                data=data_from_settings("GRIZZL", lenient),
                subentry_type=SUBENTRY_CHARGE_POINT,
                title="GRIZZL",
                unique_id="GRIZZL",
            )
        ],
    )
    entry.add_to_hass(hass)
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    connection = {"connected_at": "2026-11-01T10:00:00+00:00", "path": "/GRIZZL"}
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "charge_points": [
                {
                    "id": "CP1",
                    "vendor": "United Chargers",
                    "connectors": [{"connector_id": 1}, {"connector_id": 2}],
                    "connections": [connection | {"path": "/CP1", "subprotocol": "ocpp1.6"}],
                },
                {"id": "GRIZZL", "connections": [connection | {"subprotocol": None}]},
                # Its last connection offered no OCPP version: it may keep doing so.
                {"id": "NOSUB", "connections": [connection | {"subprotocol": None}]},
            ]
        },
    }
    devices, entities = dr.async_get(hass), er.async_get(hass)
    parent = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={charge_point_identifier(entry.entry_id, "CP1")},
        name="CP1",
    )
    child = devices.async_get_or_create_child(
        config_entry_id=entry.entry_id,
        identifiers={connector_identifier(entry.entry_id, "CP1", 2)},
        parent_device_id=parent.id,
        name="Connector 2",
    )
    devices.async_update_child_device(child.id, name_by_user="Garage left")
    status = entities.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.entry_id}_CP1_2_connector_status",
        config_entry=entry,
        device_id=child.id,
        suggested_object_id="garage_left_status",
    )
    entities.async_update_entity(status.entity_id, name="Left status")

    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    assert entry.minor_version == 2
    approved = charge_point_subentries(entry)
    assert set(approved) == {"CP1", "GRIZZL", "NOSUB"}
    assert settings_from_data(approved["NOSUB"].data).subprotocol_optional
    assert not settings_from_data(approved["CP1"].data).subprotocol_optional
    assert settings_from_data(approved["GRIZZL"].data) == lenient
    parent = devices.async_get(parent.id)
    assert parent is not None and parent.config_subentry_id == approved["CP1"].subentry_id
    (child,) = [
        c
        for c in dr.async_entries_for_parent_device(devices, parent.id)
        if connector_identifier(entry.entry_id, "CP1", 2) in c.identifiers
    ]
    assert child.name_by_user == "Garage left"
    assert child.config_subentry_id == approved["CP1"].subentry_id
    moved = entities.async_get(status.entity_id)
    assert moved is not None and moved.name == "Left status"
    assert moved.device_id == child.id
    assert moved.config_subentry_id == approved["CP1"].subentry_id
    # Approved: it is served at once, not asked to wait.
    port = entry.runtime_data.central_system.bound_port
    assert port

    async with connect_charge_point(port, "/CP1", charge_point_class=ConfiguredChargePoint) as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_stored_charger_whose_subentry_went_while_stopped_is_forgotten(
    hass: HomeAssistant, socket_enabled: None, hass_storage: dict[str, Any]
) -> None:
    entry = asking_entry()
    entry.add_to_hass(hass)
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    hass_storage[key] = {"version": 1, "key": key, "data": {"charge_points": [{"id": "OLD"}]}}
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    assert entry.runtime_data.charge_points == {}
    assert devices_and_entities(hass, entry) == ([], [])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[key]["data"]["charge_points"] == []
