"""New charge points in HA: offered as discoveries, added as subentries, or ignored.

A charger the user has not approved boots Pending; the central system tells us
(`charge_point_pending`) and we start a discovery flow for it. Add creates its
`charge_point` subentry, which the central system reads live. HA's own Ignore
creates an ignored config entry with the flow's unique id; the central system
answers that charger Rejected until the user removes the ignored entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow

from .charge_point_settings import charge_point_subentries, data_from_settings
from .const import DOMAIN, SUBENTRY_CHARGE_POINT
from .csms.admission import UnknownChargePoint
from .csms.settings import ChargePointSettings

# Keys of a discovery flow's data (what the charger said, as the flow shows it).
ENTRY_ID = "entry_id"
CHARGE_POINT_ID = "charge_point_id"
VENDOR = "vendor"
MODEL = "model"
SERIAL_NUMBER = "serial_number"
FIRMWARE_VERSION = "firmware_version"
REMOTE_ADDRESS = "remote_address"
SUBPROTOCOL = "subprotocol"

# What a charger says about itself is shown at most this long.
MAX_SHOWN = 64


def flow_unique_id(entry_id: str, charge_point_id: str) -> str:
    """The unique id of the discovery of a charge point (per central system).

    Also the unique id of the ignored entry HA makes when the user ignores it.
    Entry ids have no underscore, so the first one separates the two.
    """
    return f"{entry_id}_{charge_point_id}"


def ignored_charge_points(hass: HomeAssistant, entry: ConfigEntry) -> set[str]:
    """The ids of the charge points the user ignored on this central system."""
    prefix = flow_unique_id(entry.entry_id, "")
    return {
        ignored.unique_id.removeprefix(prefix)
        for ignored in hass.config_entries.async_entries(DOMAIN)
        if ignored.source == SOURCE_IGNORE
        and ignored.unique_id is not None
        and ignored.unique_id.startswith(prefix)
    }


def discovery_data(entry: ConfigEntry, charge_point: UnknownChargePoint) -> dict[str, Any]:
    """What a discovery flow is told about a waiting charger."""
    identity = charge_point.identity
    return {
        ENTRY_ID: entry.entry_id,
        CHARGE_POINT_ID: charge_point.id,
        VENDOR: identity.vendor,
        MODEL: identity.model,
        SERIAL_NUMBER: identity.serial_number,
        FIRMWARE_VERSION: identity.firmware_version,
        REMOTE_ADDRESS: charge_point.remote_address,
        SUBPROTOCOL: charge_point.subprotocol,
    }


@callback
def async_offer(hass: HomeAssistant, entry: ConfigEntry, charge_point: UnknownChargePoint) -> None:
    """Show the user a waiting charger: a discovery flow to add or ignore it."""
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data=discovery_data(entry, charge_point),
    )


@callback
def async_withdraw(hass: HomeAssistant, entry: ConfigEntry, charge_point_id: str) -> None:
    """The charger is no longer waiting: its discovery goes away."""
    unique_id = flow_unique_id(entry.entry_id, charge_point_id)
    for flow in hass.config_entries.flow.async_progress_by_handler(
        DOMAIN, match_context={"unique_id": unique_id}
    ):
        hass.config_entries.flow.async_abort(flow["flow_id"])


@callback
def async_approve(
    hass: HomeAssistant,
    entry: ConfigEntry,
    charge_point_id: str,
    settings: ChargePointSettings,
) -> ConfigSubentry:
    """Add a charge point's subentry: from now on it is approved (read live)."""
    subentry = ConfigSubentry(
        data=MappingProxyType(data_from_settings(charge_point_id, settings)),
        subentry_type=SUBENTRY_CHARGE_POINT,
        title=charge_point_id,
        unique_id=charge_point_id,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


def initial_settings(subprotocol: str | None) -> ChargePointSettings:
    """The settings a new charger starts with, from what its connection showed.

    One that offered no OCPP subprotocol must be allowed to keep doing so.
    """
    return ChargePointSettings(subprotocol_optional=subprotocol is None)


def is_approved(entry: ConfigEntry, charge_point_id: str) -> bool:
    """Whether a charge point already has its subentry."""
    return charge_point_id in charge_point_subentries(entry)


def shown(text: object) -> str:
    """What a charger says, fit to show: printable, bounded, and no way out of a code span.

    The Add step shows these in `code` (no markdown, no links however a
    charger names itself); the title is plain text.
    """
    printable = "".join(char for char in str(text) if char.isprintable() and char != "`")
    return printable[:MAX_SHOWN] or "-"


def description_placeholders(entry: ConfigEntry, data: Mapping[str, Any]) -> dict[str, str]:
    """The placeholders of the discovery's title and its Add step."""
    details = ", ".join(shown(data[key]) for key in (VENDOR, MODEL, SERIAL_NUMBER) if data.get(key))
    charge_point_id = shown(data[CHARGE_POINT_ID])
    return {
        CHARGE_POINT_ID: charge_point_id,
        # The discovery card's title ("CP7 (Vendor, Model)"), shared with id tag offers.
        "name": f"{charge_point_id} ({details})" if details else charge_point_id,
        "details": details,
        **{
            key: shown(data.get(key) or "-")
            for key in (VENDOR, MODEL, SERIAL_NUMBER, FIRMWARE_VERSION, REMOTE_ADDRESS)
        },
        "central_system": shown(entry.title),
    }
