"""Whether to believe a reading of a cumulative energy register.

A register only rises, and by little between two samples. A reading that does
anything else is held as suspect, never shown or billed on its own: one glitch
(0xFFFFFFFF, Wh reported as kWh, a zero) must not become the value everything
after it is compared with. The next reading decides. Close to the suspect one,
the suspect was real: a leap (the charger was offline while charging) or, for a
drop, a meter reset (a replaced meter, a firmware reset, a charger counting per
session), once the register rises from there. Otherwise the suspect one was a
glitch and is dropped.

Readings are compared with the meter's resolution in mind: 91.67 Wh and
91.6667 Wh are one reading at two precisions, not a register going backwards.
A negative reading is no register reading at all.
"""

from __future__ import annotations

from enum import Enum, auto


class Verdict(Enum):
    """What to do with a register reading newer than the last one believed."""

    USE = auto()  # (a reading below the last one within the resolution keeps the last)
    INVALID = auto()  # negative: not a register reading
    BACKWARDS = auto()  # dropped below the last one: held until the next reading decides
    SUSPECT = auto()  # leapt too far: held until the next reading confirms it
    CONFIRMED = auto()  # the held leap was real: use it, and this reading
    RESET = auto()  # the held drop was real: the meter was reset; count on from here


def judge(
    last: float | None,
    suspect: float | None,
    reading: float,
    jump_limit: float,
    resolution: float = 0.0,
) -> Verdict:
    """Judge `reading` against the last believed value and a held suspect one.

    `resolution` is the coarser step of the readings compared: differences within
    it are rounding, not movement.
    """
    if reading < 0:
        return Verdict.INVALID
    if last is None:
        return Verdict.USE
    rise = reading - last
    if -resolution <= rise <= jump_limit:
        return Verdict.USE
    if suspect is not None:
        gap = reading - suspect
        if suspect > last and -resolution <= gap <= jump_limit:
            return Verdict.CONFIRMED
        # A reset shows as a register counting on from where it dropped: a second
        # equal reading (a meter read failure sending 0 twice) confirms nothing.
        if suspect < last and resolution < gap <= jump_limit:
            return Verdict.RESET
    return Verdict.BACKWARDS if rise < 0 else Verdict.SUSPECT
