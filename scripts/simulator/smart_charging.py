"""The smart-charging profile stack (OCPP 1.6 §3.13): what is installed and what limit rules.

Profiles are kept as the snake_case dicts the ``ocpp`` library hands to handlers,
per connector (0: the charge point as a whole). All limits are in A: the
simulator only accepts schedules in A (ChargingScheduleAllowedChargingRateUnit).

Which limit applies at a moment, per §3.13.2/3.13.3:

- within one purpose the valid profile with the highest stack level that has a
  period running at that moment wins (a profile whose schedule has ended, or is
  not valid yet, makes way for the next one down);
- a TxProfile overrides the TxDefaultProfile; a TxDefaultProfile installed on
  the connector itself overrides one installed on connector 0;
- the ChargePointMaxProfile (connector 0) caps whatever the others allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16.enums import ChargingProfileKindType, ChargingProfilePurposeType, RecurrencyKind

type Profile = dict[str, Any]

MAX_COMPOSITE_SECONDS = 7 * 86_400  # longer requests are clipped: bounded work per answer
RECURRENCE = {RecurrencyKind.daily: timedelta(days=1), RecurrencyKind.weekly: timedelta(weeks=1)}
UNITS = {"A": "Current", "W": "Power"}  # schedule unit -> ChargingScheduleAllowedChargingRateUnit


@dataclass(frozen=True)
class Limit:
    """A current limit per phase and, if the schedule says so, the phases to use."""

    amps: float
    phases: int | None = None


def parse_time(value: str | None) -> datetime | None:
    """An OCPP timestamp as an aware datetime (naive ones are taken as UTC)."""
    if value is None:
        return None
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def profile_problem(profile: Profile, *, max_stack_level: int, max_periods: int, units: str) -> str:  # noqa: PLR0911 - one return per rule
    """Why a profile cannot be installed as such, or "" if it can."""
    schedule = profile["charging_schedule"]
    periods = schedule["charging_schedule_period"]
    if profile["stack_level"] > max_stack_level:
        return f"stack level {profile['stack_level']} above {max_stack_level}"
    if UNITS.get(schedule["charging_rate_unit"]) not in units.split(","):
        return f"charging rate unit {schedule['charging_rate_unit']} not supported ({units})"
    if not periods or len(periods) > max_periods:
        return f"{len(periods)} schedule periods (1 to {max_periods} supported)"
    if any(p["limit"] < 0 for p in periods):
        return "negative limit"
    starts = [p["start_period"] for p in periods]
    if starts[0] != 0 or starts != sorted(set(starts)):
        return "schedule periods must start at 0 and increase"
    kind = profile["charging_profile_kind"]
    if kind == ChargingProfileKindType.recurring and not (
        profile.get("recurrency_kind") and schedule.get("start_schedule")
    ):
        return "a Recurring profile needs recurrencyKind and startSchedule"
    try:
        for key in ("valid_from", "valid_to"):
            parse_time(profile.get(key))
        parse_time(schedule.get("start_schedule"))
    except ValueError as err:
        return f"bad timestamp: {err}"
    return ""


def _start(profile: Profile, when: datetime, origin: datetime) -> datetime:
    """When the occurrence of a profile's schedule that covers ``when`` began."""
    schedule = profile["charging_schedule"]
    kind = profile["charging_profile_kind"]
    if kind == ChargingProfileKindType.relative:
        return origin
    start = parse_time(schedule.get("start_schedule")) or origin
    if kind == ChargingProfileKindType.recurring:
        period = RECURRENCE[profile["recurrency_kind"]]
        start += period * ((when - start) // period)
    return start


def _period(profile: Profile, when: datetime, origin: datetime) -> dict[str, Any] | None:
    """The schedule period of ``profile`` running at ``when``, if any."""
    valid_from = parse_time(profile.get("valid_from"))
    valid_to = parse_time(profile.get("valid_to"))
    if (valid_from and when < valid_from) or (valid_to and when >= valid_to):
        return None
    schedule = profile["charging_schedule"]
    offset = (when - _start(profile, when, origin)).total_seconds()
    duration = schedule.get("duration")
    if offset < 0 or (duration is not None and offset >= duration):
        return None
    running = None
    for period in schedule["charging_schedule_period"]:
        if period["start_period"] <= offset:
            running = period
    return running


def _best(profiles: list[Profile], purpose: str, when: datetime, origin: datetime) -> Limit | None:
    """The limit of the highest-stacked profile of ``purpose`` running at ``when``."""
    candidates = sorted(
        (p for p in profiles if p["charging_profile_purpose"] == purpose),
        key=lambda p: p["stack_level"],
        reverse=True,
    )
    for profile in candidates:
        if (period := _period(profile, when, origin)) is not None:
            return Limit(float(period["limit"]), period.get("number_phases"))
    return None


class ProfileStack:
    """The charging profiles installed, per connector (0: the charge point)."""

    def __init__(self) -> None:
        self._profiles: dict[int, list[Profile]] = {}

    def __len__(self) -> int:
        return sum(len(profiles) for profiles in self._profiles.values())

    def installed(self) -> list[tuple[int, Profile]]:
        """Every profile installed, with its connector (0: the charge point)."""
        return [(cid, profile) for cid, profiles in self._profiles.items() for profile in profiles]

    def replaces(self, connector_id: int, profile: Profile) -> int:
        """How many installed profiles installing ``profile`` would replace."""
        return sum(1 for _ in self._replaced(connector_id, profile))

    def install(self, connector_id: int, profile: Profile) -> None:
        """Install, replacing the profile with the same id anywhere, and the one with
        the same purpose and stack level on the same connector (§5.16.2)."""
        for cid, old in list(self._replaced(connector_id, profile)):
            self._profiles[cid].remove(old)
        self._profiles.setdefault(connector_id, []).append(profile)

    def _replaced(self, connector_id: int, profile: Profile) -> list[tuple[int, Profile]]:
        return [
            (cid, old)
            for cid, profiles in self._profiles.items()
            for old in profiles
            if old["charging_profile_id"] == profile["charging_profile_id"]
            or (
                cid == connector_id
                and old["stack_level"] == profile["stack_level"]
                and old["charging_profile_purpose"] == profile["charging_profile_purpose"]
            )
        ]

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every criterion given; return how many."""
        removed = 0
        for cid, profiles in self._profiles.items():
            for profile in list(profiles):
                if profile_id is not None:
                    match = profile["charging_profile_id"] == profile_id
                else:
                    match = (
                        connector_id in (None, cid)
                        and purpose in (None, profile["charging_profile_purpose"])
                        and stack_level in (None, profile["stack_level"])
                    )
                if match:
                    profiles.remove(profile)
                    removed += 1
        return removed

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives only as long as its transaction (§3.13.1)."""
        self.clear(connector_id=connector_id, purpose=ChargingProfilePurposeType.tx_profile)

    def limit_at(
        self, connector_id: int, when: datetime, tx_start: datetime | None = None
    ) -> Limit | None:
        """The limit in force on a connector at ``when``; None if no profile limits it.

        Relative schedules count from the transaction's start (``tx_start``), or
        from ``when`` if no transaction runs.
        """
        origin = tx_start or when
        station = self._profiles.get(0, [])
        own = self._profiles.get(connector_id, []) if connector_id else []
        tx = _best(own, ChargingProfilePurposeType.tx_profile, when, origin)
        if tx is None:
            tx = _best(own, ChargingProfilePurposeType.tx_default_profile, when, origin)
        if tx is None:
            tx = _best(station, ChargingProfilePurposeType.tx_default_profile, when, origin)
        cap = _best(station, ChargingProfilePurposeType.charge_point_max_profile, when, origin)
        limits = [limit for limit in (tx, cap) if limit is not None]
        if not limits:
            return None
        phases = [limit.phases for limit in limits if limit.phases]
        return Limit(min(limit.amps for limit in limits), min(phases) if phases else None)

    def composite(
        self, connector_id: int, start: datetime, seconds: int, tx_start: datetime | None = None
    ) -> list[tuple[int, Limit | None]]:
        """The limit over ``seconds`` from ``start``: (offset, limit) at each change."""
        seconds = min(seconds, MAX_COMPOSITE_SECONDS)
        end = start + timedelta(seconds=seconds)
        origin = tx_start or start
        moments = {start}
        profiles = [*self._profiles.get(0, [])]
        if connector_id:
            profiles += self._profiles.get(connector_id, [])
        for profile in profiles:
            moments.update(_changes(profile, start, end, origin))
        result: list[tuple[int, Limit | None]] = []
        for moment in sorted(m for m in moments if start <= m < end):
            limit = self.limit_at(connector_id, moment, origin)
            if not result or result[-1][1] != limit:
                result.append((int((moment - start).total_seconds()), limit))
        return result


def _changes(profile: Profile, start: datetime, end: datetime, origin: datetime) -> set[datetime]:
    """The moments in [start, end) at which ``profile`` may change what it allows."""
    moments = {
        t for t in (parse_time(profile.get(k)) for k in ("valid_from", "valid_to")) if t is not None
    }
    schedule = profile["charging_schedule"]
    offsets = [p["start_period"] for p in schedule["charging_schedule_period"]]
    if schedule.get("duration") is not None:
        offsets.append(schedule["duration"])
    occurrence = _start(profile, start, origin)
    step = RECURRENCE.get(profile.get("recurrency_kind") or "")
    while occurrence < end:
        moments.update(occurrence + timedelta(seconds=s) for s in offsets)
        if profile["charging_profile_kind"] != ChargingProfileKindType.recurring or step is None:
            break
        occurrence += step
    return moments
