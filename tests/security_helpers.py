"""Setting up a central system with security options and charge points that have passwords."""

from __future__ import annotations

import base64
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.charge_point_settings import data_from_settings
from custom_components.levity_ocpp.const import (
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
    SUBENTRY_CHARGE_POINT,
)
from custom_components.levity_ocpp.csms.settings import ChargePointSettings


def basic(username: str, password: str | bytes) -> dict[str, str]:
    """The Authorization header of HTTP Basic credentials."""
    secret = password if isinstance(password, bytes) else password.encode()
    token = base64.b64encode(username.encode() + b":" + secret).decode()
    return {"Authorization": f"Basic {token}"}


def charge_point_subentry(charge_point_id: str, **settings: Any) -> dict[str, Any]:
    """The subentry of an approved charge point with these settings."""
    return {
        "data": data_from_settings(charge_point_id, ChargePointSettings(**settings)),
        "subentry_type": SUBENTRY_CHARGE_POINT,
        "title": charge_point_id,
        "unique_id": charge_point_id,
    }


async def setup_secured(
    hass: HomeAssistant,
    options: dict[str, Any] | None = None,
    charge_points: dict[str, dict[str, Any]] | None = None,
) -> MockConfigEntry:
    """A loaded central system on a free port with these options and charge points."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, **(options or {})},
        subentries_data=[
            charge_point_subentry(charge_point_id, **settings)
            for charge_point_id, settings in (charge_points or {}).items()
        ],
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def port_of(entry: MockConfigEntry) -> int:
    """The port a loaded entry listens on."""
    port = entry.runtime_data.central_system.bound_port
    assert port
    return port
