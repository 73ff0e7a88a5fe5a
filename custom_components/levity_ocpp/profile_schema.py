"""A charging profile typed by a user, checked field by field into the neutral csms one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .csms.commands import (
    ChargingProfile,
    ChargingPurpose,
    RateUnit,
    ScheduleKind,
    SchedulePeriod,
)

MAX_PERIODS = 48  # far more than chargers accept (ChargingScheduleMaxPeriods is often 24)
MAX_INT32 = 2**31 - 1

_COUNT = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=MAX_INT32))
PERIOD_SCHEMA = probatio.Schema(
    {
        probatio.Required("start"): _COUNT,
        probatio.Required("limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0)),
        probatio.Optional("number_phases"): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=3)
        ),
    }
)
PROFILE_SCHEMA = probatio.Schema(
    {
        probatio.Required("id"): probatio.All(probatio.Coerce(int), probatio.Range(min=1)),
        probatio.Optional("stack_level", default=0): _COUNT,
        probatio.Required("purpose"): probatio.Coerce(ChargingPurpose),
        probatio.Required("kind"): probatio.Coerce(ScheduleKind),
        probatio.Required("unit"): probatio.Coerce(RateUnit),
        probatio.Required("periods"): probatio.All(
            [PERIOD_SCHEMA], probatio.Length(min=1, max=MAX_PERIODS)
        ),
        probatio.Optional("transaction_id"): probatio.Coerce(int),
        probatio.Optional("start_schedule"): cv.datetime,
        probatio.Optional("duration"): _COUNT,
        probatio.Optional("min_rate"): probatio.All(probatio.Coerce(float), probatio.Range(min=0)),
        probatio.Optional("recurrency"): probatio.In(["Daily", "Weekly"]),
        probatio.Optional("valid_from"): cv.datetime,
        probatio.Optional("valid_to"): cv.datetime,
    }
)


def _invalid(field: str, error: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_profile",
        translation_placeholders={"field": field, "error": error},
    )


def _aware(value: datetime | None) -> datetime | None:
    """Times typed without a zone are in Home Assistant's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def parse_profile(raw: Any, connector_id: int) -> ChargingProfile:
    """The profile `raw` describes, for `connector_id`; ServiceValidationError naming the field."""
    try:
        data = PROFILE_SCHEMA(raw)
    except probatio.Invalid as error:
        field = ".".join(str(part) for part in error.path) or "profile"
        raise _invalid(field, error.msg) from error
    starts = [period["start"] for period in data["periods"]]
    if starts[0] != 0 or starts != sorted(set(starts)):
        raise _invalid("periods", "the first period starts at 0, the others later, in order")
    if data["kind"] is ScheduleKind.RECURRING and "recurrency" not in data:
        raise _invalid("recurrency", "a recurring profile needs Daily or Weekly")
    if data["kind"] is not ScheduleKind.RELATIVE and "start_schedule" not in data:
        raise _invalid("start_schedule", "an absolute or recurring profile needs a start")
    if data["purpose"] is ChargingPurpose.CHARGER_MAX and connector_id != 0:
        raise _invalid("purpose", "a charger_max profile is for connector 0 only")
    if data["purpose"] is ChargingPurpose.TX and connector_id == 0:
        # OCPP 1.6 §3.13.2: a TxProfile limits a running transaction, on its connector.
        raise _invalid("purpose", "a tx profile is for a connector with a running transaction")
    if "transaction_id" in data and data["purpose"] is not ChargingPurpose.TX:
        raise _invalid("transaction_id", "only a tx profile belongs to a transaction")
    valid_from, valid_to = _aware(data.get("valid_from")), _aware(data.get("valid_to"))
    if valid_from and valid_to and valid_to <= valid_from:
        raise _invalid("valid_to", "it must be after valid_from")
    return ChargingProfile(
        profile_id=data["id"],
        stack_level=data["stack_level"],
        purpose=data["purpose"],
        kind=data["kind"],
        unit=data["unit"],
        periods=tuple(
            SchedulePeriod(period["start"], period["limit"], period.get("number_phases"))
            for period in data["periods"]
        ),
        transaction_id=data.get("transaction_id"),
        start_schedule=_aware(data.get("start_schedule")),
        duration_s=data.get("duration"),
        min_rate=data.get("min_rate"),
        recurrency=data.get("recurrency"),
        valid_from=valid_from,
        valid_to=valid_to,
    )
