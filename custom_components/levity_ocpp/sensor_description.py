"""The description every sensor of this integration is made from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.helpers.typing import StateType

from .csms.meter import SampledValue
from .csms.model import ChargePoint, Connector
from .entity import LevityEntityDescription
from .visible_change import WriteRule

type ExistsFn = Callable[[ChargePoint, Connector], bool]
type ValueFn = Callable[[ChargePoint, Connector], StateType | datetime]
type Combine = Callable[[list[SampledValue]], float | None]


@dataclass(frozen=True, kw_only=True)
class LevitySensorDescription(SensorEntityDescription, LevityEntityDescription):
    """A sensor of a charge point or connector, computed from the model.

    `write_rule`: whether every change is written, or only one the user could see at
    the display precision (see visible_change.py).
    """

    value_fn: ValueFn
    last_reset_fn: Callable[[Connector], datetime | None] | None = None
    write_rule: WriteRule = WriteRule.EVERY_CHANGE
