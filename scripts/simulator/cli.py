"""Command line: ``scripts/simulate`` (``python -m scripts.simulator``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from .core import DEFAULT_URL, SimulatedChargePoint
from .logs import FRAMES_LOGGER, LOGGER
from .model import ConnectionFailed, Fault
from .v201_core import SimulatedChargingStation

VERSIONS = ("1.6", "2.0.1")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description="Simulated OCPP 1.6J (or, with --ocpp 2.0.1, 2.0.1) charge point. "
        "Connects, boots, heartbeats and answers the central system; --session charges "
        "an EV on connector (EVSE) 1.",
    )
    add = parser.add_argument
    add(
        "--ocpp",
        choices=VERSIONS,
        default="1.6",
        help="the OCPP version to speak (default: %(default)s); with 2.0.1, command "
        "names for --reject and the like are 2.0.1 actions (RequestStartTransaction...)",
    )
    add(
        "--rate-unit",
        choices=("A", "W", "A,W"),
        help="2.0.1: the units charging schedules may be in (default: A,W)",
    )
    add(
        "--aligned-interval",
        type=float,
        metavar="SECONDS",
        help="2.0.1: seconds between clock-aligned meter values, 0 for none (default: 60)",
    )
    add(
        "--url",
        default=DEFAULT_URL,
        help="central system URL ending in the charge point id (default: %(default)s)",
    )
    add("--connectors", type=int, default=1, metavar="N", help="default: 1")
    add("--vendor", default="Levity", help="default: %(default)s")
    add("--model", default="SimCharger", help="default: %(default)s")
    add("--serial", help="default: SIM-<charge point id>")
    add("--firmware", default="1.0.0-sim", help="default: %(default)s")
    add(
        "--no-subprotocol",
        dest="subprotocol",
        action="store_false",
        help="do not request the ocpp1.6 websocket subprotocol",
    )
    add(
        "--session",
        action="store_true",
        help="plug in an EV on connector 1 after boot and charge --energy-wh",
    )
    add(
        "--energy-wh",
        type=float,
        default=5000.0,
        metavar="WH",
        help="energy per session (default: %(default).0f)",
    )
    add(
        "--interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds between MeterValues (default: %(default)g)",
    )
    add("--phases", type=int, choices=(1, 3), default=3, help="default: 3")
    add("--amps", type=float, default=16.0, help="current per phase (default: %(default)g)")
    add("--volts", type=float, default=230.0, help="phase voltage (default: %(default)g)")
    add("--id-tag", default="SIMTAG", help="default: %(default)s")
    add(
        "--fault",
        choices=[f.value for f in Fault],
        help="halfway through the session: reboot (power cycle, no StopTransaction) "
        "or offline (buffer MeterValues, reconnect, flush)",
    )
    add(
        "--offline-intervals",
        type=int,
        default=3,
        metavar="N",
        help="how many intervals --fault offline lasts (default: %(default)s)",
    )
    add(
        "--speed",
        type=float,
        default=1.0,
        help="multiply the energy delivered per second, for quick runs (default: 1)",
    )
    add(
        "--boot-on-reconnect",
        action="store_true",
        help="send BootNotification after a network loss too, not only after a boot",
    )
    add(
        "--retries",
        type=int,
        default=10,
        help="consecutive failed connection attempts before giving up and exiting with "
        "status 1, a connection the central system closes within a minute counting as "
        "one; 0 for never (default: %(default)s)",
    )
    for flag, what in (
        ("--reject", "answer these commands with their refusal (Rejected, UnlockFailed...)"),
        ("--not-supported", "answer these commands with CALLERROR NotSupported"),
        ("--time-out", "never answer these commands"),
    ):
        add(flag, action="append", default=[], metavar="ACTION[,ACTION]", help=what)
    add(
        "--reject-purpose",
        action="append",
        default=[],
        metavar="PURPOSE",
        help="reject SetChargingProfile for this purpose (e.g. TxDefaultProfile)",
    )
    add(
        "--vendor-id",
        action="append",
        default=[],
        metavar="VENDOR",
        help="accept DataTransfer (echoing its data) for this vendor id; others get "
        "UnknownVendorId",
    )
    add("--seed", type=int, help="random seed for reproducible values")
    add(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="stop (ending any session) after this long; default: run until Ctrl-C",
    )
    add(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log every message sent and received; -vv also raw OCPP frames",
    )
    return parser.parse_args(argv)


def _names(values: list[str]) -> list[str]:
    """Names given as repeated options and/or comma-separated lists."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _setup_logging(verbose: int) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")
        logging.getLogger("websockets").setLevel(logging.WARNING)
    LOGGER.setLevel(logging.DEBUG if verbose else logging.INFO)
    FRAMES_LOGGER.setLevel(logging.INFO if verbose > 1 else logging.WARNING)


async def main(argv: list[str] | None = None) -> int:
    """Run the simulator from command-line arguments; return the exit code."""
    args = _parse_args(argv)
    _setup_logging(args.verbose)
    station: type[SimulatedChargePoint] = SimulatedChargePoint
    only_v201: dict[str, Any] = {}
    if args.rate_unit is not None:
        only_v201["rate_units"] = args.rate_unit
    if args.aligned_interval is not None:
        only_v201["aligned_interval"] = args.aligned_interval
    if args.ocpp == "2.0.1":
        station = SimulatedChargingStation
    elif only_v201:
        print(
            "scripts/simulate: error: --rate-unit and --aligned-interval need --ocpp 2.0.1",
            file=sys.stderr,
        )
        return 2
    try:
        sim = station(
            args.url,
            connectors=args.connectors,
            vendor=args.vendor,
            model=args.model,
            serial=args.serial,
            firmware=args.firmware,
            subprotocol=args.subprotocol,
            energy_wh=args.energy_wh,
            interval=args.interval,
            phases=args.phases,
            amps=args.amps,
            volts=args.volts,
            id_tag=args.id_tag,
            fault=args.fault,
            speed=args.speed,
            offline_intervals=args.offline_intervals,
            boot_on_reconnect=args.boot_on_reconnect,
            retries=args.retries,
            seed=args.seed,
            reject=_names(args.reject),
            not_supported=_names(args.not_supported),
            time_out=_names(args.time_out),
            reject_purposes=_names(args.reject_purpose),
            vendor_ids=args.vendor_id,
            **only_v201,
        )
    except ValueError as err:
        print(f"scripts/simulate: error: {err}", file=sys.stderr)
        return 2

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupts = 0

    def on_signal() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            LOGGER.info("stopping (again to quit at once)")
            sim.stop()
        elif task is not None:
            task.cancel()

    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            handled.append(sig)
    try:
        await sim.run(session=args.session, duration=args.duration)
    except ConnectionFailed as err:
        LOGGER.error("%s", err)
        return 1
    except asyncio.CancelledError:
        if interrupts < 2:
            raise
        return 130
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    LOGGER.info("stopped")
    return 0


def cli() -> None:
    """Entry point for ``python -m scripts.simulator``."""
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
