"""Orphaned sessions: the charger's late report completes what we closed for it.

When a charger reboots, or starts a new transaction on a connector that still has
one open, the central system closes the abandoned session at the last reading it
knows. The charger may still deliver that session's queued MeterValues and its
own StopTransaction. They move the session's end forward, never back (energy
already counted stays counted) and never past where the connector's next session
began (no Wh counted twice).
"""

from __future__ import annotations

from datetime import datetime

from ocpp.v16.enums import Reason

from .transactions import CLOSED_BY_CHARGER, Transaction


def is_settled(orphan: Transaction) -> bool:
    """Whether the charger's own StopTransaction for it came already (resends change nothing)."""
    return orphan.closed_by == CLOSED_BY_CHARGER


def extend_to_latest_reading(orphan: Transaction) -> None:
    """Queued MeterValues arrived: the session ran at least until its latest reading."""
    if orphan.last_register_wh is None or orphan.last_register_at is None:
        return
    assert orphan.stopped_at is not None
    _move_end(orphan, max(orphan.stopped_at, orphan.last_register_at), orphan.last_register_wh)


def settle(
    orphan: Transaction,
    stopped_at: datetime,
    meter_stop_wh: float,
    reason: str | None,
    id_tag: str | None,
) -> None:
    """The charger's own StopTransaction for the session: its end, within what is known."""
    assert orphan.meter_stop_wh is not None
    if meter_stop_wh < orphan.meter_stop_wh:
        orphan.flag(
            f"the late StopTransaction's meterStop {meter_stop_wh:g} Wh is below the "
            f"{orphan.meter_stop_wh:g} Wh already recorded; kept those"
        )
    _move_end(orphan, max(stopped_at, orphan.started_at), meter_stop_wh)
    orphan.stop_reason = reason or Reason.local
    orphan.stop_id_tag = id_tag
    orphan.closed_by = CLOSED_BY_CHARGER


def _move_end(orphan: Transaction, stopped_at: datetime, register_wh: float) -> None:
    assert orphan.meter_stop_wh is not None
    recorded = orphan.meter_stop_wh
    meter_stop_wh = max(recorded, register_wh)
    ceiling = orphan.successor_meter_start_wh
    # Only a register that carries on into the next session bounds this one; a
    # charger counting each session from zero (or reset by a reboot) does not.
    if ceiling is not None and recorded <= ceiling < meter_stop_wh:
        orphan.flag(
            f"late reading {meter_stop_wh:g} Wh is past the next session's meterStart "
            f"{ceiling:g} Wh; capped there"
        )
        meter_stop_wh = ceiling
    if orphan.successor_started_at is not None:
        stopped_at = min(stopped_at, orphan.successor_started_at)
    orphan.meter_stop_wh = meter_stop_wh
    orphan.stopped_at = stopped_at
