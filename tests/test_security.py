"""Security profile 1 end to end: passwords at the handshake, no takeover by id, back-off."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from ocpp.v16.enums import ChargePointStatus, RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.exceptions import InvalidStatus

from custom_components.levity_ocpp.const import DOMAIN

from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import async_wait_until
from .security_helpers import basic, port_of, setup_secured

PASSWORD = "correct-horse-battery"
PROFILE_1 = {"security_profile": 1}


def devices(hass: HomeAssistant) -> list[str | None]:
    """The names of the charge point devices a user sees."""
    return [device.name for device in dr.async_get(hass).devices]


async def refused_status(port: int, path: str = "/CP1", **kwargs: object) -> InvalidStatus:
    """Try to connect; return the HTTP refusal the client got."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect_charge_point(port, path, **kwargs):  # type: ignore[arg-type]
            pass
    return refused.value


async def test_profile_1_right_wrong_and_missing_password(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await setup_secured(hass, PROFILE_1, {"CP1": {"password": PASSWORD}})
    port = port_of(entry)

    missing = await refused_status(port)
    assert missing.response.status_code == 401
    assert missing.response.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = await refused_status(port, headers=basic("CP1", "correct-horse-batterz"))
    assert wrong.response.status_code == 401
    not_its_name = await refused_status(port, headers=basic("CP2", PASSWORD))
    assert not_its_name.response.status_code == 401
    # Nothing of the refused connections reached Home Assistant.
    assert "CP1" not in devices(hass)
    # Logged once (an hour) with why, shown as a repair issue; never the password.
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "CP1" in r.message]
    assert len(warnings) == 1
    assert "it sent no password" in warnings[0].message
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"connection_refused_{entry.entry_id}")
    assert issue is not None
    assert "no password" in issue.translation_placeholders["reason"]

    async with connect_charge_point(
        port, "/CP1", headers=basic("CP1", PASSWORD), charge_point_class=ConfiguredChargePoint
    ) as charge_point:
        assert (await charge_point.boot()).status == RegistrationStatus.accepted
        # The username is the id, in any case: OCPP ids are case-insensitive.
    async with connect_charge_point(
        port, "/CP1", headers=basic("cp1", PASSWORD), charge_point_class=ConfiguredChargePoint
    ) as again:
        assert (await again.boot()).status == RegistrationStatus.accepted
    assert "CP1" in devices(hass)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_CP1"), entry.entry_id
    )
    assert device is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert [c["security_profile"] for c in diagnostics["connections"]] == [1, 1]
    assert PASSWORD not in str(diagnostics)
    # Nor in what the central system logs, the request headers at DEBUG included.
    token = basic("CP1", PASSWORD)["Authorization"].split()[1]
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("custom_components", "websockets.server"))
    )
    assert "< Authorization: **REDACTED**" in ours
    assert token not in ours
    assert PASSWORD not in ours


async def test_no_takeover_of_a_charging_charger_by_its_id(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    # Minimum profile 0: a charger with a password must still present it.
    entry = await setup_secured(hass, {}, {"CP1": {"password": PASSWORD}})
    port = port_of(entry)
    async with connect_charge_point(
        port, "/CP1", headers=basic("CP1", PASSWORD), charge_point_class=ConfiguredChargePoint
    ) as real:
        await real.boot()
        await real.status(1, ChargePointStatus.charging)
        await async_wait_until(
            hass, lambda: hass.states.get("sensor.cp1_status").state == "charging"
        )

        for attempt in ({}, basic("CP1", "not-the-password-at-all"), basic("CP1", "")):
            refused = await refused_status(port, headers=attempt)
            assert refused.response.status_code == 401
        # Its id in other case or width is the same charger: no way around the password.
        for variant in ("/cp1", "/\uff23\uff30\uff11"):
            refused = await refused_status(port, variant, headers=basic("cp1", "nope-nope-nope-1"))
            assert refused.response.status_code == 401

        # The real charger's connection is the one still served.
        assert (await real.status(1, ChargePointStatus.suspended_ev)) is not None
        await async_wait_until(
            hass, lambda: hass.states.get("sensor.cp1_status").state == "suspended_ev"
        )
        assert hass.states.get("binary_sensor.cp1_connectivity").state == "on"
        assert entry.runtime_data.central_system.charge_points["CP1"].connections[-1].path == "/CP1"
        assert len(entry.runtime_data.central_system.charge_points["CP1"].connections) == 1


async def test_unknown_charge_points_connect_only_to_boot(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Not approved yet: no credentials to check; admission decides what it may do."""
    entry = await setup_secured(hass, PROFILE_1, {"CP1": {"password": PASSWORD}})
    async with connect_charge_point(port_of(entry), "/CP9") as stranger:
        assert (await stranger.boot()).status is not None


async def test_a_charger_without_password_is_below_profile_1(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_secured(hass, PROFILE_1, {"CP1": {}})
    refused = await refused_status(port_of(entry), headers=basic("CP1", PASSWORD))
    assert refused.response.status_code == 401
    assert "no password is set for it in Home Assistant" in caplog.text


async def test_repeated_failures_back_off(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": PASSWORD}, "CP2": {}})
    port = port_of(entry)
    for guess in range(5):
        refused = await refused_status(port, headers=basic("CP1", f"guess-number-{guess:08}"))
        assert refused.response.status_code == 401
    # Locked out: even the right password is not checked now.
    locked = await refused_status(port, headers=basic("CP1", PASSWORD))
    assert locked.response.status_code == 429
    assert 0 < int(locked.response.headers["Retry-After"]) <= 60
    # Other charge points from the same address are not.
    async with connect_charge_point(
        port, "/CP2", charge_point_class=ConfiguredChargePoint
    ) as other:
        assert (await other.boot()).status == RegistrationStatus.accepted
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "/CP1" in r.message]
    assert len(warnings) == 1
