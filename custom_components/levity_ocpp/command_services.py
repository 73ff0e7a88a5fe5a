"""Actions that send commands to a charge point or connector device."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .command_target import (
    AMPS_FIELD,
    ID_TAG_FIELD,
    SECONDS_FIELD,
    TRIGGERABLE_MESSAGES,
    URL_FIELD,
    action_schema,
    target_of,
)
from .const import CONF_ID_TAG, DEFAULT_ID_TAG, DOMAIN
from .csms import commands as c
from .csms.limits import transaction_limit_profile
from .current_limit import async_set_current_limit
from .profile_schema import MAX_INT32, parse_profile


def _plain(value: Any) -> Any:
    """A charger's data as JSON: the ocpp library reads its numbers as Decimal."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _aware(value: Any) -> Any:
    """Times typed without a zone are in Home Assistant's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


async def _start_charging(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    connector_id = target.one_connector()
    if connector_id is not None:
        running = target.charge_point.connector(connector_id).transaction
        if running is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="transaction_running",
                translation_placeholders={
                    "charge_point": target.charge_point.id,
                    "connector_id": str(connector_id),
                    "transaction_id": str(running.transaction_id),
                },
            )
    options = target.central.entry.options
    id_tag = call.data.get("id_tag") or options.get(CONF_ID_TAG, DEFAULT_ID_TAG)
    amps: float | None = call.data.get("current_limit")
    profile = None if amps is None else transaction_limit_profile(target.charge_point, amps)
    await target.execute(c.StartCharging(id_tag, connector_id, profile))
    return None


async def _stop_charging(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    if target.connector_id is not None:
        candidates = [target.connector_id]
    else:  # the charge point: whichever connector is charging, if only one is
        candidates = target.charge_point.connector_ids
    running = [
        transaction
        for cid in candidates
        if (transaction := target.charge_point.connector(cid).transaction) is not None
    ]
    if not running:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_transaction",
            translation_placeholders={"charge_point": target.charge_point.id},
        )
    if len(running) > 1:
        target.required_connector()  # raises: several connectors charging, none named
    await target.execute(c.StopCharging(running[0].transaction_id))
    return None


async def _reset(call: ServiceCall) -> ServiceResponse:
    await target_of(call).execute(c.Reset(c.ResetKind(call.data["kind"])))
    return None


async def _unlock(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    await target.execute(c.UnlockConnector(target.required_connector()))
    return None


async def _set_availability(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    command = c.SetAvailability(target.connector_or_charger(), call.data["available"])
    result = await target.execute(command)
    return {"status": result.status}


async def _get_configuration(call: ServiceCall) -> ServiceResponse:
    keys = tuple(call.data.get("keys", ()))
    result = await target_of(call).execute(c.GetConfiguration(keys))
    return {
        "configuration": _plain(result.data.get("configuration_key", [])),
        "unknown_keys": list(result.data.get("unknown_key", [])),
    }


async def _set_configuration(call: ServiceCall) -> ServiceResponse:
    command = c.SetConfiguration(call.data["key"], call.data["value"])
    result = await target_of(call).execute(command)
    return {
        "status": result.status,
        "reboot_required": result.status == c.Status.REBOOT_REQUIRED,
    }


async def _trigger_message(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    await target.execute(c.TriggerMessage(call.data["message"], target.connector_id))
    return None


async def _set_current_limit(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    # A single-connector charger's device is its connector (the number's own limit);
    # a multi-connector charger's device without a connector is the whole charger.
    connector_id = target.connector_or_charger()
    if target.connector_id is None and len(target.charge_point.connector_ids) == 1:
        connector_id = target.charge_point.connector_ids[0]
    await async_set_current_limit(
        target.central, target.charge_point, connector_id, call.data["current_limit"]
    )
    return None


async def _set_charging_profile(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    connector_id = target.connector_or_charger()
    profile = parse_profile(call.data["profile"], connector_id)
    await target.execute(c.SetChargingProfile(connector_id, profile))
    return None


async def _clear_charging_profile(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    purpose = call.data.get("purpose")
    command = c.ClearChargingProfile(
        profile_id=call.data.get("profile_id"),
        connector_id=target.connector_id,
        purpose=c.ChargingPurpose(purpose) if purpose else None,
        stack_level=call.data.get("stack_level"),
    )
    result = await target.execute(command)
    return {"status": result.status}


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    target = target_of(call)
    unit = call.data.get("unit")
    command = c.GetCompositeSchedule(
        target.connector_or_charger(), call.data["duration"], c.RateUnit(unit) if unit else None
    )
    result = await target.execute(command)
    return {"status": result.status, **_plain(result.data)}


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    command = c.DataTransfer(
        call.data["vendor_id"], call.data.get("message_id"), call.data.get("data")
    )
    # What a vendor's status means is for the caller to judge: returned, not raised.
    result = await target_of(call).execute(command, refusal_is_result=True)
    return {"status": result.status, "data": _plain(result.data.get("data"))}


async def _get_diagnostics(call: ServiceCall) -> ServiceResponse:
    command = c.GetDiagnostics(
        location=call.data["location"],
        start=_aware(call.data.get("start")),
        stop=_aware(call.data.get("stop")),
        retries=call.data.get("retries"),
        retry_interval_s=call.data.get("retry_interval"),
    )
    result = await target_of(call).execute(command)
    return {"file_name": result.data.get("file_name")}


async def _update_firmware(call: ServiceCall) -> ServiceResponse:
    command = c.UpdateFirmware(
        location=call.data["location"],
        retrieve_at=_aware(call.data.get("retrieve_at")) or dt_util.utcnow(),
        retries=call.data.get("retries"),
        retry_interval_s=call.data.get("retry_interval"),
    )
    await target_of(call).execute(command)
    return None


class ReservationIds:
    """Reservation ids: seconds since 1970 at start-up, then one more each time.

    Not stored: a restart starts above every id of the previous run unless that
    run made more reservations than it lasted seconds.
    """

    def __init__(self) -> None:
        """Start at the current time (fits OCPP's 32-bit integer until 2038)."""
        self._last = int(dt_util.utcnow().timestamp()) % MAX_INT32

    def next(self) -> int:
        """A reservation id not used before in this run."""
        self._last = self._last % MAX_INT32 + 1
        return self._last


def _reserve(ids: ReservationIds) -> Handler:
    async def reserve(call: ServiceCall) -> ServiceResponse:
        target = target_of(call)
        command = c.ReserveNow(
            connector_id=target.connector_or_charger(),
            expiry=_aware(call.data["expiry"]),
            id_tag=call.data["id_tag"],
            reservation_id=ids.next(),
        )
        await target.execute(command)
        return {"reservation_id": command.reservation_id}

    return reserve


async def _cancel_reservation(call: ServiceCall) -> ServiceResponse:
    await target_of(call).execute(c.CancelReservation(call.data["reservation_id"]))
    return None


_PURPOSES = [purpose.value for purpose in c.ChargingPurpose]
_UNITS = [unit.value for unit in c.RateUnit]
_RETRIES = {
    probatio.Optional("retries"): probatio.All(
        probatio.Coerce(int), probatio.Range(min=0, max=100)
    ),
    probatio.Optional("retry_interval"): SECONDS_FIELD,
}

type Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


def _actions(ids: ReservationIds) -> list[tuple[str, Handler, probatio.Schema, SupportsResponse]]:
    none, optional, only = SupportsResponse.NONE, SupportsResponse.OPTIONAL, SupportsResponse.ONLY
    return [
        (
            "start_charging",
            _start_charging,
            action_schema(
                {
                    probatio.Optional("id_tag"): ID_TAG_FIELD,
                    probatio.Optional("current_limit"): AMPS_FIELD,
                }
            ),
            none,
        ),
        ("stop_charging", _stop_charging, action_schema(), none),
        (
            "reset",
            _reset,
            action_schema(
                {probatio.Optional("kind", default="soft"): probatio.In(["soft", "hard"])},
                connector=False,
            ),
            none,
        ),
        ("unlock", _unlock, action_schema(), none),
        (
            "set_availability",
            _set_availability,
            action_schema({probatio.Required("available"): cv.boolean}),
            optional,
        ),
        (
            "get_configuration",
            _get_configuration,
            action_schema(
                {
                    probatio.Optional("keys"): probatio.All(
                        cv.ensure_list, [probatio.All(cv.string, probatio.Length(max=50))]
                    )
                },
                connector=False,
            ),
            only,
        ),
        (
            "set_configuration",
            _set_configuration,
            action_schema(
                {
                    probatio.Required("key"): probatio.All(
                        cv.string, probatio.Length(min=1, max=50)
                    ),
                    probatio.Required("value"): probatio.All(cv.string, probatio.Length(max=500)),
                },
                connector=False,
            ),
            optional,
        ),
        (
            "trigger_message",
            _trigger_message,
            action_schema({probatio.Required("message"): probatio.In(TRIGGERABLE_MESSAGES)}),
            none,
        ),
        (
            "set_current_limit",
            _set_current_limit,
            action_schema({probatio.Required("current_limit"): AMPS_FIELD}),
            none,
        ),
        (
            "set_charging_profile",
            _set_charging_profile,
            action_schema({probatio.Required("profile"): dict}),
            none,
        ),
        (
            "clear_charging_profile",
            _clear_charging_profile,
            action_schema(
                {
                    probatio.Optional("profile_id"): SECONDS_FIELD,
                    probatio.Optional("purpose"): probatio.In(_PURPOSES),
                    probatio.Optional("stack_level"): SECONDS_FIELD,
                }
            ),
            optional,
        ),
        (
            "get_composite_schedule",
            _get_composite_schedule,
            action_schema(
                {
                    probatio.Required("duration"): SECONDS_FIELD,
                    probatio.Optional("unit"): probatio.In(_UNITS),
                }
            ),
            only,
        ),
        (
            "data_transfer",
            _data_transfer,
            action_schema(
                {
                    probatio.Required("vendor_id"): probatio.All(
                        cv.string, probatio.Length(min=1, max=255)
                    ),
                    probatio.Optional("message_id"): probatio.All(
                        cv.string, probatio.Length(max=50)
                    ),
                    probatio.Optional("data"): cv.string,
                },
                connector=False,
            ),
            optional,
        ),
        (
            "get_diagnostics",
            _get_diagnostics,
            action_schema(
                {
                    probatio.Required("location"): URL_FIELD,
                    probatio.Optional("start"): cv.datetime,
                    probatio.Optional("stop"): cv.datetime,
                    **_RETRIES,
                },
                connector=False,
            ),
            optional,
        ),
        (
            "update_firmware",
            _update_firmware,
            action_schema(
                {
                    probatio.Required("location"): URL_FIELD,
                    probatio.Optional("retrieve_at"): cv.datetime,
                    **_RETRIES,
                },
                connector=False,
            ),
            none,
        ),
        (
            "reserve",
            _reserve(ids),
            action_schema(
                {
                    probatio.Required("id_tag"): ID_TAG_FIELD,
                    probatio.Required("expiry"): cv.datetime,
                }
            ),
            optional,
        ),
        (
            "cancel_reservation",
            _cancel_reservation,
            action_schema(
                {probatio.Required("reservation_id"): probatio.Coerce(int)}, connector=False
            ),
            none,
        ),
    ]


def async_setup_command_services(hass: HomeAssistant) -> None:
    """Register the actions that command a charge point."""
    for name, handler, schema, supports_response in _actions(ReservationIds()):
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports_response
        )
