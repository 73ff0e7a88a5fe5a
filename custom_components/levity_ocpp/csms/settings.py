"""What the user decided about each charge point: who it is allowed to be and how lenient to be.

The HA layer keeps these in config subentries (one per approved charge point) and
hands the central system a fresh mapping whenever one changes; the central system
reads them at each handshake and message, never caches a copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AdmissionPolicy(StrEnum):
    """What happens to a charge point the central system does not know."""

    APPROVE = "approve"  # BootNotification Pending until the user adds it
    ACCEPT = "accept"  # added on its first boot


class AuthorizationMode(StrEnum):
    """Which id tags may charge at a charge point."""

    ANY_TAG = "any_tag"  # every tag that is not blocked or expired (a home charger)
    KNOWN_TAGS = "known_tags"  # only tags added in Home Assistant


class OcppVersion(StrEnum):
    """The OCPP version a charge point is spoken to in."""

    AUTO = "auto"  # the best one both sides offer (1.6 when a charger offers both)
    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


@dataclass(frozen=True, slots=True)
class ChargePointSettings:
    """The user's settings of one approved charge point."""

    # HTTP Basic authentication (security profiles 1 and 2); None: no password set.
    password: str | None = None
    # The password before a rotation the charger accepted, valid until it first
    # authenticates with the new one (then the layer above forgets it).
    previous_password: str | None = None
    authorization: AuthorizationMode = AuthorizationMode.ANY_TAG
    # Leniency for real chargers that break the spec in known ways.
    validate_schema: bool = True  # off: frames are taken without JSON-schema checks
    websocket_ping: bool = True  # off: no keepalive pings (Grizzl-E answers them wrongly)
    subprotocol_optional: bool = False  # on: a handshake offering no OCPP version is 1.6
    ocpp_version: OcppVersion = OcppVersion.AUTO
