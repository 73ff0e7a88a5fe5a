"""Logging: the simulator's loggers and one-line summaries of OCPP payloads."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import fields, is_dataclass
import logging
from typing import Any

from ocpp import exceptions as ocpp_exceptions
from ocpp.v16 import call
from ocpp.v16.enums import Measurand

LOGGER = logging.getLogger("scripts.simulator")


class _UnsupportedCallFilter(logging.Filter):
    """Turn the library's traceback for an unsupported CALL into one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ocpp_exceptions.NotImplementedError | ocpp_exceptions.NotSupportedError):
            action = getattr(record.args[0], "action", "?") if record.args else "?"
            record.msg = "<- %s from central system: not supported, answered %s"
            record.args = (action, getattr(exc, "code", type(exc).__name__))
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


FRAMES_LOGGER = logging.getLogger("scripts.simulator.ocpp")  # the ocpp library's log
FRAMES_LOGGER.addFilter(_UnsupportedCallFilter())


class Prefixed(logging.LoggerAdapter[logging.Logger]):
    """Prefix log lines with the charge point id."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        assert self.extra is not None
        return f"[{self.extra['cp_id']}] {msg}", kwargs


def _short(value: Any) -> str:
    """Render a payload field compactly for the log."""
    if isinstance(value, list):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    if isinstance(value, dict):
        return str(value.get("status", value))
    return str(value)


def describe(payload: Any) -> str:
    """Summarise an OCPP payload dataclass in one human-readable line."""
    if payload is None:
        return "(no payload)"
    if isinstance(payload, call.MeterValues) and payload.meter_value:
        last = payload.meter_value[-1]
        values = {
            (sv.measurand, sv.phase): f"{sv.value}{sv.unit or ''}" for sv in last.sampled_value
        }
        energy = values.get((Measurand.energy_active_import_register, None), "?")
        power = values.get((Measurand.power_active_import, None), "?")
        return (
            f"connector={payload.connector_id} "
            f"transaction={payload.transaction_id} "
            f"{len(payload.meter_value)} value(s), last at {last.timestamp}: "
            f"E={energy} P={power}"
        )
    if not is_dataclass(payload):
        return str(payload)
    parts = [
        f"{f.name}={_short(getattr(payload, f.name))}"
        for f in fields(payload)
        if getattr(payload, f.name) is not None
    ]
    return ", ".join(parts) or "(empty)"
