"""Figures beside their targets (issue 10), printed as a table; any miss fails the run."""

from __future__ import annotations

from dataclasses import dataclass, field
import statistics


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.lines.append(f"\n== {title}")

    def figure(self, name: str, value: float, unit: str, target: float | None = None) -> None:
        """A figure; with a target, it must be at most the target."""
        if target is None:
            self.lines.append(f"  {name:<46} {value:>10.2f} {unit}")
            return
        ok = value <= target  # NaN (no sample) is a miss
        verdict = "ok" if ok else "MISSED"
        self.lines.append(f"  {name:<46} {value:>10.2f} {unit:<18} target <= {target:g}  {verdict}")
        if not ok:
            self.missed.append(name)

    def note(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def print(self) -> None:
        print("\n".join(self.lines), flush=True)
        self.lines.clear()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
