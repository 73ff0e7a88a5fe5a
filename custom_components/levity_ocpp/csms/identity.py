"""When two charge point ids are the same charger, and when one only looks like another.

OCPP ids are case-insensitive, so `cpx` *is* the charger `CPX` (and must
authenticate as it). An id that only looks like a known one - `CPX` spelt with Cyrillic
letters, `CPX` with a zero-width space, `CP1` written `CPl` - is refused: it would
be a second device that a user cannot tell from the real one.

Two forms decide it:
- `canonical`: NFKC, case-folded, invisible characters and surrounding
  whitespace removed. The same canonical form is the same charger.
- `skeleton`: the canonical idea plus confusable glyphs mapped to the Latin
  letter or digit they imitate (after Unicode TS #39; a compact table for what
  matters in ids: Latin letters, digits, '-', '_', '.'). The same skeleton with
  a different canonical form is a look-alike.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
import unicodedata

from .paths import InvalidChargePointId

# Characters that render as nothing (or as a blank) wherever they are.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u2800\u3164\ufeff\uffa0" + "".join(map(chr, range(0xFE00, 0xFE10)))  # variation selectors
)


def _table(pairs: str) -> dict[int, str]:
    """Pairs separated by blanks: a look-alike first, then what it imitates."""
    return {ord(pair[0]): pair[1:] for pair in pairs.split()}


# Applied case-sensitively (capital Greek eta looks like H, small eta like n),
# after NFD so accents stay accents. NFKC has already taken care of full-width,
# mathematical and other compatibility forms.
CONFUSABLES = _table(
    # Cyrillic capitals and small letters
    "\u0410A \u0412B \u0415E \u0405S \u0406l \u0408J \u041aK \u041cM "
    "\u041dH \u041eO \u0420P \u0421C \u0422T \u0425X \u0423Y \u04aeY "
    "\u051aQ \u051cW \u04c0l \u04173 \u042cb \u050cG \u0500d \u04baH "
    "\u0430a \u0432B \u0435e \u0455s \u0456i \u0458j \u043ak \u043eo "
    "\u0440p \u0441c \u0443y \u0445x \u04bbh \u0501d \u051bq \u051dw "
    "\u04cfl \u044cb \u043fn "
    # Greek capitals and small letters
    "\u0391A \u0392B \u0395E \u0396Z \u0397H \u0399l \u039aK \u039cM "
    "\u039dN \u039fO \u03a1P \u03a4T \u03a5Y \u03a7X \u03f9C \u03dcF "
    "\u03faM "
    "\u03b1a \u03bfo \u03c1p \u03bdv \u03b9i \u03bak \u03c5u \u03c7x "
    "\u03b3y \u03c9w \u03f2c \u03b7n \u03f3j "
    # Armenian
    "\u0555O \u054fS \u054dU \u053cL \u0585o \u057du \u0570h \u0578n "
    "\u0566q \u0581g "
    # Cherokee capitals imitating Latin ones
    "\u13aaA \u13f4B \u13dfC \u13acE \u13bbH \u13abJ \u13e6K \u13b7M "
    "\u13e2P \u13daS \u13a2T \u13d9V \u13d4W \u13c3Z "
    # Latin letters that imitate other Latin letters
    "\u0131i \u0237j \u0269i \u0251a \u0261g \u029fL \u2113l "
    # Digits and letters that imitate each other: the skeleton uses the letter
    "0O 1l Il |l "
    # Look-alikes of the punctuation ids use
    "\u2010- \u2011- \u2012- \u2013- \u2014- \u2015- \u2212- \u02d7- "
    "\u2043- \u30fc- "
    "\u02cd_ \u07fa_ "
    "\u00b7. \u2024. \u0660. \u06f0. \ua4f8. \u0701. \u0702. \u2219. "
    "\u22c5. \u30fb."
)
# Pairs of letters that read as one.
SEQUENCES = (("rn", "m"), ("vv", "w"), ("VV", "W"))


class LookAlikeChargePointId(InvalidChargePointId):
    """A connecting id that looks like a known charge point's but is a different id."""


def _visible(text: str) -> str:
    return "".join(char for char in text if char not in INVISIBLE)


@lru_cache(maxsize=1024)
def canonical(charge_point_id: str) -> str:
    """The form under which ids are the same charger: NFKC, case-folded, visible, trimmed."""
    text = _visible(unicodedata.normalize("NFKC", charge_point_id)).strip()
    return unicodedata.normalize("NFKC", text.casefold())


@lru_cache(maxsize=1024)
def skeleton(charge_point_id: str) -> str:
    """The form under which ids look alike: confusable glyphs replaced by what they imitate."""
    text = _visible(unicodedata.normalize("NFKC", charge_point_id)).strip()
    text = unicodedata.normalize("NFD", text).translate(CONFUSABLES)
    for sequence, letter in SEQUENCES:
        text = text.replace(sequence, letter)
    return unicodedata.normalize("NFD", text.casefold().translate(CONFUSABLES))


def resolve(charge_point_id: str, known: Collection[str]) -> str:
    """The id of the known charge point a connecting id names, or the id itself if new.

    Raise LookAlikeChargePointId when it is a new id that looks like a known one,
    or when it matches several known ids (from before ids were compared this way)
    and none exactly.
    """
    if charge_point_id in known:
        return charge_point_id
    key = canonical(charge_point_id)
    same = sorted(other for other in known if canonical(other) == key)
    if len(same) == 1:
        return same[0]
    if same:
        raise LookAlikeChargePointId(
            f"it could be any of the known charge points {', '.join(map(repr, same))}: "
            "connect with the exact id",
            public="the id matches several known charge points",
        )
    shape = skeleton(charge_point_id)
    if like := sorted(other for other in known if skeleton(other) == shape):
        raise LookAlikeChargePointId(
            f"it looks like the known charge point {like[0]!r} but is a different id "
            "(look-alike letters from another script, or similar characters)",
            public="the id looks like another charge point's",
        )
    return charge_point_id
