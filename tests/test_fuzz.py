"""Fuzzing the frame handling: random and mutated frames, every answer well-formed.

Two levels:
- a property test of one protocol handler (no sockets, so Hypothesis can shrink a
  failure to the smallest frames that cause it);
- thousands of generated frames over several real connections into Home
  Assistant while another charger charges a session through it all.

Deterministic (`derandomize`), a bounded number of examples, no example database:
the same frames on every run, a few seconds each.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from hypothesis import HealthCheck, given, settings, strategies as st
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import ClientConnection, connect as ws_connect
from websockets.exceptions import ConnectionClosed

from custom_components.levity_ocpp.const import CONF_ADMISSION_POLICY, DOMAIN
from custom_components.levity_ocpp.csms.admission import Admission, Gate
from custom_components.levity_ocpp.csms.authorization import Authorizer
from custom_components.levity_ocpp.csms.framelog import FRAME_LOG_BYTES
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.sessions import SessionManager
from custom_components.levity_ocpp.csms.settings import AdmissionPolicy, ChargePointSettings
from custom_components.levity_ocpp.csms.transactions import TransactionBook
from custom_components.levity_ocpp.csms.v16 import ChargePointV16
from custom_components.levity_ocpp.limit_options import CONF_MESSAGE_RATE
from custom_components.levity_ocpp.migration import MINOR_VERSION
from custom_components.levity_ocpp.session_events import EVENT_SESSION_STOPPED

from .client import ConfiguredChargePoint
from .conftest import Connect
from .test_sessions import meter, sample, start, stop

# Some library of the test harness registers a PRNG Hypothesis cannot keep alive;
# nothing of ours draws from it.
pytestmark = pytest.mark.filterwarnings("ignore:It looks like `register_random`")

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Frames worth mutating: one of each message a charger sends, and answers.
TEMPLATES: list[list[Any]] = [
    [2, "1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}],
    [2, "2", "Heartbeat", {}],
    [
        2,
        "3",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
    ],
    [2, "4", "Authorize", {"idTag": "CARD"}],
    [
        2,
        "5",
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-01T10:00:00Z"},
    ],
    [
        2,
        "6",
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 1,
            "meterValue": [
                {
                    "timestamp": "2026-11-01T10:01:00Z",
                    "sampledValue": [
                        {"value": "12.5", "measurand": "Energy.Active.Import.Register"},
                        {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
            ],
        },
    ],
    [
        2,
        "7",
        "StopTransaction",
        {"meterStop": 10, "timestamp": "2026-11-01T11:00:00Z", "transactionId": 1},
    ],
    [2, "8", "DataTransfer", {"vendorId": "acme", "messageId": "x", "data": "{}"}],
    [2, "9", "FirmwareStatusNotification", {"status": "Installed"}],
    [3, "10", {"status": "Accepted"}],
    [4, "11", "InternalError", "oops", {}],
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid frame with one part replaced, a field changed, or its text damaged."""
    frame = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    how = draw(st.sampled_from(["part", "field", "drop", "text"]))
    if how == "part":
        frame[draw(st.integers(0, len(frame) - 1))] = draw(json_values)
    elif how in ("field", "drop") and isinstance(frame[-1], dict) and frame[-1]:
        key = draw(st.sampled_from(sorted(frame[-1])))
        if how == "drop":
            del frame[-1][key]
        else:
            frame[-1][key] = draw(json_values)
    text = json.dumps(frame)
    if how == "text" and text:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.text(max_size=3)) + text[at + draw(st.integers(0, 3)) :]
    return text


