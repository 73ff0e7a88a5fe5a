"""The ocpp library's own log lines about a charger: short, and only when asked for."""

from __future__ import annotations

import logging

import pytest

from custom_components.levity_ocpp.csms.guards import ConnectionGuard
from custom_components.levity_ocpp.csms.library_log import MAX_LINE_LENGTH, LibraryLogger

LOGGER_NAME = "custom_components.levity_ocpp.csms.rpc"


def test_a_routine_library_line_is_logged_cut_short(caplog: pytest.LogCaptureFixture) -> None:
    """The library logs every frame it receives at INFO: kept, but to a few hundred characters."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    logger = LibraryLogger(logging.getLogger(LOGGER_NAME), ConnectionGuard())

    logger.info("%s: receive message %s", "CP-1", "x" * 5_000)

    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("'CP-1: receive message xxx")
    assert len(record.getMessage()) < MAX_LINE_LENGTH + 40  # the cut says how long it was
    assert "characters)" in record.getMessage()


def test_a_library_line_below_the_level_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """With INFO off (HA's default for custom components), the frame is not even formatted."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    logger = LibraryLogger(logging.getLogger(LOGGER_NAME), ConnectionGuard())

    class Unformattable:
        def __str__(self) -> str:
            raise AssertionError("formatted although nobody logs it")

    logger.info("%s: receive message %s", "CP-1", Unformattable())

    assert not caplog.records
