"""Charge point passwords: generated and shown once, rotated and sent to the charger."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from ocpp.routing import on
from ocpp.v16.enums import RegistrationStatus
from ocpp.v201 import call_result as call_result201
from ocpp.v201.enums import Action as Action201
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.exceptions import InvalidStatus

from custom_components.levity_ocpp.charge_point_settings import charge_point_subentries
from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT
from custom_components.levity_ocpp.credentials import Delivery, async_send_password_to_waiting
from custom_components.levity_ocpp.csms.framelog import MAX_FRAME_TEXT
from custom_components.levity_ocpp.csms.model import ChargePoint, Direction
from custom_components.levity_ocpp.csms.security import PASSWORD_ALPHABET
from custom_components.levity_ocpp.diagnostics import charge_point_diagnostics

from .client import connect_charge_point
from .client_v201 import TestChargePointV201, connect_v201
from .commanded import CommandedChargePoint
from .conftest import async_wait_until
from .security_helpers import basic, port_of, setup_secured

OLD = "the-old-password-1"
SETTINGS = {
    "authorization": "any_tag",
    "ocpp_version": "auto",
    "validate_schema": True,
    "websocket_ping": True,
    "subprotocol_optional": False,
}


class PasswordStation(TestChargePointV201):
    """A 2.0.1 station that takes the variables it is set, remembering them."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing set yet."""
        super().__init__(*args, **kwargs)
        self.set_variables: list[tuple[str, str, str]] = []

    @on(Action201.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        """Accept each."""
        results = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            self.set_variables.append(
                (component["name"], variable["name"], item["attribute_value"])
            )
            results.append(
                {"attribute_status": "Accepted", "component": component, "variable": variable}
            )
        return call_result201.SetVariables(set_variable_result=results)


def subentry_data(entry: MockConfigEntry, charge_point_id: str = "CP1") -> dict[str, Any]:
    """What is stored for a charge point."""
    return dict(charge_point_subentries(entry)[charge_point_id].data)


async def reconfigure(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> Any:
    """Open CP1's settings and submit them."""
    subentry = charge_point_subentries(entry)["CP1"]
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SETTINGS, **fields}
    )


async def connects(port: int, password: str) -> bool:
    """Whether CP1 gets through the handshake with this password."""
    try:
        async with connect_charge_point(
            port, "/CP1", headers=basic("CP1", password), charge_point_class=CommandedChargePoint
        ) as charge_point:
            await charge_point.boot()
    except InvalidStatus:
        return False
    return True


async def test_adding_generates_and_shows_a_password_once(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    entry = setup_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    # Typed, but not chosen: said rather than dropped.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charge_point_id": "CP1", "password": "typed-but-not-used!", **SETTINGS}
    )
    assert result["errors"] == {"password": "password_not_used"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charge_point_id": "CP1", "password_action": "generate", **SETTINGS}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "new_password"
    shown = result["description_placeholders"]["password"]
    assert len(shown) == 20
    assert set(shown) <= set(PASSWORD_ALPHABET)
    assert charge_point_subentries(entry) == {}  # added only once confirmed
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert subentry_data(entry)["password"] == shown
    await hass.async_block_till_done()
    assert await connects(port_of(entry), shown)
    assert not await connects(port_of(entry), "some-other-password")


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("short-password", "password_length"),
        ("x" * 41, "password_length"),
        ("with spaces in it ok?", "password_characters"),
        ("naïve-password-here", "password_characters"),
        ("", "password_length"),
    ],
)
async def test_an_entered_password_must_be_usable(
    hass: HomeAssistant, setup_integration: MockConfigEntry, password: str, error: str
) -> None:
    result = await hass.config_entries.subentries.async_init(
        (setup_integration.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"charge_point_id": "CP1", "password_action": "enter", "password": password, **SETTINGS},
    )
    assert result["errors"] == {"password": error}


