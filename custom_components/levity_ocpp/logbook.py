"""Readable logbook lines for charging sessions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN
from .session_events import EVENT_SESSION_STARTED, EVENT_SESSION_STOPPED, EVENT_SESSION_UPDATED


def _started(data: Mapping[str, Any]) -> str:
    return (
        f"started charging session {data['transaction_id']} on connector "
        f"{data['connector_id']} for {data['id_tag']}"
    )


def _stopped(data: Mapping[str, Any]) -> str:
    reason = f" ({data['stop_reason']})" if data.get("stop_reason") else ""
    return (
        f"ended charging session {data['transaction_id']} on connector "
        f"{data['connector_id']}: {data['energy_kwh']:.3f} kWh for {data['id_tag']}{reason}"
    )


def _updated(data: Mapping[str, Any]) -> str:
    return (
        f"completed charging session {data['transaction_id']} from the charger's late "
        f"report: {data['energy_kwh']:.3f} kWh for {data['id_tag']}"
    )


MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    EVENT_SESSION_STARTED: _started,
    EVENT_SESSION_STOPPED: _stopped,
    EVENT_SESSION_UPDATED: _updated,
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the session events, named after their charge point."""

    def describer(message: Callable[[Mapping[str, Any]], str]) -> Callable[[Event], dict[str, Any]]:
        @callback
        def describe(event: Event) -> dict[str, Any]:
            return {
                LOGBOOK_ENTRY_NAME: event.data["charge_point_id"],
                LOGBOOK_ENTRY_MESSAGE: message(event.data),
            }

        return describe

    for event_type, message in MESSAGES.items():
        async_describe_event(DOMAIN, event_type, describer(message))
