"""A real Home Assistant for the benchmark: a temp config, started and stopped as a process.

The config has the SQLite recorder (default commit interval), this checkout's
integration (symlinked), the probe, and a pre-written config entry for levity_ocpp
on a free port with the `accept` admission policy. No `http:` in YAML (HA would
treat it as a trial and restart after 5 minutes): the HTTP port comes from HA's
`SETUP_PORT` environment variable instead, so benchmarks can run side by side.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import socket
import sqlite3
import subprocess
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HASS = ROOT / ".venv" / "bin" / "hass"
ENTRY_ID = "01BENCHLEVITYOCPP000000000"

CONFIGURATION_YAML = """\
# Written by scripts/benchmark. No http: (see design.md "HA facts that bite").
recorder:
logger:
  default: warning
bench_probe:
  port: {probe_port}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# One central system holds up to this many chargers; a larger site is split over
# several, each on its own port (README "Large sites": HA's cap of 10,000 enabled
# entities per config entry, ~20-25 per charger, and its repair issue at 90 %).
CHARGERS_PER_CENTRAL_SYSTEM = 350


def central_systems(charge_points: int) -> int:
    """How many central systems (config entries) a site of this many chargers needs."""
    return max(1, -(-charge_points // CHARGERS_PER_CENTRAL_SYSTEM))


def _config_entries(ocpp_ports: list[int], charge_points: int) -> dict[str, Any]:
    # The shape config_flow.py creates (data: host/port; options: heartbeat, policy,
    # limits), at the current version (migration.py) so no migration runs. Every
    # simulated charger connects from 127.0.0.1: the connection limits are raised as a
    # large site raises them in the options (README "Large sites").
    from custom_components.levity_ocpp.limit_options import DEFAULTS  # noqa: PLC0415

    connections = max(DEFAULTS.max_connections, 2 * charge_points)
    now = datetime.now(UTC).isoformat()
    entries = []
    for number, ocpp_port in enumerate(ocpp_ports):
        entry_id = ENTRY_ID if number == 0 else f"{ENTRY_ID[:-9]}{number:09d}"
        entries.append(_entry(entry_id, ocpp_port, now, connections))
    return {
        "version": 1,
        "minor_version": 5,
        "key": "core.config_entries",
        "data": {"entries": entries},
    }


def _entry(entry_id: str, ocpp_port: int, now: str, connections: int) -> dict[str, Any]:
    from custom_components.levity_ocpp.limit_options import (  # noqa: PLC0415
        CONF_MAX_CONNECTIONS,
        CONF_MAX_CONNECTIONS_PER_ADDRESS,
    )
    from custom_components.levity_ocpp.migration import MINOR_VERSION, VERSION  # noqa: PLC0415

    return {
        "created_at": now,
        "data": {"host": "127.0.0.1", "port": ocpp_port},
        "discovery_keys": {},
        "disabled_by": None,
        "domain": "levity_ocpp",
        "entry_id": entry_id,
        "minor_version": MINOR_VERSION,
        "modified_at": now,
        "options": {
            "heartbeat_interval": 300,
            "admission_policy": "accept",
            CONF_MAX_CONNECTIONS: connections,
            CONF_MAX_CONNECTIONS_PER_ADDRESS: connections,
        },
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": f"Benchmark central system :{ocpp_port}",
        "unique_id": None,
        "version": VERSION,
    }


@dataclass
class Hass:
    """One temp config dir and the `hass` process running on it."""

    config_dir: Path
    ocpp_ports: list[int] = field(default_factory=lambda: [free_port()])
    probe_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # Set for hass alone (e.g. LD_PRELOAD: its allocator), not for the benchmark's tools.
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def ocpp_port(self) -> int:
        return self.ocpp_ports[0]

    @property
    def ocpp_urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{port}" for port in self.ocpp_ports]

    @property
    def db_path(self) -> Path:
        return self.config_dir / "home-assistant_v2.db"

    @property
    def log_path(self) -> Path:
        return self.config_dir / "home-assistant.log"

    def write_config(self, charge_points: int = 1) -> None:
        """Write the config for a site of this many chargers (split as `central_systems`)."""
        while len(self.ocpp_ports) < central_systems(charge_points):
            self.ocpp_ports.append(free_port())
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION_YAML.format(probe_port=self.probe_port)
        )
        components = self.config_dir / "custom_components"
        components.mkdir(exist_ok=True)
        for name, target in (
            ("levity_ocpp", ROOT / "custom_components" / "levity_ocpp"),
            ("bench_probe", Path(__file__).resolve().parent / "probe"),
        ):
            link = components / name
            if not link.is_symlink():
                link.symlink_to(target)
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        (storage / "core.config_entries").write_text(
            json.dumps(_config_entries(self.ocpp_ports, charge_points), indent=2)
        )
        # Onboarding done: no onboarding views, nothing waiting for a user.
        (storage / "onboarding").write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["user", "core_config", "analytics", "integration"]},
                }
            )
        )

    def start(self) -> float:
        """Start hass; return the monotonic time it was started at."""
        env = {**os.environ, "SETUP_PORT": str(self.http_port), **self.environment}
        log = (self.config_dir / "hass.console.log").open("ab")  # the log file has it all
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(HASS), "-c", str(self.config_dir), "--log-file", str(self.log_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.config_dir,
        )
        return started

    async def wait_ready(self, limit_s: float = 300) -> None:
        """Wait until the probe and the central system's port both answer."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"hass exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                await self.ask({"op": "ping"})
                for port in self.ocpp_ports:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                return
            except OSError:
                await asyncio.sleep(0.2)
        raise TimeoutError(f"hass did not start in {limit_s} s; see {self.log_path}")

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.probe_port, limit=64 * 1024 * 1024
        )  # the entity list of 1,000 chargers is megabytes
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            answer: dict[str, Any] = json.loads(await reader.readline())
            return answer
        finally:
            writer.close()

    def stop(self, timeout: float = 120) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_s(self) -> float:
        """User + system CPU seconds the hass process has used (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def written_bytes(self) -> int:
        """Bytes the hass process has caused to be written to storage (all its files)."""
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
        raise RuntimeError("no write_bytes")

    def db_bytes(self) -> int:
        """Database size with its WAL, right after a checkpoint folded the WAL in."""
        with sqlite3.connect(self.db_path, timeout=30) as db:
            db.execute("PRAGMA busy_timeout = 30000")
            for _ in range(20):
                busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    break
                time.sleep(0.5)
        size = self.db_path.stat().st_size
        wal = self.db_path.with_name(self.db_path.name + "-wal")
        return size + (wal.stat().st_size if wal.exists() else 0)

    def state_rows(self, entity_ids: list[str], start_ts: float, end_ts: float) -> int:
        """`states` rows of these entities last updated in [start, end)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as db:
            db.execute("CREATE TEMP TABLE wanted (entity_id TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO wanted VALUES (?)", [(e,) for e in entity_ids])
            row = db.execute(
                "SELECT COUNT(*) FROM states JOIN states_meta USING (metadata_id)"
                " WHERE states_meta.entity_id IN (SELECT entity_id FROM wanted)"
                " AND last_updated_ts >= ? AND last_updated_ts < ?",
                (start_ts, end_ts),
            ).fetchone()
        return int(row[0])

    def log_mark(self) -> tuple[int, int] | None:
        """Where HA's log ends now (its file and size), for `log_problems` after a start."""
        if not self.log_path.exists():
            return None
        status = self.log_path.stat()
        return (status.st_ino, status.st_size)

    def log_problems(self, mark: tuple[int, int] | None = None) -> list[str]:
        """Every WARNING or ERROR line HA logged after `mark` (with traceback lines).

        HA rolls its log over at every start (the old one becomes .log.1): a log
        that is no longer the marked file is read whole, not from the old size on.
        """
        if not self.log_path.exists():
            return []
        status = self.log_path.stat()
        offset = mark[1] if mark is not None and mark[0] == status.st_ino else 0
        problems: list[str] = []
        taking = False
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        for line in text.splitlines():
            if " WARNING " in line[:60] or " ERROR " in line[:60] or " CRITICAL " in line[:60]:
                problems.append(line)
                taking = True
            elif taking and not line[:4].isdigit():
                problems[-1] += "\n" + line
            else:
                taking = False
        return problems
