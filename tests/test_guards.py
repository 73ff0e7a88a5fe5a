"""The HA-free pieces that bound what a client costs: ids, frames, throttles, caps, frame log."""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging

from ocpp.exceptions import FormatViolationError, ProtocolError
import pytest

from custom_components.levity_ocpp.csms.framelog import (
    FRAME_LOG_BYTES,
    MAX_FRAME_TEXT,
    Direction,
    FrameLog,
    frame_of,
)
from custom_components.levity_ocpp.csms.frames import MAX_DEPTH, message_id_of, parse
from custom_components.levity_ocpp.csms.guards import (
    ConnectionCaps,
    FaultLog,
    Limits,
    Throttle,
    ThrottleMap,
    TokenBucket,
    clipped,
)
from custom_components.levity_ocpp.csms.identity import (
    LookAlikeChargePointId,
    canonical,
    resolve,
    skeleton,
)
from custom_components.levity_ocpp.csms.lenient import fit_call, fit_result
from custom_components.levity_ocpp.csms.model import ChargePoint


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Ids: the same charger, or only a look-alike

KNOWN = {"CPX", "Garage-1"}


@pytest.mark.parametrize(
    ("connecting", "charger"),
    [
        ("CPX", "CPX"),
        ("cpx", "CPX"),  # OCPP ids are case-insensitive
        ("cPx", "CPX"),
        ("\uff23\uff30\uff38", "CPX"),  # full-width letters: NFKC makes them CPX
        ("GARAGE-1", "Garage-1"),
        ("CPY", "CPY"),  # a new charger
        ("Garage-2", "Garage-2"),
    ],
)
def test_case_and_width_variants_are_the_known_charger(connecting: str, charger: str) -> None:
    assert resolve(connecting, KNOWN) == charger


@pytest.mark.parametrize(
    "connecting",
    [
        "\u0421\u0420X",  # Cyrillic Es and Er: looks like CPX
        "\u0441\u0440x",  # the same in small letters
        "CP\u03a7",  # Greek capital chi
        "Garage\u20131",  # an en dash for the hyphen
        "Garage-l",  # a small L for the digit one
        "Garage-I",  # a capital i for the digit one
        "Garag\u0435-1",  # a Cyrillic small ie
    ],
)
def test_look_alikes_of_a_known_charger_are_refused(connecting: str) -> None:
    with pytest.raises(LookAlikeChargePointId, match="looks like the known charge point") as error:
        resolve(connecting, KNOWN)
    # The client is not told which charger it resembles.
    assert "known charge point" not in error.value.public


def test_an_id_matching_several_known_ones_must_be_exact() -> None:
    # Stored before ids were compared: both spellings exist.
    known = {"cpx", "CPX"}
    assert resolve("cpx", known) == "cpx"
    assert resolve("CPX", known) == "CPX"
    with pytest.raises(LookAlikeChargePointId, match="any of the known charge points"):
        resolve("Cpx", known)


def test_canonical_and_skeleton_forms() -> None:
    assert canonical("CPX\u200b") == canonical(" CPX\u00a0") == "cpx"
    assert canonical("CP\u2460") == "cp1"  # a circled digit
    assert skeleton("rn-1") == skeleton("m-l") == skeleton("M-I")
    assert skeleton("CP0") == skeleton("CPO")
    # Accents stay accents: "é" is not "e".
    assert skeleton("évse") != skeleton("evse")
    # Cyrillic yo is the Latin e with diaeresis, both decomposed.
    assert skeleton("\u0451") == skeleton("\u00eb")


# Frames


@pytest.mark.parametrize(
    ("raw", "error", "cause"),
    [
        (b'[2,"a","Heartbeat",{}]', FormatViolationError, "binary frame of 22 bytes"),
        ("[" * 100_000, FormatViolationError, "nested"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), FormatViolationError, "nested deeper"),
        ('[2,"a","Heartbeat",{"n":' + "9" * 5000 + "}]", FormatViolationError, "not valid JSON"),
        ('[2,"a","DataTransfer",{"vendorId":NaN}]', FormatViolationError, "NaN is not a JSON"),
        ("[]", ProtocolError, "no MessageTypeId"),
        ('"text"', ProtocolError, "not str"),
        ('[2.0,"a","Heartbeat",{}]', Exception, "is not 2, 3 or 4"),
        ('[true,"a"]', Exception, "is not 2, 3 or 4"),
        ('[3,"a"]', ProtocolError, "wrong number of elements"),
    ],
)
def test_broken_frames_are_short_specific_errors(raw: str | bytes, error: type, cause: str) -> None:
    with pytest.raises(error) as raised:
        parse(raw)
    details = raised.value.details
    assert cause in details["cause"]
    assert len(json.dumps(details)) < 300  # nothing of the frame echoed


def test_a_frame_at_the_depth_limit_is_a_message() -> None:
    payload: object = "x"
    for _ in range(MAX_DEPTH - 2):
        payload = [payload]
    message = parse(json.dumps([2, "deep", "DataTransfer", {"vendorId": "a", "data": payload}]))
    assert message.unique_id == "deep"


@pytest.mark.parametrize(
    ("raw", "unique_id"),
    [
        ('[2,"id7","Heartbeat"', "-1"),
        ('[2,"id7",5]', "id7"),
        ("[" * 100_000, "-1"),
        (b"\xff\xfe", "-1"),
        ('[2,"' + "x" * 37 + '"]', "-1"),
        ("[2]", "-1"),
    ],
)
def test_message_id_of_broken_frames(raw: str | bytes, unique_id: str) -> None:
    assert message_id_of(raw) == unique_id


# Leniency for chargers with schema validation off


