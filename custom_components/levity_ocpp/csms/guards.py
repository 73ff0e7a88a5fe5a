"""What any client may cost: limits, rate limits, connection caps and throttled log lines.

A charger (or anything else on the network) that misbehaves gets a specific
answer and costs bounded memory, CPU and log space; every other charger is
served as usual. The numbers are central-system-wide (the entry's options).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
import logging
import time
from typing import Any

from .settings import ChargePointSettings

type Clock = Callable[[], float]

KIB = 1024
# The close codes a charger gets for what it sent (RFC 6455 7.4.1).
CLOSE_POLICY_VIOLATION = 1008  # more messages than the rate limit allows
CLOSE_TOO_BIG = 1009  # a message longer than the frame size limit (websockets sends it)
CLOSE_INVALID_DATA = 1007  # a text frame that is not UTF-8 (websockets sends it)
# How many frames websockets buffers per connection before it stops reading the
# socket: OCPP is one request at a time, so a few are plenty, and each may be a
# frame of the maximum size.
MAX_QUEUED_FRAMES = 4
# Log lines shown per key and period before the rest are only counted.
LOG_BURST = 3
LOG_PERIOD_S = 60.0
# Keys remembered by a ThrottleMap (charge point ids, addresses); the least
# recently used are forgotten first, so a flood of made-up ids costs nothing.
MAX_THROTTLE_KEYS = 256
# Text from a charger in a log line: enough to recognise the frame.
LOGGED_TEXT_CHARS = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """Central-system-wide limits on what one client may send and open."""

    max_frame_bytes: int = 64 * KIB
    # Sustained messages per second per connection; a burst of ten seconds' worth
    # is allowed (a charger catching up on what it queued while offline).
    messages_per_second: float = 50.0
    max_connections: int = 200
    max_connections_per_address: int = 50
    # Seconds a client has to complete the opening handshake (TCP to WebSocket).
    handshake_timeout: float = 10.0

    @property
    def message_burst(self) -> float:
        """How many messages a connection may send at once before it is limited."""
        return self.messages_per_second * 10


def clipped(text: object, limit: int = LOGGED_TEXT_CHARS) -> str:
    """A charger's text for a log line: `repr` (no newlines or escapes), cut to `limit`."""
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown)} characters)"


class TokenBucket:
    """A rate limit: `rate` events per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        """Start full: a fresh connection may send its burst at once."""
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def take(self) -> bool:
        """Spend one token; False when there is none (the rate is exceeded)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Throttle:
    """Lets `burst` events through per `period` and counts the ones it holds back."""

    def __init__(
        self, burst: int = LOG_BURST, period: float = LOG_PERIOD_S, clock: Clock = time.monotonic
    ) -> None:
        """Nothing has happened yet."""
        self._burst = burst
        self._period = period
        self._clock = clock
        self._window_start = -period
        self._in_window = 0
        self.held_back = 0

    def allow(self) -> int | None:
        """None if this event is held back, else how many were held back before it."""
        now = self._clock()
        if now - self._window_start >= self._period:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        if self._in_window > self._burst:
            self.held_back += 1
            return None
        held_back, self.held_back = self.held_back, 0
        return held_back


class ThrottleMap:
    """One Throttle per key (a charge point id, an address), the least recent forgotten."""

    def __init__(
        self,
        burst: int = LOG_BURST,
        period: float = LOG_PERIOD_S,
        clock: Clock = time.monotonic,
        max_keys: int = MAX_THROTTLE_KEYS,
    ) -> None:
        """No key seen yet."""
        self._burst, self._period, self._clock = burst, period, clock
        self._max_keys = max_keys
        self._throttles: OrderedDict[str, Throttle] = OrderedDict()

    def __getitem__(self, key: str) -> Throttle:
        """The throttle of a key, made when first asked for."""
        if (throttle := self._throttles.get(key)) is None:
            throttle = self._throttles[key] = Throttle(self._burst, self._period, self._clock)
            if len(self._throttles) > self._max_keys:
                self._throttles.popitem(last=False)
        else:
            self._throttles.move_to_end(key)
        return throttle


class FaultLog:
    """The log lines one charger's faults cost: a few per minute, the rest a count.

    A fault held back is a DEBUG line; the first few of each minute are logged at
    their level, and the next one logged says how many were held back.
    """

    def __init__(self, throttle: Throttle | None = None) -> None:
        """Log through `throttle` (shared by all connections of one charger)."""
        self._throttle = throttle or Throttle()

    def warning(self, logger: logging.Logger, msg: str, *args: Any) -> None:
        """Warn about a fault, or count it when this charger has warned enough lately."""
        self.log(logging.WARNING, logger, msg, *args)

    def log(
        self, level: int, logger: logging.Logger, msg: str, *args: Any, exc_info: bool = False
    ) -> None:
        """Log a fault at `level`, or count it when this charger has logged enough lately."""
        if (held_back := self._throttle.allow()) is None:
            logger.debug(msg, *args)
            return
        if held_back:
            msg += " (%d similar problems in the last minute not logged)"
            args = (*args, held_back)
        logger.log(level, msg, *args, exc_info=exc_info)

    def flush(self, logger: logging.Logger, charge_point_id: str) -> None:
        """Say how many faults went unlogged (when the charger disconnects)."""
        if held_back := self._throttle.held_back:
            self._throttle.held_back = 0
            logger.warning("%s: %d more problems were not logged", charge_point_id, held_back)


class ConnectionCaps:
    """Counts open TCP connections, in total and per source address, and refuses extras.

    Counted from accept to close, the handshake included: clients that open
    sockets and never finish a handshake (slowloris) fill their own quota only.
    """

    def __init__(self, limits: Limits) -> None:
        """No connection open yet."""
        self.limits = limits
        self.total = 0
        self._per_address: dict[str, int] = {}

    def admit(self, address: str) -> str | None:
        """Count a new connection from `address`; the reason it is refused, or None."""
        if self.total >= self.limits.max_connections:
            return (
                f"{self.total} connections are open, the most this central system "
                "accepts (a limit in its options)"
            )
        count = self._per_address.get(address, 0)
        if count >= self.limits.max_connections_per_address:
            return (
                f"{count} connections from this address are open, the most one address "
                "may have (a limit in the central system's options)"
            )
        self.total += 1
        self._per_address[address] = count + 1
        return None

    def release(self, address: str) -> None:
        """An admitted connection closed."""
        self.total -= 1
        if (count := self._per_address[address] - 1) > 0:
            self._per_address[address] = count
        else:
            del self._per_address[address]


@dataclass
class ConnectionGuard:
    """What one charger connection may send, and where its faults are logged."""

    limits: Limits = field(default_factory=Limits)
    faults: FaultLog = field(default_factory=FaultLog)
    # The charger's settings as they are now (they change live).
    settings: Callable[[], ChargePointSettings] = ChargePointSettings
    clock: Clock = time.monotonic
    rate: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        """Each connection starts with a full burst."""
        self.rate = TokenBucket(
            self.limits.messages_per_second, self.limits.message_burst, self.clock
        )