# What broke parsers before: deep nesting, numbers of thousands of digits, tokens
# that are not JSON, lone surrogates, long strings.
nasty = st.one_of(
    st.integers(30, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(30, 3000).map(
        lambda depth: (
            '[2,"deep","DataTransfer",{"vendorId":"a","data":' + "[" * depth + "]" * depth + "}]"
        )
    ),
    st.integers(4000, 6000).map(lambda digits: '[2,"n","Heartbeat",{"a":' + "9" * digits + "}]"),
    st.sampled_from(
        [
            "NaN",
            '[2,"x","DataTransfer",{"vendorId":NaN}]',
            '[2,"x","MeterValues",{"connectorId":Infinity,"meterValue":[]}]',
            '"\\ud800"',
            '[2,"\\ud800","Heartbeat",{}]',
            '[2,"s","DataTransfer",{"vendorId":"\\udfff"}]',
        ]
    ),
    st.integers(1000, 20000).map(lambda n: f'[2,"long","{"A" * n}",{{}}]'),
)

frames = st.one_of(
    mutated(),
    nasty,
    st.builds(json.dumps, json_values),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.builds(
        lambda kind, unique_id, action, payload: json.dumps([kind, unique_id, action, payload]),
        st.sampled_from([2, 3, 4, 5]),
        st.text(max_size=40) | st.integers(),
        st.sampled_from([t[2] for t in TEMPLATES if t[0] == 2]) | st.text(max_size=10),
        json_values,
    ),
)


def well_formed(reply: Any) -> bool:
    """An OCPP-J message as the spec frames it."""
    if not isinstance(reply, list) or not reply:
        return False
    match reply:
        case [3, str(), dict()]:
            return True
        case [4, str(), str(), str(), dict()]:
            return True
        case [2, str(), str(), dict()]:  # a request of the central system's
            return True
    return False


class Wire:
    """A fake connection: what the handler sends, nothing to receive."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closed by the handler (the rate limit)."""


class Errors(logging.Handler):
    """Collects ERRORs and tracebacks logged while a property example runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or (record.exc_info and record.levelno > logging.DEBUG):
            self.records.append(record)


@pytest.fixture
def errors() -> Any:
    handler = Errors()
    logger = logging.getLogger("custom_components.levity_ocpp")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@settings(FUZZ, max_examples=400)
@given(batch=st.lists(frames, min_size=1, max_size=8))
def test_any_frame_is_answered_well_or_not_at_all(batch: list[str | bytes], errors: Errors) -> None:
    async def run() -> Wire:
        wire = Wire()
        model = ChargePoint("FUZZ")
        hooks = CentralSystemHooks()
        book = TransactionBook()
        admission = Admission(policy=AdmissionPolicy.ACCEPT, is_approved=bool, hooks=hooks)
        handler = ChargePointV16(
            model,
            wire,
            hooks=hooks,
            sessions=SessionManager(book, hooks),
            authorizer=Authorizer(
                settings_for=lambda _: ChargePointSettings(),
                own_id_tag="HomeAssistant",
                transactions=lambda: book,
                charge_points={"FUZZ": model},
                hooks=hooks,
            ),
            gate=Gate(
                admission,
                "FUZZ",
                remote_address=None,
                subprotocol="ocpp1.6",
                admitted=True,
                on_admitted=lambda: None,
            ),
            heartbeat_interval=60,
            response_timeout=0.01,
        )
        for frame in batch:
            await handler.route_message(frame)
        await handler.shutdown()
        assert model.frames.bytes <= FRAME_LOG_BYTES
        return wire

    wire = asyncio.run(run())
    replies = [json.loads(text) for text in wire.sent]
    assert all(well_formed(reply) for reply in replies), replies
    # Every CALL with an id we may answer to is answered, with that id.
    calls = [json.loads(f)[1] for f in batch if _is_call(f) and _answerable_id(json.loads(f)[1])]
    answered = [reply[1] for reply in replies if reply[0] in (3, 4)]
    for unique_id in set(calls):
        assert answered.count(unique_id) >= calls.count(unique_id)
    assert not errors.records, [r.getMessage() for r in errors.records]


def _answerable_id(unique_id: object) -> bool:
    """OCPP-J: a MessageId is a string of 1 to 36 characters (printable text, so UTF-8)."""
    return isinstance(unique_id, str) and 0 < len(unique_id) <= 36 and unique_id.isprintable()


def _is_call(frame: str | bytes) -> bool:
    try:
        decoded = json.loads(frame)
    except ValueError, RecursionError:
        return False
    return (
        isinstance(decoded, list)
        and len(decoded) == 4
        and type(decoded[0]) is int
        and decoded[0] == 2
    )


def generate(strategy: st.SearchStrategy[Any], examples: int) -> list[Any]:
    """Deterministic draws of a strategy (the same on every run)."""
    drawn: list[Any] = []

    @settings(FUZZ, max_examples=examples)
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """The fuzzers send faster than a charger may: a rate limit they do not hit."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={
            "heartbeat_interval": 60,
            CONF_MESSAGE_RATE: 100_000,
            CONF_ADMISSION_POLICY: "accept",
        },
        minor_version=MINOR_VERSION,
    )


