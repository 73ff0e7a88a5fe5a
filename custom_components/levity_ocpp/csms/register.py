"""Whether to believe a reading of a cumulative energy register.

A register only rises, and by little between two samples. A reading below the
last one believed is a glitch (or a replaced meter) and is not used. A reading
that leaps more than the jump limit is held as suspect: one glitch (0xFFFFFFFF,
Wh reported as kWh) must not become the value everything after it is compared
with, or every real reading that follows would look like it went backwards. The
next reading decides: close to the suspect one, the leap was real and both
count; otherwise the suspect one is dropped.
"""

from __future__ import annotations

from enum import Enum, auto


class Verdict(Enum):
    """What to do with a register reading newer than the last one believed."""

    USE = auto()
    BACKWARDS = auto()  # lower than the last one believed: not used
    SUSPECT = auto()  # leapt too far: held until the next reading confirms it
    CONFIRMED = auto()  # the held leap was real: use it, and this reading


def judge(last: float | None, suspect: float | None, reading: float, jump_limit: float) -> Verdict:
    """Judge `reading` against the last believed value and a held suspect one."""
    if last is None:
        return Verdict.USE
    if reading < last:
        return Verdict.BACKWARDS
    if reading - last <= jump_limit:
        return Verdict.USE
    if suspect is not None and 0 <= reading - suspect <= jump_limit:
        return Verdict.CONFIRMED
    return Verdict.SUSPECT
