"""OCPP timestamps: RFC 3339 strings from chargers, often sloppy."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse an OCPP dateTime; naive times are taken as UTC (many chargers omit 'Z').

    Return None for a missing or unparseable value: a bad timestamp must not
    cost the rest of the message.
    """
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # Year 1 or 9999 with an offset has no UTC representation.
        return parsed.astimezone(UTC)
    except ValueError, OverflowError:
        return None


def format_timestamp(value: datetime) -> str:
    """Format a time the way OCPP chargers parse most reliably: UTC with a 'Z'."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
