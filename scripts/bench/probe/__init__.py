"""Benchmark probe: a tiny custom integration inside the measured Home Assistant.

It answers JSON-line requests on a 127.0.0.1 TCP port (from YAML `bench_probe: port:`):
GC pauses of generation 2 (from `gc.callbacks`), how many levity_ocpp entities exist
and are restored, HA's setup time of levity_ocpp, and a cProfile of the event loop
thread on request. Nothing here runs per message: a GC callback and an idle server.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import time
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_get_setup_timings

DOMAIN = "bench_probe"
MEASURED = "levity_ocpp"


class GcWatch:
    """Count and time generation-2 collections since the last reset."""

    def __init__(self) -> None:
        self._started: float | None = None
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total_s = 0.0
        self.max_s = 0.0
        self.collections = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        generation = info.get("generation", 0)
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.collections[generation] += 1
        if generation != 2 or self._started is None:
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.total_s += pause
        self.max_s = max(self.max_s, pause)

    def figures(self) -> dict[str, Any]:
        return {
            "gen2_count": self.count,
            "gen2_total_ms": self.total_s * 1000,
            "gen2_max_ms": self.max_s * 1000,
            "collections": list(self.collections),
        }


class Probe:
    """What the benchmark asks for, answered from inside the event loop."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.gc = GcWatch()
        self.profile: cProfile.Profile | None = None

    def entity_ids(self) -> list[str]:
        registry = er.async_get(self.hass)
        return [e.entity_id for e in registry.entities.values() if e.platform == MEASURED]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: PLR0911
        match request.get("op"):
            case "ping":
                return {"ok": True}
            case "gc_reset":
                self.gc.reset()
                return {"ok": True}
            case "gc":
                return self.gc.figures()
            case "entities":
                return {"entity_ids": self.entity_ids()}
            case "loop_cpu":  # CPU seconds of the event loop's thread (this handler's)
                return {"s": time.thread_time()}
            case "recorder_backlog":  # events waiting for the recorder thread
                return {"backlog": get_instance(self.hass).backlog}
            case "restored":
                ids = self.entity_ids()
                enabled = [
                    e.entity_id
                    for e in er.async_get(self.hass).entities.values()
                    if e.platform == MEASURED and e.disabled_by is None
                ]
                states = self.hass.states
                present = sum(1 for entity_id in enabled if states.get(entity_id) is not None)
                return {"registered": len(ids), "enabled": len(enabled), "present": present}
            case "setup_timing":
                # HA's own figure for setting up levity_ocpp (entries and platforms,
                # every entity added), final once every entry is loaded.
                entries = self.hass.config_entries.async_entries(MEASURED)
                return {
                    "seconds": async_get_setup_timings(self.hass).get(MEASURED),
                    "loaded": bool(entries)
                    and all(entry.state is ConfigEntryState.LOADED for entry in entries),
                    # HA's own start is over (its signal handlers are set from then on).
                    "running": self.hass.state is CoreState.running,
                }
            case "profile_start":
                self.profile = cProfile.Profile()
                self.profile.enable()  # the loop thread: this handler runs in it
                return {"ok": True}
            case "profile_stop":
                if self.profile is None:
                    return {"error": "no profile running"}
                self.profile.disable()
                self.profile.dump_stats(str(request["path"]))
                self.profile = None
                return {"path": request["path"]}
        return {"error": f"unknown op {request.get('op')!r}"}

    async def snapshots(self) -> dict[str, Any]:
        """Write levity_ocpp's snapshots now (their cadence is longer than a window)."""
        for entry in self.hass.config_entries.async_loaded_entries(MEASURED):
            await entry.runtime_data.store.async_checkpoint()
            await entry.runtime_data.sessions.async_checkpoint()
        return {"ok": True}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                request = json.loads(line)
                if request.get("op") == "snapshots":
                    answer = await self.snapshots()
                else:
                    answer = self.handle(request)
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the probe's server and its GC callback."""
    probe = Probe(hass)
    gc.callbacks.append(probe.gc)
    server = await asyncio.start_server(probe.serve, "127.0.0.1", int(config[DOMAIN]["port"]))

    async def _stop(_: Any) -> None:
        server.close()
        gc.callbacks.remove(probe.gc)

    hass.bus.async_listen_once("homeassistant_stop", _stop)
    return True
