"""Which OCPP version to speak with a charger, and what to say to one we cannot serve.

OCPP-J: the charger offers versions as WebSocket subprotocols; the central system
picks one. A charger offering only versions we do not speak gets a completed
handshake without Sec-WebSocket-Protocol, then an immediate close (1.6 §3.1.2).
"""

from __future__ import annotations

from collections.abc import Sequence

from websockets.datastructures import Headers

from .settings import ChargePointSettings, OcppVersion
from .v16 import SUBPROTOCOL as OCPP16
from .v201 import SUBPROTOCOL as OCPP201

# In order of preference: 2.0.1 firmware is often the less mature one.
SUPPORTED_SUBPROTOCOLS = (OCPP16, OCPP201)
UNSUPPORTED_SUBPROTOCOL_CLOSE_CODE = 1002  # protocol error (RFC 6455 7.4.1)

# Why a connection is refused: (the log line's and repair's reason, the close reason).
type Refusal = tuple[str, str]


def offered_subprotocols(headers: Headers) -> list[str]:
    """Return the subprotocols a client offered, in its order of preference."""
    return [
        protocol.strip()
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for protocol in value.split(",")
        if protocol.strip()
    ]


def choose_subprotocol(offered: Sequence[str], version: OcppVersion) -> str | None:
    """The OCPP version to speak: the one pinned, else the preferred one offered."""
    if version is not OcppVersion.AUTO:
        return version.value if version.value in offered else None
    return next((protocol for protocol in SUPPORTED_SUBPROTOCOLS if protocol in offered), None)


def refusal(
    chosen: str | None, headers: Headers, settings: ChargePointSettings | None
) -> Refusal | None:
    """Why a connection cannot be served in any version; None if it can.

    `settings` are the charger's (None: not approved yet). One that offers no
    version at all is served as 1.6 when it is new, so that its boot reaches the
    approval flow, or when its `subprotocol_optional` is on (Grizzl-E).
    """
    if chosen is not None:
        return None
    supported = ", ".join(SUPPORTED_SUBPROTOCOLS)
    if offered := offered_subprotocols(headers):
        version = settings.ocpp_version if settings is not None else OcppVersion.AUTO
        speaks = supported if version is OcppVersion.AUTO else f"{version.value} to it (set so)"
        return (
            f"it offers only OCPP versions {', '.join(offered)[:200]}; "
            f"this central system speaks {speaks}",
            f"unsupported OCPP version; supported: {supported}",
        )
    if settings is None or settings.subprotocol_optional:
        return None
    return (
        "it offers no OCPP version (no Sec-WebSocket-Protocol header); if the charger "
        "cannot send one, turn on 'Allow connecting without an OCPP subprotocol' in its "
        "settings",
        f"no OCPP version offered; supported: {supported}",
    )
