"""The recent frames of one charge point, for diagnostics: bounded in count and in bytes.

Whatever a charger sends (a burst of 1 MiB frames, binary garbage), the log keeps
at most FRAME_LOG_BYTES of text per charge point: each frame is cut to its first
MAX_FRAME_TEXT characters, its full size noted, and the oldest frames go first.

It lives as long as its charge point and takes a frame per message, so it is kept
compact: the time, size and flags of each frame in flat arrays, the newest texts as
strings (which the garbage collector does not track), and older ones sealed in
chunks of a few frames compressed together (a charger's frames repeat each other:
a full log of MeterValues takes a tenth of its text). A `Frame` is made only when
someone reads the log (diagnostics); a thousand chargers' logs add a few tracked
objects each, not one per frame. What the budget counts is the text, compressed or
not, so which frames are kept does not depend on how well they compress.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import time
import zlib

FRAME_LOG_SIZE = 200  # frames
FRAME_LOG_BYTES = 128 * 1024  # all frames of one charge point together
MAX_FRAME_TEXT = 4096  # characters kept of one frame
# Texts are sealed into a compressed chunk by this many frames, or this much text:
# few enough that the uncompressed newest ones cost little, enough to compress well.
CHUNK_FRAMES = 16
CHUNK_BYTES = 16 * 1024


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


def _cut(data: str | bytes) -> tuple[str, int, bool, bool]:
    """The text kept of a frame, its size on the wire, whether cut, whether binary."""
    if isinstance(data, bytes):
        # Decoded for the log only; a binary frame is not OCPP-J, whatever it holds.
        text = data[:MAX_FRAME_TEXT].decode("utf-8", "replace")
        return text, len(data), len(data) > MAX_FRAME_TEXT, True
    if len(data) <= MAX_FRAME_TEXT:
        return data, _utf8_size(data), False, False
    return data[:MAX_FRAME_TEXT], _utf8_size(data), True, False


def frame_of(direction: Direction, data: str | bytes) -> Frame:
    """A log entry for a frame as received or sent, cut to MAX_FRAME_TEXT characters."""
    text, size, truncated, binary = _cut(data)
    return Frame(datetime.now(UTC), direction, text, size, truncated, binary)


# A frame's size and flags in one integer of the `_sizes` array.
_SENT = 1
_TRUNCATED = 2
_BINARY = 4
_FLAG_BITS = 3


class FrameLog:
    """The last frames of a charge point, oldest first, within a count and a byte budget."""

    __slots__ = (
        "_budget",
        "_chunk_counts",
        "_chunks",
        "_costs",
        "_dropped",
        "_dropped_bytes",
        "_recent",
        "_recent_cost",
        "_size",
        "_sizes",
        "_times",
        "bytes",
    )

    def __init__(self, size: int = FRAME_LOG_SIZE, budget: int = FRAME_LOG_BYTES) -> None:
        """Empty."""
        # The texts, oldest first: compressed chunks (each its frames' UTF-8 text, one
        # after the other; the first `_dropped` frames, `_dropped_bytes`, of the
        # oldest chunk are forgotten already), then the newest ones as they came.
        # (A list and an array: a dozen chunks at most, and an empty deque takes 760 bytes.)
        self._chunks: list[bytes] = []
        self._chunk_counts = array("q")
        self._dropped = self._dropped_bytes = 0
        self._recent: list[str] = []
        self._recent_cost = 0
        self._times = array("d")  # seconds since the epoch
        self._sizes = array("q")  # size on the wire << _FLAG_BITS | flags
        self._costs = array("q")  # what each text counts against the budget: its UTF-8 size
        self._size = size
        self._budget = budget
        self.bytes = 0  # what the kept frames' text takes (UTF-8)

    def record(self, direction: Direction, data: str | bytes) -> None:
        """Keep a frame as received or sent now (the hot path: no Frame is made)."""
        text, size, truncated, binary = _cut(data)
        cost = size if not (truncated or binary) else _utf8_size(text)
        self._keep(time.time(), direction, text, size, truncated, binary, cost)

    def append(self, frame: Frame) -> None:
        """Keep a frame, forgetting the oldest ones beyond the count or the budget."""
        self._keep(
            frame.time.timestamp(),
            frame.direction,
            frame.text,
            frame.size,
            frame.truncated,
            frame.binary,
            frame.cost,
        )

    def _keep(
        self,
        at: float,
        direction: Direction,
        text: str,
        size: int,
        truncated: bool,
        binary: bool,
        cost: int,
    ) -> None:
        flags = (
            (_SENT if direction is Direction.SENT else 0)
            | (_TRUNCATED if truncated else 0)
            | (_BINARY if binary else 0)
        )
        self._recent.append(text)
        self._recent_cost += cost
        self._times.append(at)
        self._sizes.append(size << _FLAG_BITS | flags)
        self._costs.append(cost)
        self.bytes += cost
        while len(self._costs) > self._size or (self.bytes > self._budget and len(self._costs) > 1):
            self._forget_oldest()
        if len(self._recent) >= CHUNK_FRAMES or self._recent_cost >= CHUNK_BYTES:
            self._seal()

    def _forget_oldest(self) -> None:
        del self._times[0], self._sizes[0]
        cost = self._costs.pop(0)
        self.bytes -= cost
        if not self._chunks:
            self._recent.pop(0)
            self._recent_cost -= cost
            return
        self._dropped += 1
        self._dropped_bytes += cost
        if self._dropped == self._chunk_counts[0]:
            del self._chunks[0], self._chunk_counts[0]
            self._dropped = self._dropped_bytes = 0

    def _seal(self) -> None:
        """Compress the newest texts into a chunk."""
        text = "".join(self._recent).encode("utf-8", "surrogatepass")
        self._chunks.append(zlib.compress(text, 1))
        self._chunk_counts.append(len(self._recent))
        self._recent = []
        self._recent_cost = 0

    def _texts(self) -> Iterator[str]:
        """The kept texts, oldest first."""
        position = 0
        forgotten, offset = self._dropped, self._dropped_bytes  # of the oldest chunk
        for chunk, count in zip(self._chunks, self._chunk_counts, strict=True):
            data = zlib.decompress(chunk)
            for _ in range(count - forgotten):
                cost = self._costs[position]
                yield data[offset : offset + cost].decode("utf-8", "surrogatepass")
                offset += cost
                position += 1
            forgotten = offset = 0
        yield from self._recent

    def extend(self, frames: Iterable[Frame]) -> None:
        """Append frames in order (within the same bounds)."""
        for frame in frames:
            self.append(frame)

    def _frame(self, index: int, text: str) -> Frame:
        packed = self._sizes[index]
        return Frame(
            datetime.fromtimestamp(self._times[index], UTC),
            Direction.SENT if packed & _SENT else Direction.RECEIVED,
            text,
            packed >> _FLAG_BITS,
            truncated=bool(packed & _TRUNCATED),
            binary=bool(packed & _BINARY),
        )

    def __iter__(self) -> Iterator[Frame]:
        """The frames, oldest first."""
        return (self._frame(index, text) for index, text in enumerate(self._texts()))

    def __len__(self) -> int:
        """How many frames are kept."""
        return len(self._costs)

    def __getitem__(self, index: int) -> Frame:
        """A frame by position (0: the oldest, -1: the newest)."""
        if index < 0:
            index += len(self._costs)
        if not 0 <= index < len(self._costs):
            raise IndexError("frame log index out of range")
        if (recent := index - (len(self._costs) - len(self._recent))) >= 0:
            return self._frame(index, self._recent[recent])
        for position, text in enumerate(self._texts()):
            if position == index:
                return self._frame(index, text)
        raise AssertionError("unreachable")  # pragma: no cover
