"""New charge points, end to end: Pending, the discovery, Add and Ignore.

A central system that asks first (policy approve); chargers are real `ocpp`
clients over real sockets.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from ocpp.v16.enums import RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.levity_ocpp.charge_point_settings import (
    charge_point_subentries,
    settings_from_data,
)
from custom_components.levity_ocpp.const import DOMAIN

from .admission_helpers import (
    ObedientChargePoint,
    approve,
    asking_entry,
    devices_and_entities,
    discoveries,
)
from .conftest import Connect, async_wait_until
from .test_connection import connectivity_of, device_named, state


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """New charge points wait for the user here."""
    return asking_entry()


def obedient(connect: Connect, path: str = "/CP7", **kwargs: Any) -> Any:
    return connect(path, charge_point_class=ObedientChargePoint, **kwargs)


async def offered(hass: HomeAssistant, entry: MockConfigEntry, charge_point_id: str) -> Any:
    """Wait for the discovery of a charge point and return it."""
    unique_id = f"{entry.entry_id}_{charge_point_id}"
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_until(hass, lambda: unique_id in discoveries(hass))
    return discoveries(hass)[unique_id]


async def test_an_unknown_charger_waits_and_is_offered(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_storage: dict[str, Any],
) -> None:
    entry = setup_integration
    async with obedient(connect) as cp:
        reply = await cp.boot(firmware_version="1.2.3")
        assert reply.status == RegistrationStatus.pending
        assert reply.interval == 60  # when to boot again
        # Only a boot is taken until it is accepted; nothing else changes anything.
        frame = [2, "s1", "StatusNotification", {"connectorId": 1}]
        frame[3] |= {"errorCode": "NoError", "status": "Available"}
        for sent in (frame, [2, "t1", "StartTransaction", {"connectorId": 1, "idTag": "X"}]):
            await cp.connection.send(json.dumps(sent))
        flow = await offered(hass, entry, "CP7")
        assert flow["context"]["title_placeholders"] == {
            "name": "CP7 (United Chargers, Grizzl-E, SN-7)",
            "charge_point_id": "CP7",
            "details": "United Chargers, Grizzl-E, SN-7",
            "vendor": "United Chargers",
            "model": "Grizzl-E",
            "serial_number": "SN-7",
            "firmware_version": "1.2.3",
            "remote_address": flow["context"]["title_placeholders"]["remote_address"],
            "central_system": "OCPP central system",
        }
        assert flow["context"]["title_placeholders"]["remote_address"].startswith("127.0.0.1:")
        assert flow["step_id"] == "add"
        # The one and only boot we asked nothing of it: no configuration request.
        assert cp.configuration_requests == []
        assert cp.triggers == []
        assert devices_and_entities(hass, entry) == ([], [])
        assert entry.runtime_data.charge_points == {}
    assert await hass.config_entries.async_unload(entry.entry_id)
    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}.charge_points"]["data"]
    assert saved["charge_points"] == []
    transactions = hass_storage[f"{DOMAIN}.{entry.entry_id}.transactions"]["data"]
    assert transactions["open"] == []


async def test_requests_before_acceptance_get_a_security_error(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP7", start=False) as cp:
        boot = [2, "b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
        reply = await cp.raw(boot)
        assert reply[0] == 3 and reply[2]["status"] == "Pending"
        heartbeat = await cp.raw([2, "h1", "Heartbeat", {}])
        assert heartbeat[:3] == [4, "h1", "SecurityError"]
        assert "before an accepted BootNotification" in heartbeat[4]["cause"]
        # An action this version does not have is still named as such.
        assert (await cp.raw([2, "f1", "FooBar", {}]))[2] == "NotImplemented"
        assert (await cp.raw(boot))[2]["status"] == "Pending"
    assert devices_and_entities(hass, setup_integration) == ([], [])


async def test_add_accepts_it_at_once_and_no_other_charger_reconnects(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    approve(hass, entry, "CP1")
    async with obedient(connect, "/CP1") as cp1, obedient(connect) as cp7:
        assert (await cp1.boot()).status == RegistrationStatus.accepted
        await hass.async_block_till_done()
        cp1_connectivity = connectivity_of(hass, device_named(hass, entry, "CP1").id)
        assert (await cp7.boot()).status == RegistrationStatus.pending
        cp7.boot_replies.get_nowait()
        flow = await offered(hass, entry, "CP7")

        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "charge_point_added"
        assert result["description_placeholders"]["charge_point_id"] == "CP7"
        # Asked to boot again at once, and accepted: its device is there now.
        reply = await asyncio.wait_for(cp7.boot_replies.get(), 5)
        assert reply.status == RegistrationStatus.accepted
        assert cp7.triggers == ["BootNotification"]
        await async_wait_until(hass, lambda: device_named(hass, entry, "CP7") is not None)
        device = device_named(hass, entry, "CP7")
        assert device.manufacturer == "United Chargers"
        assert device.serial_number == "SN-7"
        subentry = charge_point_subentries(entry)["CP7"]
        assert device.config_subentry_id == subentry.subentry_id
        # The charger offered OCPP 1.6: it must keep doing so.
        assert not settings_from_data(subentry.data).subprotocol_optional
        await async_wait_until(hass, lambda: cp7.configuration_requests == [None])
        assert state(hass, connectivity_of(hass, device.id)) == STATE_ON
        await cp7.status(1)  # served now
        assert discoveries(hass) == {}

        # The other charger never noticed: same socket, still served.
        assert cp1.connection.close_code is None
        assert state(hass, cp1_connectivity) == STATE_ON
        await cp1.status(1)
        assert entry.runtime_data.central_system.settings.keys() == {"CP1", "CP7"}


async def test_added_while_away_it_is_accepted_when_it_returns(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with obedient(connect, subprotocols=[]) as cp:
        await cp.boot()
        flow = await offered(hass, entry, "CP7")
    await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    # Its pending connection offered no OCPP version: it may keep connecting so.
    subentry = charge_point_subentries(entry)["CP7"]
    assert settings_from_data(subentry.data).subprotocol_optional
    async with obedient(connect, subprotocols=[]) as cp:
        # Admitted from the start: even a status before its boot is taken.
        await cp.status(1)
        assert (await cp.boot()).status == RegistrationStatus.accepted
        await hass.async_block_till_done()
        assert device_named(hass, entry, "CP7") is not None
        assert cp.triggers == []


async def test_ignore_rejects_it_until_the_user_changes_their_mind(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = setup_integration
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    async with obedient(connect) as cp:
        await cp.boot()
        flow = await offered(hass, entry, "CP7")
        await client.send_json_auto_id(
            {"type": "config_entries/ignore_flow", "flow_id": flow["flow_id"], "title": "CP7"}
        )
        assert (await client.receive_json())["success"]
        await hass.async_block_till_done()
        assert discoveries(hass) == {}
        reply = await cp.boot()
        assert reply.status == RegistrationStatus.rejected
        assert reply.interval == 300
        with pytest.raises(Exception, match="SecurityError"):
            await cp.status(1)
    # Reconnecting changes nothing, and it is not even asked to boot.
    async with obedient(connect) as cp:
        await asyncio.sleep(0)
        assert (await cp.boot()).status == RegistrationStatus.rejected
        assert cp.triggers == []
        assert devices_and_entities(hass, entry) == ([], [])

        # The user removes the ignored entry: offered again at once.
        (ignored,) = hass.config_entries.async_entries(DOMAIN, include_ignore=True)[1:]
        assert ignored.unique_id == f"{entry.entry_id}_CP7"
        await hass.config_entries.async_remove(ignored.entry_id)
        flow = await offered(hass, entry, "CP7")
        assert flow["context"]["title_placeholders"]["serial_number"] == "SN-7"
        assert (await cp.boot()).status == RegistrationStatus.pending


async def test_removing_a_central_system_removes_what_it_ignored(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with obedient(connect) as cp:
        await cp.boot()
        flow = await offered(hass, entry, "CP7")
    await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": flow["context"]["unique_id"], "title": "CP7"},
    )
    assert len(hass.config_entries.async_entries(DOMAIN, include_ignore=True)) == 2
    await hass.config_entries.async_remove(entry.entry_id)
    assert hass.config_entries.async_entries(DOMAIN, include_ignore=True) == []


async def test_a_discovery_of_a_central_system_not_running_or_an_added_charger_ends(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    entry = setup_integration
    data = {"entry_id": entry.entry_id, "charge_point_id": "CP7", "vendor": "V", "model": "M"}
    approve(hass, entry, "CP7")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=data
    )
    assert result["reason"] == "charge_point_already_added"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data=data | {"entry_id": "no-such-entry"},
    )
    assert result["reason"] == "central_system_not_loaded"
