"""Logbook lines for session events, as HA's logbook asks the integration for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.logbook import async_describe_events
from custom_components.levity_ocpp.session_events import (
    EVENT_SESSION_STARTED,
    EVENT_SESSION_STOPPED,
    EVENT_SESSION_UPDATED,
)

RECORD = {
    "charge_point_id": "CP1",
    "connector_id": 2,
    "transaction_id": 17,
    "id_tag": "RESIDENT-7",
    "energy_kwh": 12.3456,
    "stop_reason": "EVDisconnected",
}


def describers(hass: HomeAssistant) -> dict[str, Callable[[Event], dict[str, Any]]]:
    found: dict[str, Callable[[Event], dict[str, Any]]] = {}

    def describe(domain: str, event_type: str, fn: Callable[[Event], dict[str, Any]]) -> None:
        assert domain == DOMAIN
        found[event_type] = fn

    async_describe_events(hass, describe)
    return found


def line(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return describers(hass)[event_type](Event(event_type, data))


async def test_session_events_read_as_sentences(hass: HomeAssistant) -> None:
    assert set(describers(hass)) == {
        EVENT_SESSION_STARTED,
        EVENT_SESSION_STOPPED,
        EVENT_SESSION_UPDATED,
    }
    started = line(hass, EVENT_SESSION_STARTED, RECORD)
    assert started[LOGBOOK_ENTRY_NAME] == "CP1"
    assert started[LOGBOOK_ENTRY_MESSAGE] == (
        "started charging session 17 on connector 2 for RESIDENT-7"
    )
    stopped = line(hass, EVENT_SESSION_STOPPED, RECORD)
    assert stopped[LOGBOOK_ENTRY_MESSAGE] == (
        "ended charging session 17 on connector 2: 12.346 kWh for RESIDENT-7 (EVDisconnected)"
    )
    no_reason = line(hass, EVENT_SESSION_STOPPED, {**RECORD, "stop_reason": None})
    assert no_reason[LOGBOOK_ENTRY_MESSAGE].endswith("for RESIDENT-7")
    updated = line(hass, EVENT_SESSION_UPDATED, RECORD)
    assert updated[LOGBOOK_ENTRY_MESSAGE] == (
        "completed charging session 17 from the charger's late report: 12.346 kWh for RESIDENT-7"
    )
