"""Values that change with time alone: session duration, readings going stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .central import LevityCentral
from .csms.freshness import expires_between, stale_after
from .csms.model import Change

# Session duration is shown in whole minutes; staleness is measured in minutes too.
TICK = timedelta(minutes=1)


@callback
def async_track_time_bound_values(hass: HomeAssistant, central: LevityCentral) -> CALLBACK_TYPE:
    """Once a minute, tell the connectors whose entities time alone changes.

    Those with a running session (its duration) and those with a reading that went
    stale since the last tick; the entities write only what really changed.
    """
    last = dt_util.utcnow()

    @callback
    def tick(now: datetime) -> None:
        nonlocal last
        for charge_point in list(central.charge_points.values()):
            limit = stale_after(charge_point)
            for connector_id, connector in list(charge_point.connectors.items()):
                if connector.transaction is not None or expires_between(
                    connector, last, now, limit
                ):
                    charge_point.notify(connector_id, Change.TIME)
        last = now

    return async_track_time_interval(
        hass, tick, TICK, name="levity_ocpp time-bound values", cancel_on_shutdown=True
    )
