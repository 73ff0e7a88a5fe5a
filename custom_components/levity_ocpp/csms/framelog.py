"""The recent frames of one charge point, for diagnostics: bounded in count and in bytes.

Whatever a charger sends (a burst of 1 MiB frames, binary garbage), the log keeps
at most FRAME_LOG_BYTES of text per charge point: each frame is cut to its first
MAX_FRAME_TEXT characters, its full size noted, and the oldest frames go first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

FRAME_LOG_SIZE = 200  # frames
FRAME_LOG_BYTES = 128 * 1024  # all frames of one charge point together
MAX_FRAME_TEXT = 4096  # characters kept of one frame


class Direction(StrEnum):
    """Which way an OCPP frame travelled."""

    RECEIVED = "received"
    SENT = "sent"


@dataclass(slots=True, frozen=True)
class Frame:
    """One OCPP frame as it crossed the wire (its start, if it was long)."""

    time: datetime
    direction: Direction
    text: str
    # Bytes on the wire (UTF-8); more than `text` holds when the frame was cut.
    size: int
    truncated: bool = False  # `text` is only the start of the frame
    binary: bool = False  # a binary WebSocket frame, shown decoded as UTF-8

    @property
    def cost(self) -> int:
        """What this entry counts against the log's byte budget."""
        return _utf8_size(self.text)


def _utf8_size(text: str) -> int:
    # Most frames are ASCII: their length is their size, without encoding them.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def frame_of(direction: Direction, data: str | bytes) -> Frame:
    """A log entry for a frame as received or sent, cut to MAX_FRAME_TEXT characters."""
    now = datetime.now(UTC)
    if isinstance(data, bytes):
        # Decoded for the log only; a binary frame is not OCPP-J, whatever it holds.
        text = data[:MAX_FRAME_TEXT].decode("utf-8", "replace")
        return Frame(now, direction, text, len(data), len(data) > MAX_FRAME_TEXT, binary=True)
    if len(data) <= MAX_FRAME_TEXT:
        return Frame(now, direction, data, _utf8_size(data))
    return Frame(now, direction, data[:MAX_FRAME_TEXT], _utf8_size(data), truncated=True)


class FrameLog:
    """The last frames of a charge point, oldest first, within a count and a byte budget."""

    def __init__(self, size: int = FRAME_LOG_SIZE, budget: int = FRAME_LOG_BYTES) -> None:
        """Empty."""
        self._frames: deque[Frame] = deque()
        self._size = size
        self._budget = budget
        self.bytes = 0  # what the kept frames' text takes (UTF-8)

    def append(self, frame: Frame) -> None:
        """Keep a frame, forgetting the oldest ones beyond the count or the budget."""
        self._frames.append(frame)
        self.bytes += frame.cost
        while len(self._frames) > self._size or (
            self.bytes > self._budget and len(self._frames) > 1
        ):
            self.bytes -= self._frames.popleft().cost

    def extend(self, frames: Iterable[Frame]) -> None:
        """Append frames in order (within the same bounds)."""
        for frame in frames:
            self.append(frame)

    def __iter__(self) -> Iterator[Frame]:
        """The frames, oldest first."""
        return iter(self._frames)

    def __len__(self) -> int:
        """How many frames are kept."""
        return len(self._frames)

    def __getitem__(self, index: int) -> Frame:
        """A frame by position (0: the oldest, -1: the newest)."""
        return self._frames[index]
