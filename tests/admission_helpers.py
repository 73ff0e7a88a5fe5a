"""What the approval tests share: a central system that asks first, and a charger that obeys."""

from __future__ import annotations

import asyncio
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, TriggerMessageStatus
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.charge_point_settings import data_from_settings
from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
    SUBENTRY_CHARGE_POINT,
)
from custom_components.levity_ocpp.csms.settings import ChargePointSettings
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import ConfiguredChargePoint


def asking_entry(**options: Any) -> MockConfigEntry:
    """A central system whose new charge points wait for the user (the HA default)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, CONF_ADMISSION_POLICY: "approve", **options},
        minor_version=MINOR_VERSION,
    )


def approve(hass: HomeAssistant, entry: MockConfigEntry, charge_point_id: str) -> ConfigSubentry:
    """Add a charge point by hand (its subentry), as the user would in the UI."""
    subentry = ConfigSubentry(
        data=MappingProxyType(data_from_settings(charge_point_id, ChargePointSettings())),
        subentry_type=SUBENTRY_CHARGE_POINT,
        title=charge_point_id,
        unique_id=charge_point_id,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


def discoveries(hass: HomeAssistant) -> dict[str, Any]:
    """The new charge points offered to the user, by their flow's unique id."""
    return {
        flow["context"]["unique_id"]: flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "integration_discovery"
    }


def devices_and_entities(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[list[Any], ...]:
    """Everything the registries hold for a central system."""
    return (
        dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id),
        er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id),
    )


class ObedientChargePoint(ConfiguredChargePoint):
    """A charger that boots again when asked (TriggerMessage) and remembers the answers."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing asked, nothing answered yet."""
        super().__init__(*args, **kwargs)
        self.triggers: list[str] = []
        self.boot_replies: asyncio.Queue[Any] = asyncio.Queue()

    async def boot(self, **fields: Any) -> Any:
        """Boot (with a serial number); the central system's answer is also queued."""
        fields.setdefault("charge_box_serial_number", "SN-7")
        reply = await super().boot(**fields)
        self.boot_replies.put_nowait(reply)
        return reply

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        """Accept, then send what was asked for (a BootNotification only, here)."""
        self.triggers.append(requested_message)
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    @after(Action.trigger_message)
    async def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> None:
        """Boot as asked."""
        if requested_message == "BootNotification":
            await self.boot()
