"""Stops of transactions a charger never opened: each logged once, remembered within a bound."""

from __future__ import annotations

from datetime import UTC, datetime
import logging

import pytest

from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.sessions import MAX_UNKNOWN_STOPS_LOGGED, SessionManager
from custom_components.levity_ocpp.csms.transactions import TransactionBook

_AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_unknown_stops_are_logged_once_each_and_not_remembered_for_ever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sessions = SessionManager(TransactionBook(), CentralSystemHooks())
    charge_point = ChargePoint("CP1")

    async def stop(transaction_id: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert await sessions.stop(charge_point, transaction_id, _AT, 0, None, None, []) is None
        return sum("which is not open on it" in message for message in caplog.messages)

    assert await stop(1) == 1
    assert await stop(1) == 0  # once is enough
    for transaction_id in range(2, MAX_UNKNOWN_STOPS_LOGGED + 1):
        assert await stop(transaction_id) == 1
    # A charger inventing ids for ever: the oldest are forgotten, logged again at worst.
    assert await stop(MAX_UNKNOWN_STOPS_LOGGED + 1) == 1
    assert await stop(1) == 1
    assert await stop(1) == 0
