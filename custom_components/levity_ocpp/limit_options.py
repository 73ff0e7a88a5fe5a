"""The central system's limits on what clients may send and open, as entry options.

One options step ("limits"); the central system gets them as a `Limits` when the
entry (re)loads. Sizes are in KiB and rates in messages per second, as users think
of them; the defaults suit a home and a site of a few dozen chargers alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.helpers import selector
import probatio

from .csms.guards import KIB, Limits

CONF_MAX_FRAME_SIZE: Final = "max_frame_size"  # KiB
CONF_MESSAGE_RATE: Final = "message_rate"  # messages per second per connection
CONF_MAX_CONNECTIONS: Final = "max_connections"
CONF_MAX_CONNECTIONS_PER_ADDRESS: Final = "max_connections_per_address"
CONF_HANDSHAKE_TIMEOUT: Final = "handshake_timeout"  # seconds

DEFAULTS = Limits()


def _number(low: float, high: float, unit: str | None = None) -> selector.NumberSelector:
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=1, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


# (option, its Limits default in the option's unit, selector)
_FIELDS: tuple[tuple[str, float, selector.NumberSelector], ...] = (
    (CONF_MAX_FRAME_SIZE, DEFAULTS.max_frame_bytes // KIB, _number(4, 16384, "KiB")),
    (CONF_MESSAGE_RATE, DEFAULTS.messages_per_second, _number(1, 10000, "messages/s")),
    (CONF_MAX_CONNECTIONS, DEFAULTS.max_connections, _number(1, 10000)),
    (CONF_MAX_CONNECTIONS_PER_ADDRESS, DEFAULTS.max_connections_per_address, _number(1, 10000)),
    (CONF_HANDSHAKE_TIMEOUT, DEFAULTS.handshake_timeout, _number(1, 120, "s")),
)


def limits_schema(options: Mapping[str, Any]) -> probatio.Schema:
    """The form of the limits step, filled with the current options."""
    return probatio.Schema(
        {
            probatio.Required(key, default=options.get(key, default)): field
            for key, default, field in _FIELDS
        }
    )


def limit_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The options a submitted limits form stores (whole numbers where they are counts)."""
    return {
        CONF_MAX_FRAME_SIZE: int(user_input[CONF_MAX_FRAME_SIZE]),
        CONF_MESSAGE_RATE: float(user_input[CONF_MESSAGE_RATE]),
        CONF_MAX_CONNECTIONS: int(user_input[CONF_MAX_CONNECTIONS]),
        CONF_MAX_CONNECTIONS_PER_ADDRESS: int(user_input[CONF_MAX_CONNECTIONS_PER_ADDRESS]),
        CONF_HANDSHAKE_TIMEOUT: float(user_input[CONF_HANDSHAKE_TIMEOUT]),
    }


def limits_from_options(options: Mapping[str, Any]) -> Limits:
    """The central system's limits as the options set them (defaults where unset)."""
    return Limits(
        max_frame_bytes=int(options.get(CONF_MAX_FRAME_SIZE, DEFAULTS.max_frame_bytes // KIB))
        * KIB,
        messages_per_second=float(options.get(CONF_MESSAGE_RATE, DEFAULTS.messages_per_second)),
        max_connections=int(options.get(CONF_MAX_CONNECTIONS, DEFAULTS.max_connections)),
        max_connections_per_address=int(
            options.get(CONF_MAX_CONNECTIONS_PER_ADDRESS, DEFAULTS.max_connections_per_address)
        ),
        handshake_timeout=float(options.get(CONF_HANDSHAKE_TIMEOUT, DEFAULTS.handshake_timeout)),
    )