def test_lenient_calls_keep_what_the_handler_takes() -> None:
    def handler(connector_id: int, status: str, info: str | None = None) -> None:
        """A handler of two required fields."""

    payload = {"connectorId": 1, "status": "Available", "colour": "red"}
    assert fit_call(handler, payload) == {"connectorId": 1, "status": "Available"}
    with pytest.raises(ProtocolError, match="incomplete") as missing:
        fit_call(handler, {"connectorId": 1})
    assert missing.value.details == {"cause": "missing status"}

    def anything(**fields: object) -> None:
        """Takes every field."""

    assert fit_call(anything, payload) is payload


def test_lenient_results_keep_their_dataclass_fields() -> None:
    @dataclass
    class Result:
        status: str
        data: str | None = None

    assert fit_result(Result, {"status": "Accepted", "extra": 1}) == {"status": "Accepted"}
    with pytest.raises(FormatViolationError, match="lacks status"):
        fit_result(Result, {"data": "x"})
    with pytest.raises(FormatViolationError, match="not an object"):
        fit_result(Result, ["Accepted"])


# Throttles, rate limits and caps


def test_throttle_lets_a_few_through_and_counts_the_rest() -> None:
    clock = Clock()
    throttle = Throttle(burst=2, period=60, clock=clock)
    assert [throttle.allow() for _ in range(5)] == [0, 0, None, None, None]
    clock.now += 60
    assert throttle.allow() == 3  # the next one says how many were held back
    assert throttle.allow() == 0


def test_fault_log_is_bounded_and_says_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    faults = FaultLog(Throttle(burst=3, period=60, clock=clock))
    logger = logging.getLogger("tests.faults")
    with caplog.at_level(logging.DEBUG, logger="tests.faults"):
        for number in range(100):
            faults.warning(logger, "fault %d", number)
        clock.now += 61
        faults.warning(logger, "fault %d", 100)
        faults.warning(logger, "fault %d", 101)
        for _ in range(5):
            faults.warning(logger, "again")
        faults.flush(logger, "CP1")
        faults.flush(logger, "CP1")  # nothing more to say
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "fault 0",
        "fault 1",
        "fault 2",
        "fault 100 (97 similar problems in the last minute not logged)",
        "fault 101",
        "again",
        "CP1: 4 more problems were not logged",
    ]


def test_throttle_map_forgets_the_least_recent_key() -> None:
    throttles = ThrottleMap(burst=1, max_keys=2)
    first = throttles["a"]
    first.allow()
    throttles["b"]
    assert throttles["a"] is first  # used again: now the most recent
    throttles["c"]  # "b" goes
    assert throttles["a"] is first
    assert throttles["b"].allow() == 0  # a fresh one


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=4, clock=clock)
    assert [bucket.take() for _ in range(5)] == [True] * 4 + [False]
    clock.now += 1
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 100  # never more than the burst saved up
    assert sum(bucket.take() for _ in range(10)) == 4


def test_connection_caps_per_address_and_in_total() -> None:
    caps = ConnectionCaps(Limits(max_connections=3, max_connections_per_address=2))
    assert caps.admit("10.0.0.1") is None
    assert caps.admit("10.0.0.1") is None
    assert "from this address" in str(caps.admit("10.0.0.1"))
    assert caps.admit("10.0.0.2") is None
    assert "connections are open" in str(caps.admit("10.0.0.3"))
    caps.release("10.0.0.1")
    assert caps.admit("10.0.0.3") is None
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        caps.release(address)
    assert caps.total == 0
    assert caps.admit("10.0.0.1") is None


def test_clipped_is_one_line_and_short() -> None:
    assert clipped("a\nb\u2028") == "'a\\nb\\u2028'"
    long = clipped("x" * 1000, 50)
    assert long.startswith("'xxx") and long.endswith("(1002 characters)")
    assert len(long) < 80


# The frame log


def test_frame_log_is_bounded_in_bytes() -> None:
    model = ChargePoint("CP1")
    for number in range(100):
        model.log_frame(Direction.RECEIVED, f'[2,"{number}","DataTransfer",' + "x" * (1 << 20))
    assert model.frames.bytes <= FRAME_LOG_BYTES
    assert sum(frame.cost for frame in model.frames) == model.frames.bytes
    newest = model.frames[-1]
    assert newest.truncated
    assert newest.size > 1 << 20
    assert len(newest.text) == MAX_FRAME_TEXT
    assert newest.text.startswith('[2,"99"')
    # Small frames are kept whole, up to the count.
    model.log_frame(Direction.SENT, '[3,"1",{}]')
    assert not model.frames[-1].truncated
    assert model.frames[-1].size == 10


def test_frame_log_of_binary_and_wide_frames() -> None:
    binary = frame_of(Direction.RECEIVED, b"\xff\xfe" * 5000)
    assert binary.binary and binary.truncated
    assert binary.size == 10_000
    assert len(binary.text) <= MAX_FRAME_TEXT
    wide = frame_of(Direction.RECEIVED, "\U0001f600" * 10)  # 4 bytes each in UTF-8
    assert wide.size == wide.cost == 40
    log = FrameLog(size=10, budget=100)
    for _ in range(5):
        log.append(wide)
    assert len(log) == 2 and log.bytes == 80
    log.append(frame_of(Direction.RECEIVED, "y" * 500))  # over the budget alone: kept alone
    assert len(log) == 1 and log[0].size == 500


def test_anomalies_quoting_a_charger_are_cut() -> None:
    model = ChargePoint("CP1")
    model.record_anomaly("odd value " + "x" * 10_000)
    [anomaly] = model.anomalies
    assert len(anomaly.description) < 600
    assert anomaly.description.endswith("(10010 characters)")
