"""What one charger costs on the Home Assistant side: state writes, fan-out work, memory.

`.venv/bin/python -m scripts.entity_cost [--charge-points 20] [--minutes 10]` runs
scripts/entity_cost_figures.py in HA's test harness (pytest-homeassistant-custom-component:
a real WebSocket, no recorder database) with chargers like the benchmark's and prints:

- steady metering of one charger for `--minutes`: which entities changed state or
  attributes and how often, how many distinct entities change (each a recorder
  metadata lookup when HA's cache of 8,192 is too small), and per MeterValues how
  many entities were asked whether they changed and how many values they computed;
- memory: N chargers connected, then N more; per charger of the second batch the
  bytes still allocated (tracemalloc, by source area), new Python objects by type,
  registry entries (enabled and disabled) and entity objects.

A separate process runs pytest: its HA plugin must be imported before HA itself.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=20, help="N, then N more")
    parser.add_argument("--minutes", type=int, default=10, help="of steady metering")
    args = parser.parse_args()
    env = {
        **os.environ,
        "ENTITY_COST_CHARGE_POINTS": str(args.charge_points),
        "ENTITY_COST_MINUTES": str(args.minutes),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "scripts/entity_cost_figures.py",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:logging",
    ]
    sys.exit(subprocess.run(command, cwd=ROOT, env=env, check=False).returncode)


if __name__ == "__main__":
    main()
