"""A charger's clock: the truth about when things happened, unless it runs ahead.

A time further ahead than MAX_CLOCK_AHEAD is a wrong clock. Trusted, one stamp in
2099 would make every later status and reading look older, frozen for good: such
times are taken as received, and the charger's anomaly log says so once per
connection.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .meter import MeterSample
from .model import ChargePoint, utcnow

MAX_CLOCK_AHEAD = timedelta(minutes=15)


class ChargerClock:
    """Reads one connection's charger timestamps."""

    def __init__(self, model: ChargePoint) -> None:
        """Judge the times of `model`'s charger."""
        self._model = model
        self._ahead_reported = False

    def not_ahead(self, moment: datetime) -> datetime:
        """The charger's time, or when we received it if that lies in the future."""
        now = utcnow()
        if moment <= now + MAX_CLOCK_AHEAD:
            return moment
        if not self._ahead_reported:
            self._ahead_reported = True
            self._model.record_anomaly(
                f"clock ahead: stamped {moment.isoformat()} at {now.isoformat()}; "
                "such times are taken as received"
            )
        return now

    def sample(self, sample: MeterSample) -> MeterSample:
        """A meter sample with its time not ahead."""
        timestamp = self.not_ahead(sample.timestamp)
        return sample if timestamp is sample.timestamp else replace(sample, timestamp=timestamp)
