"""Benchmark probe: a tiny custom integration inside the measured Home Assistant.

It answers JSON-line requests on a 127.0.0.1 TCP port (from YAML `bench_probe: port:`):
GC pauses of generation 2 (from `gc.callbacks`), how many levity_ocpp entities exist
and are restored, HA's setup time of levity_ocpp, and a cProfile of the event loop
thread on request. Nothing here runs per message: a GC callback and an idle server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import cProfile
import ctypes
import gc
import json
from pathlib import Path
import time
import tracemalloc
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_get_setup_timings

DOMAIN = "bench_probe"
MEASURED = "levity_ocpp"
MAX_PAUSES = 1000


def _malloc_trim() -> bool | None:
    """Return the free memory glibc keeps to the system (None: not glibc's malloc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.malloc_trim(0))
    except OSError, AttributeError:
        return None


class GcWatch:
    """Count and time generation-2 collections since the last reset."""

    def __init__(self) -> None:
        self._started: float | None = None
        # What each collection of generation 1 moves to the old generation (its
        # survivors: nearly all of generation 0 and 1), by type and where it was
        # made; only while asked for (tracemalloc runs meanwhile).
        self.promoted: Counter[str] | None = None
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total_s = 0.0
        self.max_s = 0.0
        self.collections = [0, 0, 0]
        self.pauses: list[tuple[float, float]] = []  # (time.time() at start, seconds)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        generation = info.get("generation", 0)
        if phase == "start":
            if generation == 1 and self.promoted is not None:
                self._census(self.promoted)
            self._started = time.perf_counter()
            return
        self.collections[generation] += 1
        if generation != 2 or self._started is None:
            return
        pause = time.perf_counter() - self._started
        self.count += 1
        self.total_s += pause
        self.max_s = max(self.max_s, pause)
        if len(self.pauses) < MAX_PAUSES:
            self.pauses.append((time.time() - pause, pause))

    @staticmethod
    def _census(promoted: Counter[str]) -> None:
        for young in (gc.get_objects(0), gc.get_objects(1)):
            for obj in young:
                origin = tracemalloc.get_object_traceback(obj)
                where = "?"
                if origin is not None:
                    frame = origin[0]
                    path = Path(frame.filename)
                    where = f"{path.parent.name}/{path.name}:{frame.lineno}"
                promoted[f"{type(obj).__qualname__} {where}"] += 1

    def figures(self) -> dict[str, Any]:
        return {
            "gen2_count": self.count,
            "gen2_total_ms": self.total_s * 1000,
            "gen2_max_ms": self.max_s * 1000,
            "collections": list(self.collections),
            "pauses": list(self.pauses),
        }


class Probe:
    """What the benchmark asks for, answered from inside the event loop."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.gc = GcWatch()
        self.profile: cProfile.Profile | None = None
        self.traced: tracemalloc.Snapshot | None = None

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
            case "gc_freeze":  # what HA would gain: its start-up objects never walked again
                gc.collect()
                gc.freeze()
                return {"frozen": gc.get_freeze_count()}
            case "trace_start":  # Python's own allocations from now on, by line
                tracemalloc.start(1)
                self.traced = tracemalloc.take_snapshot()
                return {"ok": True}
            case "trace_stop":
                if self.traced is None:
                    return {"error": "no trace running"}
                after, before, self.traced = tracemalloc.take_snapshot(), self.traced, None
                tracemalloc.stop()
                stats = after.compare_to(before, "lineno")
                return {
                    "bytes": sum(stat.size_diff for stat in stats),
                    "top": [
                        (str(stat.traceback[0]), stat.size_diff, stat.count_diff)
                        for stat in stats[:40]
                    ],
                }
            case "promotions_start":
                tracemalloc.start(1)
                self.gc.promoted = Counter()
                return {"ok": True}
            case "promotions":
                promoted, self.gc.promoted = self.gc.promoted or Counter(), None
                tracemalloc.stop()
                return {"total": promoted.total(), "top": promoted.most_common(40)}
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
            case "malloc_trim":  # what of RSS is memory glibc's malloc holds free
                return {"released": _malloc_trim()}
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
