"""Admission in the HA-free core: who is answered Accepted, Pending or Rejected.

A real server on 127.0.0.1 and real `ocpp` library clients; what the central
system tells the layer above is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from ocpp.v16.enums import RegistrationStatus
import pytest

from custom_components.levity_ocpp.csms.admission import (
    BootIdentity,
    Registration,
    UnknownChargePoint,
    UnknownChargePoints,
)
from custom_components.levity_ocpp.csms.commands import ChargePointOffline, TriggerMessage
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.server import CentralSystem
from custom_components.levity_ocpp.csms.settings import AdmissionPolicy, ChargePointSettings

from .admission_helpers import ObedientChargePoint
from .client import connect_charge_point
from .test_csms import wait_until

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class AdmissionHooks(CentralSystemHooks):
    """Remembers what admission told the layer above."""

    def __init__(self) -> None:
        self.pending: list[UnknownChargePoint] = []
        self.forgotten: list[str] = []
        self.accepted: list[tuple[str, str | None]] = []
        self.removed: list[str] = []
        self.discovered: list[str] = []

    def charge_point_pending(self, charge_point: UnknownChargePoint) -> None:
        self.pending.append(charge_point)

    def unknown_charge_point_forgotten(self, charge_point_id: str) -> None:
        self.forgotten.append(charge_point_id)

    def charge_point_accepted(self, charge_point_id: str, subprotocol: str | None) -> None:
        self.accepted.append((charge_point_id, subprotocol))

    def charge_point_removed(self, charge_point: ChargePoint) -> None:
        self.removed.append(charge_point.id)

    def charge_point_discovered(self, charge_point: ChargePoint) -> None:
        self.discovered.append(charge_point.id)


@pytest.fixture
def hooks() -> AdmissionHooks:
    return AdmissionHooks()


@pytest.fixture
async def central(socket_enabled: None, hooks: AdmissionHooks) -> AsyncIterator[CentralSystem]:
    central = CentralSystem(
        host="127.0.0.1",
        port=0,
        heartbeat_interval=30,
        hooks=hooks,
        policy=AdmissionPolicy.APPROVE,
        settings={"CP1": ChargePointSettings()},
        ignored={"BAD"},
        boot_wait=0.05,
    )
    await central.start()
    yield central
    await central.stop()


def connect(central: CentralSystem, path: str, **kwargs: object):
    port = central.bound_port
    assert port
    kwargs.setdefault("charge_point_class", ObedientChargePoint)
    return connect_charge_point(port, path, **kwargs)  # type: ignore[arg-type]


def unknown(charge_point_id: str, last_seen: datetime) -> UnknownChargePoint:
    return UnknownChargePoint(
        id=charge_point_id,
        identity=BootIdentity("V", "M"),
        remote_address=None,
        subprotocol="ocpp1.6",
        first_seen=last_seen,
        last_seen=last_seen,
        status=Registration.PENDING,
    )


def test_the_waiting_list_is_bounded_and_forgets() -> None:
    waiting = UnknownChargePoints(capacity=2, forget_after=timedelta(hours=1))
    assert waiting.next_expiry() is None
    assert waiting.record(unknown("A", T0)) == []
    assert waiting.record(unknown("B", T0 + timedelta(minutes=10))) == []
    assert waiting.record(unknown("A", T0 + timedelta(minutes=20))) == []  # A again: youngest
    assert [entry.id for entry in waiting.record(unknown("C", T0))] == ["B"]
    assert waiting.next_expiry() == T0 + timedelta(minutes=80)
    assert waiting.expire(T0 + timedelta(minutes=79)) == []
    assert [entry.id for entry in waiting.expire(T0 + timedelta(hours=2))] == ["A", "C"]
    assert waiting.get("A") is None and waiting.pop("A") is None


async def test_approved_pending_and_ignored_chargers(
    central: CentralSystem, hooks: AdmissionHooks
) -> None:
    assert central.policy is AdmissionPolicy.APPROVE
    async with connect(central, "/CP1") as cp1:
        assert (await cp1.boot()).status == RegistrationStatus.accepted
    async with connect(central, "/CP7") as cp7:
        assert (await cp7.boot()).status == RegistrationStatus.pending
        assert (await cp7.boot()).status == RegistrationStatus.pending  # offered once
        assert [entry.id for entry in hooks.pending] == ["CP7"]
        assert hooks.pending[0].identity.serial_number == "SN-7"
        # Not a charge point: no command reaches it.
        assert central.handler("CP7") is None
        with pytest.raises(ChargePointOffline):
            await central.execute("CP7", TriggerMessage("Heartbeat"))
    async with connect(central, "/BAD") as bad:
        reply = await bad.boot()
        assert reply.status == RegistrationStatus.rejected and reply.interval == 300
    assert hooks.discovered == ["CP1"]
    assert set(central.charge_points) == {"CP1"}


async def test_one_that_does_not_boot_is_asked_to_unless_ignored(
    central: CentralSystem, hooks: AdmissionHooks
) -> None:
    async with connect(central, "/CP7") as cp7, connect(central, "/BAD") as bad:
        await wait_until(lambda: cp7.triggers == ["BootNotification"])
        await wait_until(lambda: hooks.pending)
        await asyncio.sleep(0.1)
        assert bad.triggers == []  # an ignored charger is not spoken to


async def test_ignoring_and_unignoring_a_waiting_charger(
    central: CentralSystem, hooks: AdmissionHooks
) -> None:
    async with connect(central, "/CP7") as cp7:
        await cp7.boot()
        central.admission.ignored = {"BAD", "CP7"}
        assert central.admission.ignored == {"BAD", "CP7"}
        assert (await cp7.boot()).status == RegistrationStatus.rejected
        central.admission.ignored = {"BAD"}  # the user changed their mind: offered again
        assert [entry.status for entry in hooks.pending] == ["Pending", "Pending"]
        assert (await cp7.boot()).status == RegistrationStatus.pending
    central.admission.ignored = set()  # BAD never booted: nothing to offer
    assert len(hooks.pending) == 2


async def test_approval_while_connected_asks_for_a_boot_and_accepts_it(
    central: CentralSystem, hooks: AdmissionHooks
) -> None:
    async with connect(central, "/CP7") as cp7:
        await cp7.boot()
        with pytest.raises(Exception, match="SecurityError"):
            await cp7.status(1)
        central.settings = {**central.settings, "CP7": ChargePointSettings()}
        await wait_until(lambda: "CP7" in central.charge_points)
        assert hooks.forgotten == ["CP7"]  # no longer offered
        model = central.charge_points["CP7"]
        assert model.vendor == "United Chargers" and model.connected
        # Its log has the pending boot too: the whole conversation.
        assert sum(',"BootNotification",' in frame.text for frame in model.frames) == 2
        await cp7.status(1)
        assert central.handler("CP7") is not None

        # Approval withdrawn: forgotten, connection closed.
        central.settings = {"CP1": ChargePointSettings()}
        assert "CP7" not in central.charge_points
        await asyncio.wait_for(cp7.connection.wait_closed(), 5)
        await wait_until(lambda: hooks.removed == ["CP7"])


async def test_the_accept_policy_admits_every_charger_but_ignored_ones(
    socket_enabled: None, hooks: AdmissionHooks
) -> None:
    central = CentralSystem(
        host="127.0.0.1", port=0, heartbeat_interval=30, hooks=hooks, ignored={"BAD"}
    )
    await central.start()
    try:
        async with connect(central, "/CP7", subprotocols=[]) as cp7:
            await cp7.status(1)  # admitted as it connects
            assert (await cp7.boot()).status == RegistrationStatus.accepted
        assert hooks.accepted == [("CP7", None)]
        async with connect(central, "/BAD") as bad:
            assert (await bad.boot()).status == RegistrationStatus.rejected
    finally:
        await central.stop()
