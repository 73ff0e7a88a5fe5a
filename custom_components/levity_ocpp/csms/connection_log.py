"""What the server says about connections it refuses or closes: bounded, once a while.

A charger retrying a wrong URL every few seconds, or a client flooding the port,
costs one warning per path and reason (then DEBUG lines), or a throttled count.
"""

from __future__ import annotations

from collections import OrderedDict
import logging

from websockets.exceptions import ConnectionClosed

from .guards import CLOSE_INVALID_DATA, CLOSE_TOO_BIG, KIB, FaultLog, Limits, ThrottleMap, clipped
from .hooks import CentralSystemHooks
from .paths import redact_query

# Refusals already logged as a warning; a charger retrying its wrong URL every few
# seconds gets one warning per path and reason, then DEBUG lines.
MAX_WARNED_REFUSALS = 32
# A path as shown in a log line or a refusal: the id and a prefix fit.
SHOWN_PATH_LENGTH = 120


class ConnectionLog:
    """Log lines and refusal hooks of one central system's connections."""

    def __init__(self, logger: logging.Logger, hooks: CentralSystemHooks, limits: Limits) -> None:
        """Say it on `logger`; tell `hooks` of every refusal."""
        self._logger = logger
        self._hooks = hooks
        self._limits = limits
        self._warned: OrderedDict[tuple[str, str], None] = OrderedDict()
        # Log lines per charge point (across its connections) and per refused address.
        self._fault_throttles = ThrottleMap()
        self._cap_throttles = ThrottleMap()

    def faults(self, charge_point_id: str) -> FaultLog:
        """The throttled fault log of one charge point."""
        return FaultLog(self._fault_throttles[charge_point_id])

    def flush(self, charge_point_id: str) -> None:
        """Say how many faults of a charge point were held back (its connection ended)."""
        self.faults(charge_point_id).flush(self._logger, charge_point_id)

    def refused_at_accept(self, address: str, reason: str) -> None:
        """A TCP connection dropped at once: its address or the server is at its cap."""
        FaultLog(self._cap_throttles[address]).warning(
            self._logger, "Refused a connection from %s: %s", address, reason
        )
        self._hooks.connection_refused("*", address, reason)

    def refused(self, path: str, remote: str | None, reason: str) -> None:
        """Log a refusal (once per path and reason) and tell the layer above."""
        shown = redact_query(path)
        if len(shown) > SHOWN_PATH_LENGTH:
            shown = f"{shown[:SHOWN_PATH_LENGTH]}…"
        key = (shown, reason)
        if key in self._warned:
            self._warned.move_to_end(key)
            self._logger.debug("Refused connection to %r from %s again: %s", shown, remote, reason)
        else:
            self._warned[key] = None
            if len(self._warned) > MAX_WARNED_REFUSALS:
                self._warned.popitem(last=False)
            self._logger.warning("Refused connection to %r from %s: %s", shown, remote, reason)
        self._hooks.connection_refused(shown, remote, reason)

    def closed_for_input(self, charge_point_id: str, closed: ConnectionClosed) -> None:
        """Say why websockets closed a connection over what the charger sent (once a while)."""
        code = closed.sent.code if closed.sent is not None else None
        faults = self.faults(charge_point_id)
        if code == CLOSE_TOO_BIG:
            faults.warning(
                self._logger,
                "%s sent a message longer than %d KiB (the frame size limit in the central "
                "system's options); connection closed (%d)",
                charge_point_id,
                self._limits.max_frame_bytes // KIB,
                code,
            )
        elif code == CLOSE_INVALID_DATA:
            faults.warning(
                self._logger,
                "%s sent a text frame that is not UTF-8 (%s); connection closed (%d)",
                charge_point_id,
                clipped(closed.sent.reason if closed.sent else ""),
                code,
            )
