"""Which charge point and connector an action means, and the fields actions share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import probatio

from .central import LevityCentral
from .const import DOMAIN
from .control import async_execute
from .csms import commands as c
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from .devices import device_filter
from .profile_schema import MAX_INT32

ATTR_CONNECTOR_ID = "connector_id"
TRIGGERABLE_MESSAGES = (
    "BootNotification",
    "StatusNotification",
    "MeterValues",
    "Heartbeat",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)

CONNECTOR_FIELD = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=MAX_INT32))
AMPS_FIELD = probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=1000))
SECONDS_FIELD = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=MAX_INT32))
ID_TAG_FIELD = probatio.All(cv.string, probatio.Length(min=1, max=20))  # OCPP 1.6 CiString20
URL_FIELD = probatio.All(cv.string, probatio.Length(min=1, max=512))


def action_schema(
    fields: dict[Any, Any] | None = None, *, connector: bool = True
) -> probatio.Schema:
    """A device, a connector where the action has one, and the action's own fields."""
    target: dict[Any, Any] = {probatio.Required(ATTR_DEVICE_ID): cv.string}
    if connector:
        target[probatio.Optional(ATTR_CONNECTOR_ID)] = CONNECTOR_FIELD
    return probatio.Schema({**target, **(fields or {})})


@dataclass(frozen=True, slots=True)
class Target:
    """The charge point an action is for, and the connector it named (if any)."""

    central: LevityCentral
    charge_point: ChargePoint
    connector_id: int | None

    def one_connector(self) -> int | None:
        """The named connector, else the only one a single-connector charger has."""
        if self.connector_id == CHARGE_POINT_CONNECTOR:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_connector",
                translation_placeholders={"charge_point": self.charge_point.id},
            )
        if self.connector_id is not None:
            return self.connector_id
        connectors = self.charge_point.connector_ids
        return connectors[0] if len(connectors) == 1 else 1 if not connectors else None

    def required_connector(self) -> int:
        """The connector the action needs: named, or the charger's only one."""
        if (connector_id := self.one_connector()) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="connector_required",
                translation_placeholders={"charge_point": self.charge_point.id},
            )
        return connector_id

    def connector_or_charger(self) -> int:
        """The named connector, else 0: the charge point as a whole."""
        return CHARGE_POINT_CONNECTOR if self.connector_id is None else self.connector_id

    async def execute(
        self, command: c.Command, *, refusal_is_result: bool = False
    ) -> c.CommandResult:
        """Send the command to this charge point."""
        return await async_execute(
            self.central, self.charge_point.id, command, refusal_is_result=refusal_is_result
        )


def target_of(call: ServiceCall) -> Target:
    """Resolve the device (and connector) an action names; ServiceValidationError if wrong."""
    entry, charge_point_id, device_connector = device_filter(call.hass, call.data[ATTR_DEVICE_ID])
    charge_point = entry.runtime_data.charge_points[charge_point_id]
    given: int | None = call.data.get(ATTR_CONNECTOR_ID)
    if device_connector is not None and given is not None and given != device_connector:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="connector_mismatch",
            translation_placeholders={
                "device_connector": str(device_connector),
                "connector_id": str(given),
            },
        )
    connector_id = device_connector if device_connector is not None else given
    known = charge_point.connector_ids
    # A charger that has not reported its connectors yet gets the benefit of the doubt.
    if connector_id not in (None, CHARGE_POINT_CONNECTOR) and known and connector_id not in known:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_connector",
            translation_placeholders={
                "charge_point": charge_point_id,
                "connector_id": str(connector_id),
            },
        )
    return Target(entry.runtime_data, charge_point, connector_id)
