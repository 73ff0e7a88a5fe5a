"""Readable logbook lines for charging sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN
from .recorder import EVENT_SESSION_STARTED, EVENT_SESSION_STOPPED, EVENT_SESSION_UPDATED


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe session started/stopped events."""

    @callback
    def describe_started(event: Event) -> dict[str, Any]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: data["charge_point_id"],
            LOGBOOK_ENTRY_MESSAGE: (
                f"started charging session {data['transaction_id']} on connector "
                f"{data['connector_id']} for {data['id_tag']}"
            ),
        }

    @callback
    def describe_stopped(event: Event) -> dict[str, Any]:
        data = event.data
        reason = f" ({data['stop_reason']})" if data.get("stop_reason") else ""
        return {
            LOGBOOK_ENTRY_NAME: data["charge_point_id"],
            LOGBOOK_ENTRY_MESSAGE: (
                f"ended charging session {data['transaction_id']} on connector "
                f"{data['connector_id']}: {data['energy_kwh']:.3f} kWh for "
                f"{data['id_tag']}{reason}"
            ),
        }

    @callback
    def describe_updated(event: Event) -> dict[str, Any]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: data["charge_point_id"],
            LOGBOOK_ENTRY_MESSAGE: (
                f"completed charging session {data['transaction_id']} from the charger's "
                f"late report: {data['energy_kwh']:.3f} kWh for {data['id_tag']}"
            ),
        }

    async_describe_event(DOMAIN, EVENT_SESSION_STARTED, describe_started)
    async_describe_event(DOMAIN, EVENT_SESSION_UPDATED, describe_updated)
    async_describe_event(DOMAIN, EVENT_SESSION_STOPPED, describe_stopped)
