"""Auto start and current-limit rules on the model alone (no charger, no HA)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.autostart import AutoStart
from custom_components.levity_ocpp.csms.limits import (
    LimitProfile,
    composite_limit_a,
    limit_command,
    max_stack_level,
)
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.transactions import TransactionBook


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class Charger:
    """Records what auto start sends, answering as told."""

    def __init__(self, answer: c.CommandResult | c.CommandFailed) -> None:
        self.answer = answer
        self.sent: list[c.StartCharging] = []

    async def execute(self, charge_point_id: str, command: c.StartCharging) -> c.CommandResult:
        self.sent.append(command)
        if isinstance(self.answer, c.CommandFailed):
            raise self.answer
        return self.answer


def plugged_in(charge_point: ChargePoint, status: str = "Preparing") -> None:
    charge_point.connector(1).status = status


async def test_a_failed_start_may_be_tried_at_the_next_plug_in() -> None:
    charger = Charger(c.ChargePointOffline("CP1", "RemoteStartTransaction"))
    auto = AutoStart(charger.execute, delay_s=0)
    cp = ChargePoint("CP1")
    plugged_in(cp)
    auto.status_changed(cp, 1)
    await asyncio.sleep(0.01)
    auto.status_changed(cp, 1)  # Preparing again: the failed start did not use it up
    await asyncio.sleep(0.01)
    assert len(charger.sent) == 2
    await auto.stop()


async def test_the_start_waits_out_its_delay_and_checks_again() -> None:
    charger = Charger(c.CommandResult("Accepted"))
    auto = AutoStart(charger.execute, delay_s=0.05, id_tag="T")
    cp = ChargePoint("CP1")
    plugged_in(cp)
    auto.status_changed(cp, 1)
    auto.status_changed(cp, 1)  # one start pending is enough
    plugged_in(cp, "Finishing")  # the car left Preparing meanwhile (e.g. a local start)
    await asyncio.sleep(0.1)
    assert charger.sent == []
    plugged_in(cp, "Available")
    auto.status_changed(cp, 1)
    plugged_in(cp)
    auto.status_changed(cp, 1)
    await asyncio.sleep(0.1)
    assert charger.sent == [c.StartCharging("T", 1)]
    await auto.stop()


async def test_a_running_transaction_uses_the_plug_in_up() -> None:
    charger = Charger(c.CommandResult("Accepted"))
    auto = AutoStart(charger.execute, delay_s=0)
    cp = ChargePoint("CP1")
    book = TransactionBook()
    cp.connector(1).transaction = book.allocate("CP1", 1, "T", datetime.now(UTC), 0)
    plugged_in(cp)
    auto.status_changed(cp, 1)
    cp.connector(1).transaction = None
    auto.status_changed(cp, 1)
    await asyncio.sleep(0.01)
    assert charger.sent == []
    auto.status_changed(cp, 0)  # the charge point itself is never started
    await auto.stop()


def test_stack_level_and_composite_schedules_as_chargers_report_them() -> None:
    cp = ChargePoint("CP1")
    cp.configuration["ChargeProfileMaxStackLevel"] = {"value": "many"}
    assert max_stack_level(cp) == 0
    assert composite_limit_a(cp, 1, {}) is None
    assert composite_limit_a(cp, 1, {"charging_schedule_period": [{"limit": "x"}]}) is None
    watts = {"charging_rate_unit": "W", "charging_schedule_period": [{"limit": 2300}]}
    assert composite_limit_a(cp, 1, watts) == 10.0  # one phase at 230 V unless told
    command = limit_command(cp, 1, 16, LimitProfile.TX_DEFAULT, datetime.now(UTC))
    assert command.profile.periods == (c.SchedulePeriod(0, 16, None),)
