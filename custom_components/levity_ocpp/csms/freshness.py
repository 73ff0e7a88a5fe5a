"""How long a reading describes the present.

A register counts for ever, but power, current, voltage, SoC and temperature
describe a moment. They are worth showing while the charger keeps sending them:
a reading older than a few of the charger's sample intervals is unknown. And
what a session draws ends with it: once the session is over, or the connector
has left a charging status, power and current are 0 and the car's SoC unknown,
whatever was sampled last.

Age is measured by when a reading arrived, not by the charger's clock, which may
be off by hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ocpp.v16.enums import ChargePointStatus, Measurand

from .model import ChargePoint, Connector
from .readings import Reading

# Statuses in which a connector delivers (or may at any moment) energy to a car.
CHARGING_STATUSES = frozenset(
    {
        ChargePointStatus.charging.value,
        ChargePointStatus.suspended_ev.value,
        ChargePointStatus.suspended_evse.value,
    }
)
# Measurands that describe what a session draws: 0 when there is none.
DRAWN_BY_SESSION = frozenset({Measurand.power_active_import.value, Measurand.current_import.value})
# Measurands that describe the car of a session: unknown when there is none.
OF_THE_CAR = frozenset({Measurand.soc.value})

# A reading is stale after this many sample intervals (one lost sample is no silence).
STALE_AFTER_INTERVALS = 3
MIN_STALE_AFTER = timedelta(seconds=60)
# When the charger did not tell its interval (no GetConfiguration answer, or 0).
DEFAULT_STALE_AFTER = timedelta(minutes=15)
# The configuration keys giving a charger's interval, in order of preference.
INTERVAL_KEYS = ("MeterValueSampleInterval", "ClockAlignedDataInterval")


def stale_after(charge_point: ChargePoint) -> timedelta:
    """How long a reading of this charger describes the present."""
    for key in INTERVAL_KEYS:
        if not (text := charge_point.configured(key)):
            continue  # (not reported: no exception raised and caught for it)
        try:
            seconds = int(text.strip())
        except ValueError:
            continue
        if seconds > 0:
            return max(MIN_STALE_AFTER, STALE_AFTER_INTERVALS * timedelta(seconds=seconds))
    return DEFAULT_STALE_AFTER


def is_fresh(reading: Reading, now: datetime, limit: timedelta) -> bool:
    """Whether a reading arrived recently enough to be shown."""
    return reading.received_at is not None and now - reading.received_at <= limit


def in_session(connector: Connector, reading: Reading) -> bool:
    """Whether a reading belongs to a session that is still drawing energy.

    The connector's status decides when it has one (chargers report Charging,
    SuspendedEV, SuspendedEVSE); without a status, an open transaction does. A
    reading taken before the last session stopped is of that session.
    """
    if connector.status is not None:
        if connector.status not in CHARGING_STATUSES:
            return False
    elif connector.transaction is None:
        return False
    last = connector.last_transaction
    return not (
        connector.transaction is None
        and last is not None
        and last.stopped_at is not None
        and reading.time <= last.stopped_at
    )


def expires_between(connector: Connector, since: datetime, now: datetime, limit: timedelta) -> bool:
    """Whether a reading of this connector went stale in (since, now]."""
    return any(
        received_at is not None and since < received_at + limit <= now
        for received_at in connector.readings.received()
    )
