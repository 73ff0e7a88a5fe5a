"""The session actions' filters and every error a user can get from them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect
from .test_connection import connect_configured, connector_devices, device_named
from .test_sessions import get_sessions, stamp, start, stop


async def one_session_on_each_connector(hass: HomeAssistant, connect: Connect) -> None:
    """CP1 (two connectors): a session on connector 1, then one on connector 2."""
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)
        transaction = await start(cp)
        await stop(cp, transaction, 1_001_000, 10)
        reply = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="GUEST", meter_start=5_000, timestamp=stamp(20)
            ),
            suppress=False,
        )
        await stop(cp, reply.transaction_id, 6_000, 30)
        await hass.async_block_till_done()


async def test_sessions_of_a_connector_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    await one_session_on_each_connector(hass, connect)
    parent = device_named(hass, setup_integration, "CP1")
    assert parent is not None
    connectors = connector_devices(hass, parent)
    on_2 = await get_sessions(hass, device_id=connectors["Connector 2"].id)
    assert [session["connector_id"] for session in on_2] == [2]
    on_1 = await get_sessions(hass, device_id=connectors["Connector 1"].id)
    assert [session["connector_id"] for session in on_1] == [1]
    assert len(await get_sessions(hass, device_id=parent.id)) == 2


async def test_times_without_a_zone_are_in_home_assistants(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")  # UTC+1 in November
    await one_session_on_each_connector(hass, connect)  # started 10:15 and 10:35 UTC
    later = await get_sessions(hass, start=datetime(2026, 11, 1, 11, 20))
    assert [session["id_tag"] for session in later] == ["GUEST"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"device_id": "no-such-device"}, "unknown_device"),
        (
            {"start": datetime(2026, 11, 2, 0, 0), "end": datetime(2026, 11, 1, 0, 0)},
            "end_before_start",
        ),
    ],
)
async def test_wrong_filters_are_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    tmp_path: Path,
    data: dict[str, Any],
    key: str,
) -> None:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "x.csv"
    for action, extra in (("get_sessions", {}), ("export_sessions", {"path": str(target)})):
        with pytest.raises(ServiceValidationError) as error:
            await hass.services.async_call(
                DOMAIN, action, {**data, **extra}, blocking=True, return_response=True
            )
        assert error.value.translation_key == key
    assert not target.exists()


async def test_no_loaded_central_system(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    with pytest.raises(ServiceValidationError) as error:
        await get_sessions(hass)
    assert error.value.translation_key == "not_loaded"


async def test_export_to_a_relative_path_lands_in_the_config_folder(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    hass.config.config_dir = str(tmp_path)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await hass.services.async_call(
        DOMAIN, "export_sessions", {"path": "sessions.csv"}, blocking=True, return_response=True
    )
    assert response == {"path": str(tmp_path / "sessions.csv"), "sessions": 0}
    assert (tmp_path / "sessions.csv").read_text(encoding="utf-8").startswith("transaction_id,")


async def test_export_that_cannot_be_written(
    hass: HomeAssistant, setup_integration: MockConfigEntry, tmp_path: Path
) -> None:
    (tmp_path / "folder.csv").mkdir()
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(HomeAssistantError) as error:
        await hass.services.async_call(
            DOMAIN, "export_sessions", {"path": str(tmp_path / "folder.csv")}, blocking=True
        )
    assert error.value.translation_key == "export_failed"
    assert error.value.translation_placeholders["path"] == str(tmp_path / "folder.csv")
