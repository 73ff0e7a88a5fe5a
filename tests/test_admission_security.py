"""Adding a waiting charger gives it a password; admission and security options agree."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.charge_point_settings import charge_point_subentries

from .admission_helpers import ObedientChargePoint, asking_entry, discoveries
from .client import connect_charge_point
from .conftest import async_wait_until, open_options_step
from .security_helpers import basic, charge_point_subentry, port_of


class ConfigurableChargePoint(ObedientChargePoint):
    """Obeys boot requests and answers ChangeConfiguration as told, remembering it."""

    __test__ = False
    configuration_status = "Accepted"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing changed yet."""
        super().__init__(*args, **kwargs)
        self.changes: list[tuple[str, str]] = []

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        """Take the change (or not) as configured."""
        self.changes.append((key, value))
        return call_result.ChangeConfiguration(status=self.configuration_status)


async def set_up(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """A central system that asks before adding, with these options."""
    entry = asking_entry(**options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def waiting_flow(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """The discovery flow of CP7, once it waits."""
    unique_id = f"{entry.entry_id}_CP7"
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_until(hass, lambda: unique_id in discoveries(hass))
    return discoveries(hass)[unique_id]


@pytest.mark.parametrize(
    ("answer", "sent", "delivery"),
    [("Accepted", "yes", "accepted"), ("NotSupported", "no", "refused")],
)
async def test_add_generates_the_password_and_sends_it_while_waiting(
    hass: HomeAssistant, socket_enabled: None, answer: str, sent: str, delivery: str
) -> None:
    entry = await set_up(hass, security_profile=1)
    port = port_of(entry)
    # Not added yet: no credentials to check, only its boot is taken.
    async with connect_charge_point(
        port, "/CP7", charge_point_class=ConfigurableChargePoint
    ) as cp7:
        assert isinstance(cp7, ConfigurableChargePoint)
        cp7.configuration_status = answer
        assert (await cp7.boot()).status == RegistrationStatus.pending
        cp7.boot_replies.get_nowait()
        flow = await waiting_flow(hass, entry)
        # Profile 1: a password is generated unless the user chooses otherwise.
        form = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"password_action": "enter", "password": "short"}
        )
        assert form["type"] is FlowResultType.FORM
        assert form["errors"] == {"password": "password_length"}
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["reason"] == "charge_point_added"
        placeholders = result["description_placeholders"]
        password = charge_point_subentries(entry)["CP7"].data["password"]
        assert placeholders["password_set"] == "yes"
        assert (placeholders["sent"], placeholders["delivery"]) == (sent, delivery)
        assert placeholders["password"] == password  # shown once, here
        # Sent while it waited (OCPP 1.6 allows configuring a Pending charger).
        assert cp7.changes == [("AuthorizationKey", password.encode().hex())]
        reply = await asyncio.wait_for(cp7.boot_replies.get(), 5)
        assert reply.status == RegistrationStatus.accepted
    # From now on it must present it.
    async with connect_charge_point(
        port, "/CP7", headers=basic("CP7", password), charge_point_class=ConfigurableChargePoint
    ) as again:
        assert (await again.boot()).status == RegistrationStatus.accepted


async def test_add_without_a_password_at_profile_0(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    entry = await set_up(hass)
    async with connect_charge_point(
        port_of(entry), "/CP7", charge_point_class=ConfigurableChargePoint
    ) as cp7:
        assert isinstance(cp7, ConfigurableChargePoint)
        await cp7.boot()
        flow = await waiting_flow(hass, entry)
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["description_placeholders"]["password_set"] == "no"
        assert cp7.changes == []
    assert charge_point_subentries(entry)["CP7"].data["password"] is None


async def test_add_of_a_charger_gone_meanwhile_shows_its_password(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    entry = await set_up(hass, security_profile=1)
    async with connect_charge_point(
        port_of(entry), "/CP7", charge_point_class=ConfigurableChargePoint
    ) as cp7:
        await cp7.boot()
        flow = await waiting_flow(hass, entry)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"password_action": "enter", "password": "my-own-password-1"}
    )
    placeholders = result["description_placeholders"]
    assert (placeholders["sent"], placeholders["delivery"]) == ("no", "offline")
    assert (placeholders["generated"], placeholders["password"]) == ("no", "")
    assert charge_point_subentries(entry)["CP7"].data["password"] == "my-own-password-1"


async def test_automatic_adding_needs_profile_0_or_3(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """At 1 and 2 a charger added as it connects would have no password: refused next time."""
    entry = await set_up(hass, admission_policy="accept")
    result = await open_options_step(hass, entry, "security")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"security_profile": "1", "allow_old_tls": False}
    )
    assert result["errors"] == {"security_profile": "accept_needs_profile_0_or_3"}

    hass.config_entries.async_update_entry(entry, options={"security_profile": 1})
    await hass.async_block_till_done()
    result = await open_options_step(hass, entry, "admission")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"admission_policy": "accept"}
    )
    assert result["errors"] == {"admission_policy": "accept_needs_profile_0_or_3"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"admission_policy": "approve"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_profile_1_only_once_every_charger_has_a_password(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    entry = await set_up(hass)
    for charge_point_id, password in (("CP1", "a-password-for-cp1"), ("CP2", None), ("CP3", None)):
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(**charge_point_subentry(charge_point_id, password=password)),
        )
    await hass.async_block_till_done()
    result = await open_options_step(hass, entry, "security")
    assert result["description_placeholders"] == {"without_password": "CP2, CP3"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"security_profile": "1", "allow_old_tls": False}
    )
    assert result["errors"] == {"security_profile": "charge_points_without_password"}
    # Profile 0 is always possible.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"security_profile": "0", "allow_old_tls": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
