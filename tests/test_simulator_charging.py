"""The simulator's smart charging: profiles per connector and purpose with stack levels
(OCPP 1.6 §3.13), the limit in force capping the metered power, composite schedules;
and its scripted refusals (Rejected, NotSupported, no answer) and command line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call
import pytest

from scripts.simulator.cli import main

from .simulator_central import Central, central_system, fast_simulator, sampled
from .test_simulator_commands import remote_start

VOLTS = 230


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[tuple[Central, str]]:
    async with central_system() as served:
        yield served


def profile(
    profile_id: int,
    purpose: str,
    limits: list[tuple[int, float]],
    *,
    stack_level: int = 0,
    unit: str = "A",
    kind: str = "Absolute",
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "charging_schedule_period": [{"start_period": s, "limit": a} for s, a in limits],
    }
    schedule.update(extra.pop("schedule", {}))
    return {
        "charging_profile_id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
        **extra,
    }


async def set_profile(central: Central, connector_id: int, cs_profile: dict[str, Any]) -> str:
    reply = await central.call(call.SetChargingProfile(connector_id, cs_profile))
    return str(reply.status)


async def power_after(central: Central, since: int | None = None) -> float:
    """Power.Active.Import of the second MeterValues from now (the first may predate it)."""
    start = central.mark() if since is None else since
    await central.wait_for("MeterValues", since=start)
    first = central.mark()
    return sampled(await central.wait_for("MeterValues", since=first), "Power.Active.Import")


async def composite(central: Central, connector_id: int, seconds: int) -> list[tuple[int, float]]:
    reply = await central.call(call.GetCompositeSchedule(connector_id, seconds))
    assert reply.status == "Accepted"
    return [
        (p["start_period"], p["limit"]) for p in reply.charging_schedule["charging_schedule_period"]
    ]


async def test_a_limit_caps_the_metered_power(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        await remote_start(central)
        assert await power_after(central) == pytest.approx(16 * VOLTS * 3, rel=0.03)
        tx_default = profile(1, "TxDefaultProfile", [(0, 10)])
        assert await set_profile(central, 0, tx_default) == "Accepted"
        assert await power_after(central) == pytest.approx(10 * VOLTS * 3, rel=0.03)
        meter = await central.wait_for("MeterValues", since=central.mark())
        assert sampled(meter, "Current.Offered") == 10
        assert await composite(central, 1, 60) == [(0, 10)]

        # A TxProfile for the running transaction overrides the default; one phase.
        tx = profile(2, "TxProfile", [(0, 14)], transaction_id=1)
        tx["charging_schedule"]["charging_schedule_period"][0]["number_phases"] = 1
        assert await set_profile(central, 1, tx) == "Accepted"
        assert await power_after(central) == pytest.approx(14 * VOLTS, rel=0.03)
        wrong = profile(3, "TxProfile", [(0, 8)], transaction_id=99)
        assert await set_profile(central, 1, wrong) == "Rejected"

        # The charge point maximum caps everything.
        assert await set_profile(central, 1, profile(4, "ChargePointMaxProfile", [(0, 8)])) == (
            "Rejected"
        )
        assert await set_profile(central, 0, profile(4, "ChargePointMaxProfile", [(0, 8)])) == (
            "Accepted"
        )
        assert await power_after(central) == pytest.approx(8 * VOLTS, rel=0.03)
        assert await composite(central, 0, 60) == [(0, 8)]


async def test_zero_amps_suspends_and_clearing_resumes(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        await remote_start(central)
        since = central.mark()
        assert await set_profile(central, 1, profile(1, "TxProfile", [(0, 0)])) == "Accepted"
        await central.status("SuspendedEVSE", since=since)
        assert await power_after(central) == 0
        since = central.mark()
        reply = await central.call(call.ClearChargingProfile(id=1))
        assert reply.status == "Accepted"
        await central.status("Charging", since=since)
        assert await power_after(central) == pytest.approx(16 * VOLTS * 3, rel=0.03)
        unknown = await central.call(call.ClearChargingProfile(id=1))
        assert unknown.status == "Unknown"


async def test_tx_profile_needs_a_transaction_and_ends_with_it(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        tx = profile(1, "TxProfile", [(0, 10)])
        assert await set_profile(central, 1, tx) == "Rejected"
        assert await set_profile(central, 0, tx) == "Rejected"
        assert await set_profile(central, 5, tx) == "Rejected"
        transaction_id = await remote_start(central)
        assert await set_profile(central, 1, tx) == "Accepted"
        assert await composite(central, 1, 30) == [(0, 10)]
        since = central.mark()
        await central.call(call.RemoteStopTransaction(transaction_id))
        await central.status("Available", since=since)
        assert await composite(central, 1, 30) == [(0, 16)]


async def test_stack_levels_and_replacement(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        assert await set_profile(central, 1, profile(1, "TxDefaultProfile", [(0, 12)])) == (
            "Accepted"
        )
        high = profile(2, "TxDefaultProfile", [(0, 8)], stack_level=1)
        assert await set_profile(central, 1, high) == "Accepted"
        assert await composite(central, 1, 60) == [(0, 8)]
        # Same purpose and stack level on the same connector: replaced.
        same_level = profile(3, "TxDefaultProfile", [(0, 9)], stack_level=1)
        assert await set_profile(central, 1, same_level) == "Accepted"
        assert await composite(central, 1, 60) == [(0, 9)]
        reply = await central.call(call.ClearChargingProfile(stack_level=1))
        assert reply.status == "Accepted"
        assert await composite(central, 1, 60) == [(0, 12)]
        # The connector's own default beats the charge point's.
        assert await set_profile(central, 0, profile(4, "TxDefaultProfile", [(0, 7)])) == (
            "Accepted"
        )
        assert await composite(central, 1, 60) == [(0, 12)]
        await central.call(call.ClearChargingProfile(connector_id=1))
        assert await composite(central, 1, 60) == [(0, 7)]
        reply = await central.call(call.GetCompositeSchedule(1, 60, charging_rate_unit="W"))
        assert reply.charging_schedule["charging_schedule_period"][0]["limit"] == 7 * VOLTS * 3


async def test_composite_schedule_follows_periods_and_recurrence(
    csms: tuple[Central, str],
) -> None:
    central, url = csms
    async with fast_simulator(url):
        now = datetime.now(UTC)
        absolute = profile(
            1,
            "TxDefaultProfile",
            [(0, 10), (60, 13)],
            schedule={"start_schedule": now.isoformat(), "duration": 120},
        )
        assert await set_profile(central, 1, absolute) == "Accepted"
        periods = await composite(central, 1, 300)
        assert [limit for _, limit in periods] == [10, 13, 16]
        assert [start for start, _ in periods][1:] == [
            pytest.approx(60, abs=1),
            pytest.approx(120, abs=1),
        ]

        # Daily from 30 s from now, for 60 s; it ran yesterday too (but that is over).
        daily_start = now + timedelta(seconds=30) - timedelta(days=1)
        daily = profile(
            2,
            "TxDefaultProfile",
            [(0, 7)],
            stack_level=2,
            kind="Recurring",
            recurrency_kind="Daily",
            schedule={"start_schedule": daily_start.isoformat(), "duration": 60},
            valid_to=(now + timedelta(days=2)).isoformat(),
        )
        assert await set_profile(central, 1, daily) == "Accepted"
        periods = await composite(central, 1, 300)
        assert [limit for _, limit in periods] == [10, 7, 13, 16]
        assert [start for start, _ in periods][1] == pytest.approx(30, abs=1)


@pytest.mark.parametrize(
    ("cs_profile", "why"),
    [
        (profile(1, "TxDefaultProfile", [(0, 4000)], unit="W"), "only A"),
        (profile(1, "TxDefaultProfile", [(0, 10)], stack_level=9), "stack level"),
        (profile(1, "TxDefaultProfile", [(0, 10), (0, 12)]), "periods out of order"),
        (profile(1, "TxDefaultProfile", [(0, -1)]), "negative"),
        (profile(1, "TxDefaultProfile", [(0, 10)], kind="Recurring"), "no recurrency"),
        (profile(1, "TxDefaultProfile", [(0, 10)], valid_to="yesterday"), "bad time"),
        (profile(1, "TxDefaultProfile", [(n, 10) for n in range(25)]), "too many periods"),
    ],
)
async def test_profiles_the_charger_cannot_follow(
    csms: tuple[Central, str], cs_profile: dict[str, Any], why: str
) -> None:
    central, url = csms
    async with fast_simulator(url):
        assert await set_profile(central, 1, cs_profile) == "Rejected", why


async def test_at_most_eight_profiles(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, connectors=2):
        for n in range(8):
            p = profile(n, "TxDefaultProfile", [(0, 10)], stack_level=n)
            assert await set_profile(central, n % 2 + 1, p) == "Accepted"
        ninth = profile(8, "TxDefaultProfile", [(0, 10)], stack_level=8)
        assert await set_profile(central, 1, ninth) == "Rejected"
        # Replacing one is fine.
        assert await set_profile(central, 1, profile(0, "TxDefaultProfile", [(0, 9)])) == (
            "Accepted"
        )


async def test_remote_start_with_a_charging_profile(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        not_tx = profile(1, "TxDefaultProfile", [(0, 8)])
        reply = await central.call(
            call.RemoteStartTransaction(id_tag="TAG1", connector_id=1, charging_profile=not_tx)
        )
        assert reply.status == "Rejected"
        tx = profile(1, "TxProfile", [(0, 8)], kind="Relative")
        await remote_start(central, charging_profile=tx)
        assert await power_after(central) == pytest.approx(8 * VOLTS * 3, rel=0.03)
        assert await composite(central, 1, 60) == [(0, 8)]


async def test_scripted_refusals(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(
        url,
        reject=["Reset", "UnlockConnector"],
        not_supported=["ReserveNow"],
        time_out=["GetConfiguration"],
        reject_purposes=["TxDefaultProfile"],
    ) as sim:
        assert (await central.call(call.Reset("Soft"))).status == "Rejected"
        assert (await central.call(call.UnlockConnector(1))).status == "UnlockFailed"
        with pytest.raises(NotSupportedError):
            await central.call(call.ReserveNow(1, "2030-01-01T00:00:00Z", "T", 1))
        with pytest.raises(TimeoutError):
            await central.call(call.GetConfiguration())
        assert await set_profile(central, 0, profile(1, "TxDefaultProfile", [(0, 8)])) == (
            "Rejected"
        )
        # Still answering everything else, still booted once.
        assert (await central.call(call.ClearCache())).status == "Accepted"
        assert sim.boot_count == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"reject": ["Nope"]}, "reject: 'Nope' is not one of"),
        ({"reject": ["GetConfiguration"]}, "reject: 'GetConfiguration'"),
        ({"time_out": ["Heartbeat"]}, "time_out: 'Heartbeat'"),
        ({"reject": ["Reset"], "time_out": ["Reset"]}, "Reset given two behaviours"),
        ({"reject_purposes": ["Cheap"]}, "reject_purpose: 'Cheap'"),
        ({"vendor_ids": [""]}, "vendor ids"),
        ({"transfer_seconds": -1}, "transfer_seconds"),
    ],
)
def test_wrong_behaviour_refused(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fast_simulator("ws://127.0.0.1:1/SIM1", **option)


async def test_cli_options(csms: tuple[Central, str], capsys: pytest.CaptureFixture[str]) -> None:
    central, url = csms
    argv = [
        "--url", url, "--interval", "0.05", "--duration", "3",
        "--reject", "Reset,ClearCache", "--not-supported", "ReserveNow",
        "--time-out", "GetConfiguration", "--reject-purpose", "TxProfile",
        "--vendor-id", "com.levity",
    ]  # fmt: skip
    run = asyncio.create_task(main(argv))
    await central.wait_for("StatusNotification")
    assert (await central.call(call.Reset("Hard"))).status == "Rejected"
    assert (await central.call(call.ClearCache())).status == "Rejected"
    with pytest.raises(NotSupportedError):
        await central.call(call.ReserveNow(1, "2030-01-01T00:00:00Z", "T", 1))
    with pytest.raises(TimeoutError):
        await central.call(call.GetConfiguration())
    assert (await central.call(call.DataTransfer("com.levity"))).status == "Accepted"
    assert await run == 0

    assert await main(["--reject", "Dance"]) == 2
    assert "'Dance' is not one of" in capsys.readouterr().err
