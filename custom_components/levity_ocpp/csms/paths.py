"""Which charge point a connection URL names, and how to show that URL safely."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_ID_LENGTH = 48  # CiString48, the longest id OCPP lets a charge point have
# A path is stored, shown in diagnostics and logged: prefixes before the id are
# short in every charger's settings, so a longer one is a trick.
MAX_PATH_LENGTH = 256
# Characters that would be markup (or break out of quotes) wherever the id is shown.
MARKUP = frozenset("<>\"'`&\\")
# Unicode categories an id never needs: control, format (invisible), surrogates,
# private use, unassigned; line and paragraph separators (U+2028, U+2029).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
REDACTED_QUERY = "?**REDACTED**"

# Words chargers' URL settings put before the id. A path made only of these names
# no charge point: the charger was given the central system's URL without its id.
GENERIC_PATH_WORDS = frozenset(
    {
        "ocpp",
        "ocpp16",
        "ocpp1.6",
        "ocpp16j",
        "ocpp1.6j",
        "ocppj",
        "ws",
        "wss",
        "websocket",
        "websockets",
        "steve",
        "central",
        "centralsystem",
        "centralsystemservice",
        "cs",
        "csms",
    }
)


class InvalidChargePointId(ValueError):
    """The request path does not name a usable charge point id."""

    def __init__(self, reason: str, public: str | None = None) -> None:
        """`reason` is logged; `public`, if given, is what the client is told instead."""
        super().__init__(reason)
        self.public = public or reason


def charge_point_id_from_path(path: str) -> str:
    """Return the charge point id: the last non-empty path segment, URL-decoded.

    `/CP1`, `/ws/CP1/` and `/any/prefix/CP1?x=1` all mean `CP1`; chargers differ in
    what they put before the id. `/ocpp/` means no id at all, but `/site/ocpp`
    is a charger named "ocpp": another segment is there, so the id was meant.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidChargePointId(f"the path is longer than {MAX_PATH_LENGTH} characters")
    segments = [unquote(segment) for segment in urlsplit(path).path.split("/") if segment]
    if not segments:
        raise InvalidChargePointId("the path names no charge point id")
    charge_point_id = segments[-1]
    if all(segment.casefold() in GENERIC_PATH_WORDS for segment in segments):
        raise InvalidChargePointId(
            f"{charge_point_id!r} is a generic path word: "
            "the URL must end with the charge point's id (e.g. /ocpp/CP1)"
        )
    validate_charge_point_id(charge_point_id)
    return charge_point_id


def validate_charge_point_id(charge_point_id: str) -> None:
    """Raise InvalidChargePointId unless this can be a charge point's id."""
    if len(charge_point_id) > MAX_ID_LENGTH:
        raise InvalidChargePointId(f"the id is longer than {MAX_ID_LENGTH} characters")
    if not charge_point_id.strip():
        raise InvalidChargePointId("the id is empty")
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in charge_point_id):
        raise InvalidChargePointId("the id contains control characters (or invisible ones)")
    if charge_point_id != charge_point_id.strip():
        raise InvalidChargePointId("the id begins or ends with a space")
    if any(char.isspace() and char != " " for char in charge_point_id):
        raise InvalidChargePointId("the id contains a space other than a plain one")
    if "/" in charge_point_id or "\\" in charge_point_id or not charge_point_id.strip("."):
        raise InvalidChargePointId("the id is a path (slashes, or only dots)")
    if any(char in MARKUP for char in charge_point_id):
        raise InvalidChargePointId("the id contains markup characters (<>\"'`&\\)")


def redact_query(path: str) -> str:
    """The path with its query hidden: chargers put tokens and passwords there."""
    base, question_mark, _ = path.partition("?")
    return base + REDACTED_QUERY if question_mark else base