async def test_rotation_accepted_keeps_the_old_password_until_the_new_one_is_used(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await setup_secured(hass, {"security_profile": 1}, {"CP1": {"password": OLD}})
    port = port_of(entry)
    async with connect_charge_point(
        port, "/CP1", headers=basic("CP1", OLD), charge_point_class=CommandedChargePoint
    ) as charger:
        assert (await charger.boot()).status == RegistrationStatus.accepted
        result = await reconfigure(hass, entry, password_action="generate")
        assert result["step_id"] == "password_changed"
        placeholders = result["description_placeholders"]
        assert (placeholders["sent"], placeholders["delivery"]) == ("yes", "accepted")
        new = subentry_data(entry)["password"]
        # Sent as the 1.6 whitepaper says: the password's bytes as hex digits.
        assert (
            "ChangeConfiguration",
            {"key": "AuthorizationKey", "value": new.encode().hex()},
        ) in [(action, payload) for action, payload in charger.received]
        assert subentry_data(entry)["previous_password"] == OLD
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
        assert result["reason"] == "password_changed"

        # The secret is nowhere a user shares: diagnostics, the log, the store.
        device = dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, f"{entry.entry_id}_CP1"), entry.entry_id
        )
        assert device is not None
        summary = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        assert summary["security"] == {
            "minimum_profile": 1,
            "tls": False,
            "client_certificates": False,
        }
        assert summary["charge_points"]["charge_point_1"]["password_set"] is True
        shared = str(await get_diagnostics_for_device(hass, hass_client, entry, device))
        shared += str(summary)
        # (The charger's own side logs what it received: not ours to hide.)
        logged = "\n".join(
            record.getMessage()
            for record in caplog.records
            if record.name.startswith(("custom_components", "websockets.server"))
        )
        assert "> TEXT" in logged  # websockets' frames at DEBUG: the password's among them
        for secret in (new, new.encode().hex(), OLD):
            assert secret not in shared
            assert secret not in logged
        model = entry.runtime_data.central_system.charge_points["CP1"]
        assert model.configuration["AuthorizationKey"]["value"] != new.encode().hex()

    # It reconnects with the old one (not applied yet): still in.
    assert await connects(port, OLD)
    # Then with the new one, as it said it would: the old one is forgotten.
    assert await connects(port, new)
    await async_wait_until(hass, lambda: subentry_data(entry)["previous_password"] is None)
    assert not await connects(port, OLD)
    # A charger that sends the hex digits it was given means the same password.
    assert await connects(port, new.encode().hex().upper())


@pytest.mark.parametrize(
    ("answer", "delivery", "detail"),
    [("Rejected", "refused", "Rejected"), ("NotSupported", "refused", "NotSupported")],
)
async def test_rotation_refused_the_user_enters_it(
    hass: HomeAssistant, socket_enabled: None, answer: str, delivery: str, detail: str
) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": OLD}})
    port = port_of(entry)
    async with connect_charge_point(
        port, "/CP1", headers=basic("CP1", OLD), charge_point_class=CommandedChargePoint
    ) as charger:
        await charger.boot()
        charger.statuses["ChangeConfiguration"] = answer
        new = "a-password-i-typed-in"
        result = await reconfigure(hass, entry, password_action="enter", password=new)
        placeholders = result["description_placeholders"]
        assert placeholders["sent"] == "no"
        assert (placeholders["delivery"], placeholders["detail"]) == (delivery, detail)
        assert placeholders["generated"] == "no"
        assert placeholders["password"] == ""  # the user typed it: not shown back
        assert subentry_data(entry)["password"] == new
        assert subentry_data(entry)["previous_password"] is None
        # The open connection stays; the next one needs the new password.
        assert (await charger.status(1)) is not None
    assert not await connects(port, OLD)
    assert await connects(port, new)


async def test_rotation_of_an_offline_charger(hass: HomeAssistant, socket_enabled: None) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": OLD}})
    result = await reconfigure(hass, entry, password_action="generate")
    placeholders = result["description_placeholders"]
    assert (placeholders["sent"], placeholders["delivery"]) == ("no", "offline")
    assert placeholders["password"] == subentry_data(entry)["password"]  # shown: to enter it
    assert not await connects(port_of(entry), OLD)


async def test_rotation_without_an_answer(hass: HomeAssistant, socket_enabled: None) -> None:
    entry = await setup_secured(hass, {"command_timeout": 1}, {"CP1": {"password": OLD}})
    async with connect_charge_point(
        port_of(entry), "/CP1", headers=basic("CP1", OLD), charge_point_class=CommandedChargePoint
    ) as charger:
        await charger.boot()
        charger.silent.add("ChangeConfiguration")
        result = await reconfigure(hass, entry, password_action="generate")
    assert result["description_placeholders"]["delivery"] == "failed"
    assert subentry_data(entry)["previous_password"] is None


