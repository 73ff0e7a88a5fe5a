"""Helpers for the command action tests: calling an action, finding a charger's device."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceResponse
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .commanded import CommandedChargePoint
from .conftest import Connect
from .test_connection import device_named

# Actions that return a response (the others do not take return_response).
WITH_RESPONSE = frozenset(
    {
        "set_availability",
        "get_configuration",
        "set_configuration",
        "clear_charging_profile",
        "get_composite_schedule",
        "data_transfer",
        "get_diagnostics",
        "reserve",
    }
)

SCHEDULE = {
    "duration": 60,
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
}


class ScheduledChargePoint(CommandedChargePoint):
    """Also answers GetCompositeSchedule with a schedule, and reports its max stack level."""

    __test__ = False
    configuration_keys = [  # noqa: RUF012 - a test table
        *CommandedChargePoint.configuration_keys,
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "4"},
    ]

    @on(Action.get_composite_schedule)
    # The same name as the parent's handler, so it replaces it.
    async def on_GetCompositeSchedule(self, **payload: Any) -> Any:
        await self.answer(Action.get_composite_schedule, payload)
        return call_result.GetCompositeSchedule(
            status=self.statuses.get(Action.get_composite_schedule, "Accepted"),
            connector_id=payload["connector_id"],
            schedule_start="2026-12-01T08:00:00Z",
            charging_schedule=SCHEDULE,
        )


def commanded(connect: Connect, path: str = "/CP1") -> Any:
    """Connect a charger that answers commands as told."""
    return connect(path, charge_point_class=ScheduledChargePoint)


async def act(hass: HomeAssistant, action: str, **data: Any) -> ServiceResponse:
    """Call an action the way an automation does, and return its response."""
    return await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=action in WITH_RESPONSE
    )


def device_id(hass: HomeAssistant, entry: MockConfigEntry, name: str = "CP1") -> str:
    """The device id of a charge point, by its name."""
    device = device_named(hass, entry, name)
    assert device is not None, name
    return device.id
