"""The recorder events of charging sessions: their names and payloads."""

from __future__ import annotations

from typing import Any

from .const import DOMAIN
from .csms.transactions import Transaction

EVENT_SESSION_STARTED = f"{DOMAIN}_session_started"
EVENT_SESSION_STOPPED = f"{DOMAIN}_session_stopped"
# A stopped session completed later (its charger reported late on an orphan).
EVENT_SESSION_UPDATED = f"{DOMAIN}_session_updated"


def session_event_data(transaction: Transaction, device_id: str | None) -> dict[str, Any]:
    """The event payload: the full session record plus the HA device it belongs to."""
    return {**transaction.record(), "device_id": device_id}


def stopped_event_data(record: dict[str, Any], device_id: str | None) -> dict[str, Any]:
    """The payload made from the ledger's record of the session (the same fields)."""
    return {**record, "anomalies": list(record["anomalies"]), "device_id": device_id}
