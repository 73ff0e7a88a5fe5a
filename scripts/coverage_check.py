"""Fail when any single module is below the coverage floor (the total can hide one).

    .venv/bin/python scripts/coverage_check.py .coverage.json [--minimum 95]

Reads pytest-cov's JSON report (`--cov-report=json:.coverage.json`). Percentages are
statements and branches together, rounded as coverage's own report shows them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

MINIMUM = 95


def below(report: dict[str, object], minimum: float) -> dict[str, int]:
    """Modules under `minimum` percent, with their rounded percentage."""
    files = report.get("files")
    if not isinstance(files, dict) or not files:
        raise ValueError("the report lists no modules")
    found: dict[str, int] = {}
    for path, data in sorted(files.items()):
        percent = int(data["summary"]["percent_covered_display"])
        if percent < minimum:
            found[path] = percent
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--minimum", type=float, default=MINIMUM)
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        failing = below(report, args.minimum)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"coverage check: cannot read {args.report}: {error!r}", file=sys.stderr)
        return 2
    if failing:
        for path, percent in failing.items():
            print(f"coverage check: {path} is {percent} % covered (minimum {args.minimum:g} %)")
        return 1
    print(f"coverage check: every module is at least {args.minimum:g} % covered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