async def test_rotation_after_the_charger_went_away(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": OLD}})
    assert await connects(port_of(entry), OLD)  # known now, and gone again
    result = await reconfigure(hass, entry, password_action="generate")
    assert result["description_placeholders"]["delivery"] == "offline"


async def test_rotation_of_a_2_0_1_station(hass: HomeAssistant, socket_enabled: None) -> None:
    """SetVariables(SecurityCtrlr.BasicAuthPassword) with the password itself."""
    entry = await setup_secured(hass, {"security_profile": 1}, {"CP1": {"password": OLD}})
    port = port_of(entry)
    async with connect_v201(
        port, "/CP1", headers=basic("CP1", OLD), station_class=PasswordStation
    ) as station:
        assert isinstance(station, PasswordStation)
        await station.boot()
        result = await reconfigure(hass, entry, password_action="generate")
        placeholders = result["description_placeholders"]
        assert (placeholders["sent"], placeholders["delivery"]) == ("yes", "accepted")
        new = subentry_data(entry)["password"]
        assert station.set_variables == [("SecurityCtrlr", "BasicAuthPassword", new)]
    async with connect_v201(port, "/CP1", headers=basic("CP1", new)) as again:
        await again.boot()
    await async_wait_until(hass, lambda: subentry_data(entry)["previous_password"] is None)


async def test_rotation_where_the_version_has_no_password_key(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A version this central system could not tell a password in: the user enters it."""
    entry = await setup_secured(hass, {}, {"CP1": {"password": OLD}})
    async with connect_charge_point(
        port_of(entry), "/CP1", headers=basic("CP1", OLD), charge_point_class=CommandedChargePoint
    ) as charger:
        await charger.boot()
        # Stands in for a version spoken later (2.1) that has no way to set it yet.
        entry.runtime_data.central_system.charge_points["CP1"].subprotocol = "ocpp2.1"
        result = await reconfigure(hass, entry, password_action="generate")
        assert not [action for action, _ in charger.received if action == "ChangeConfiguration"]
    placeholders = result["description_placeholders"]
    assert (placeholders["delivery"], placeholders["detail"]) == ("unsupported", "ocpp2.1")


async def test_reconfigure_says_what_is_wrong(hass: HomeAssistant, socket_enabled: None) -> None:
    entry = await setup_secured(hass, {}, {"CP1": {"password": OLD}})
    result = await reconfigure(hass, entry, password_action="keep", password="typed-but-kept-0")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"password": "password_not_used"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SETTINGS, "password_action": "enter", "password": "short"}
    )
    assert result["errors"] == {"password": "password_length"}
    assert subentry_data(entry)["password"] == OLD


async def test_forgetting_the_previous_password_twice_or_too_late(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Two connections may confirm the new password at once; the subentry may be gone."""
    entry = await setup_secured(
        hass, {}, {"CP1": {"password": "the-new-password-1", "previous_password": OLD}}
    )
    central = entry.runtime_data
    central.password_confirmed("CP1")
    assert subentry_data(entry)["previous_password"] is None
    central.password_confirmed("CP1")
    central.password_confirmed("CP9")
    assert subentry_data(entry)["password"] == "the-new-password-1"


async def test_a_waiting_charger_of_a_version_without_the_key(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A version without a way to set it: nothing is sent, the user is told."""
    result = await async_send_password_to_waiting(
        setup_integration, "CP7", "ocpp2.1", "a-password-for-cp7"
    )
    assert (result.delivery, result.detail) == (Delivery.UNSUPPORTED, "ocpp2.1")


def test_diagnostics_hide_passwords_in_any_frame() -> None:
    """1.6 and 2.0.1 frames that set one, whole or cut short (a long frame in the log)."""
    model = ChargePoint("CP1")
    long_value = "7365637" + "0" * MAX_FRAME_TEXT
    for text in (
        '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"736563726574"}]',
        '[2,"2","ChangeConfiguration",{"key":"AuthorizationKey","value":"' + long_value + '"}]',
        '[2,"3","SetVariables",{"setVariableData":[{"attributeValue":"s3cret-value",'
        '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]',
    ):
        model.log_frame(Direction.SENT, text)
    frames = charge_point_diagnostics(model)["frames"]
    assert frames[1]["bytes"] > MAX_FRAME_TEXT  # shown cut
    shown = str(frames)
    for secret in ("736563726574", "7365637", "s3cret-value"):
        assert secret not in shown
    assert "SecurityCtrlr" in shown
