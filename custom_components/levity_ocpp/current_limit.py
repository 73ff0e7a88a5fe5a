"""Setting, keeping and restoring a connector's current limit from Home Assistant."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .control import async_execute
from .csms.commands import CommandFailed, CommandNotApplicable, GetCompositeSchedule, RateUnit
from .csms.limits import (
    LimitProfile,
    allowed_current,
    composite_limit_a,
    limit_command,
    takes_amperes,
)
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint

_LOGGER = logging.getLogger(__name__)

# How far ahead the charger's composite schedule is read back.
READ_BACK_S = 300
# The charger learns its transaction id from our reply; its TxProfile follows.
TX_PROFILE_DELAY_S = 1.0
# Two limits closer than this are the same (rounding to 0.1 A, W converted back).
SAME_LIMIT_A = 0.5

if TYPE_CHECKING:
    from .central import LevityCentral


async def async_set_current_limit(
    central: LevityCentral,
    charge_point: ChargePoint,
    connector_id: int,
    amps: float,
    *,
    keep: bool = True,
) -> None:
    """Limit a connector to `amps` (0: pause); kept (`keep`) only once the charger took it."""
    if 0 < amps < charge_point.min_current_a:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="limit_below_minimum",
            translation_placeholders={
                "charge_point": charge_point.id,
                "limit": f"{amps:g}",
                "minimum": f"{charge_point.min_current_a:g}",
            },
        )
    if amps > charge_point.max_current_a:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="limit_above_maximum",
            translation_placeholders={
                "charge_point": charge_point.id,
                "limit": f"{amps:g}",
                "maximum": f"{charge_point.max_current_a:g}",
            },
        )
    amps = allowed_current(charge_point, amps)
    try:
        command = limit_command(
            charge_point,
            connector_id,
            amps,
            LimitProfile(charge_point.limit_profile),
            dt_util.utcnow(),
        )
    except CommandNotApplicable as error:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_not_applicable",
            translation_placeholders={
                "charge_point": charge_point.id,
                "command": "set current limit",
                "detail": error.detail,
            },
        ) from error
    await async_execute(central, charge_point.id, command)
    # A charger-wide maximum is one limit, kept on the charge point (connector 0),
    # whichever connector's number set it.
    connector = charge_point.connector(command.connector_id)
    if keep:
        connector.current_limit_a = amps
    connector.applied_limit_a = amps
    charge_point.notify_all()


async def async_limit_new_transaction(
    central: LevityCentral, charge_point: ChargePoint, connector_id: int
) -> None:
    """Send the kept limit as the TxProfile of the transaction that just started."""
    await asyncio.sleep(TX_PROFILE_DELAY_S)
    wanted = charge_point.connector(connector_id).current_limit_a
    if wanted is None or charge_point.connector(connector_id).transaction is None:
        return
    try:
        await async_set_current_limit(central, charge_point, connector_id, wanted)
    except HomeAssistantError as error:
        _LOGGER.warning(
            "%s did not take the current limit of %g A for its new transaction on connector %s: %s",
            charge_point.id,
            wanted,
            connector_id,
            error,
        )


async def async_restore_current_limits(central: LevityCentral, charge_point: ChargePoint) -> None:
    """After a (re)connect: read back each kept limit and send it again if it was lost."""
    for connector_id, connector in list(charge_point.connectors.items()):
        if (wanted := connector.current_limit_a) is None:
            continue
        unit = RateUnit.AMPERE if takes_amperes(charge_point) else RateUnit.WATT
        try:
            result = await central.central_system.execute(
                charge_point.id, GetCompositeSchedule(connector_id, READ_BACK_S, unit)
            )
        except CommandFailed as error:
            _LOGGER.debug("%s: composite schedule not read: %s", charge_point.id, error)
            result = None
        schedule = result.data.get("charging_schedule") if result and result.succeeded else None
        applied = (
            composite_limit_a(charge_point, connector_id, schedule)
            if isinstance(schedule, dict)
            else None
        )
        if applied is not None and abs(applied - wanted) < SAME_LIMIT_A:
            connector.applied_limit_a = applied
            charge_point.notify(connector_id)
            continue
        try:
            await async_set_current_limit(central, charge_point, connector_id, wanted)
        except HomeAssistantError as error:
            connector.applied_limit_a = applied
            charge_point.notify(connector_id)
            _LOGGER.warning(
                "%s lost its current limit of %g A on connector %s and did not take it again: %s",
                charge_point.id,
                wanted,
                connector_id,
                error,
            )
        else:
            _LOGGER.info(
                "%s: current limit %g A on connector %s re-applied",
                charge_point.id,
                wanted,
                connector_id,
            )


def kept_limit(charge_point: ChargePoint, connector_id: int) -> float | None:
    """The limit a connector's number shows: its own, or the charger-wide maximum."""
    if charge_point.limit_profile == LimitProfile.CHARGER_MAX:
        return charge_point.connector(CHARGE_POINT_CONNECTOR).current_limit_a
    return charge_point.connector(connector_id).current_limit_a


def applied_limit(charge_point: ChargePoint, connector_id: int) -> float | None:
    """The limit the charger took for a connector: its own, or the charger-wide maximum."""
    if charge_point.limit_profile == LimitProfile.CHARGER_MAX:
        return charge_point.connector(CHARGE_POINT_CONNECTOR).applied_limit_a
    return charge_point.connector(connector_id).applied_limit_a
