"""Commands from Home Assistant to a charge point, with every failure a translated error."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .csms.commands import (
    ChargePointOffline,
    Command,
    CommandCallError,
    CommandFailed,
    CommandResult,
    CommandTimedOut,
)

if TYPE_CHECKING:
    from .central import LevityCentral


def command_name(command: Command) -> str:
    """A command as words: StartCharging -> "start charging"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(command).__name__).lower()


def command_failure(error: CommandFailed, charge_point_id: str, name: str) -> HomeAssistantError:
    """The translated error of a command that got no answer a charger means as one."""
    if isinstance(error, ChargePointOffline):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charge_point_offline",
            translation_placeholders={"charge_point": charge_point_id, "command": name},
        )
    if isinstance(error, CommandTimedOut):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_timed_out",
            translation_placeholders={
                "charge_point": charge_point_id,
                "command": name,
                "detail": error.detail,
            },
        )
    if isinstance(error, CommandCallError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_call_error",
            translation_placeholders={
                "charge_point": charge_point_id,
                "command": name,
                "detail": error.detail,
            },
        )
    return HomeAssistantError(  # CommandNotApplicable
        translation_domain=DOMAIN,
        translation_key="command_not_applicable",
        translation_placeholders={
            "charge_point": charge_point_id,
            "command": name,
            "detail": error.detail,
        },
    )


async def async_execute(
    central: LevityCentral,
    charge_point_id: str,
    command: Command,
    *,
    refusal_is_result: bool = False,
) -> CommandResult:
    """Send `command`; a charger that does not agree raises HomeAssistantError saying why.

    With `refusal_is_result` any answer is returned (a vendor's DataTransfer status
    means something only to whoever asked).
    """
    name = command_name(command)
    try:
        result = await central.central_system.execute(charge_point_id, command)
    except CommandFailed as error:
        raise command_failure(error, charge_point_id, name) from error
    if not result.succeeded and not refusal_is_result:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={
                "charge_point": charge_point_id,
                "command": name,
                "status": str(result.status),
            },
        )
    return result