async def _fuzz_connection(
    port: int, charge_point_id: str, batches: list[list[str | bytes]], replies: list[Any]
) -> None:
    """Send batches over one connection (reconnecting when it is closed), keep the replies."""
    websocket: ClientConnection | None = None
    for number, batch in enumerate(batches):
        if websocket is None or websocket.close_code is not None:
            websocket = await ws_connect(
                f"ws://127.0.0.1:{port}/{charge_point_id}", subprotocols=["ocpp1.6"]
            )
        sentinel = f"end-{number}"
        try:
            for frame in batch:
                await websocket.send(frame)
            await websocket.send(json.dumps([2, sentinel, "Heartbeat", {}]))
            async with asyncio.timeout(10):
                while True:
                    reply = json.loads(await websocket.recv())
                    replies.append(reply)
                    if reply[1] == sentinel:
                        break
        except ConnectionClosed:
            continue  # (invalid UTF-8 in a text frame is impossible from here: str frames)
    if websocket is not None:
        await websocket.close()


async def test_thousands_of_fuzzed_frames_while_another_charger_charges(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    batches: list[list[str | bytes]] = generate(st.lists(frames, min_size=5, max_size=15), 300)
    assert sum(map(len, batches)) > 2000
    caplog.set_level(logging.INFO)  # debug records would keep every frame alive
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    replies: dict[str, list[Any]] = {f"FUZZ{n}": [] for n in range(4)}

    async with connect("/HEALTHY", charge_point_class=ConfiguredChargePoint) as healthy:
        await healthy.boot()
        await healthy.status(1, ChargePointStatus.charging)
        tx = await start(healthy)
        fuzzers = [
            asyncio.create_task(_fuzz_connection(port, cp_id, batches[n::4], replies[cp_id]))
            for n, cp_id in enumerate(replies)
        ]
        minute = 0
        while not all(task.done() for task in fuzzers):
            minute += 1
            await meter(healthy, tx, sample(minute, 1_000_000 + 10 * minute))
            await asyncio.sleep(0.01)
        await asyncio.gather(*fuzzers)
        await stop(healthy, tx, 1_000_000 + 10 * minute, minute + 1)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert len(stopped) == 1
    assert stopped[0].data["charge_point_id"] == "HEALTHY"
    assert stopped[0].data["energy_kwh"] == pytest.approx(10 * minute / 1000)
    everything = [reply for answers in replies.values() for reply in answers]
    assert len(everything) > 2000
    assert all(well_formed(reply) for reply in everything)
    # Memory: each charger's frame log within its budget, no connection left counted.
    central = setup_integration.runtime_data.central_system
    for model in central.charge_points.values():
        assert model.frames.bytes <= FRAME_LOG_BYTES
    # Diagnostics work after all of it.
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), setup_integration.entry_id):
        if device.name and device.name.startswith("FUZZ"):
            diagnostics = await get_diagnostics_for_device(
                hass, hass_client, setup_integration, device
            )
            assert len(json.dumps(diagnostics)) < 300 * 1024
    errors = [
        record.getMessage()
        for record in caplog.records
        if (record.levelno >= logging.ERROR or record.exc_info)
        and not record.name.startswith("ocpp")
    ]
    assert not errors
