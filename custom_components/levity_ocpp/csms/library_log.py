"""The `ocpp` library's log lines about one charger: short, throttled, no charger-caused tracebacks.

The library logs an OCPPError a handler raised (a charger's bad input, already
answered with a CALLERROR) as an ERROR with a traceback and the whole frame.
Here it is a warning of a few hundred characters, at most a few per minute.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ocpp.exceptions import OCPPError

from .guards import ConnectionGuard, clipped

# A library line is cut to this many characters.
MAX_LINE_LENGTH = 400


class LibraryLogger(logging.LoggerAdapter[logging.Logger]):
    """The logger the library is given for one charger's connection."""

    def __init__(self, logger: logging.Logger, guard: ConnectionGuard) -> None:
        """Log to `logger`, faults through the connection's throttle."""
        super().__init__(logger)
        self._guard = guard

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Log a library line, cut short; faults through the charger's throttle."""
        if not self.isEnabledFor(level):
            return
        text = clipped(str(msg) % args if args else str(msg), MAX_LINE_LENGTH)
        error = sys.exception() if kwargs.get("exc_info") else None
        guard = self._guard
        if error is not None and (
            isinstance(error, OCPPError) or not guard.settings().validate_schema
        ):
            # Unvalidated frames may break a handler: the charger's fault, not ours.
            guard.faults.warning(self.logger, "%s: %s", text, clipped(error))
        elif level >= logging.WARNING:
            guard.faults.log(level, self.logger, "%s", text, exc_info=error is not None)
        else:
            self.logger.log(level, "%s", text)
