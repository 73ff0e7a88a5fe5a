"""scripts/coverage_check.py fails scripts/test when one module is under the floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.coverage_check import main


def report(tmp_path: Path, **percent: str) -> Path:
    path = tmp_path / "coverage.json"
    files = {
        name: {"summary": {"percent_covered_display": value}} for name, value in percent.items()
    }
    path.write_text(json.dumps({"files": files}), encoding="utf-8")
    return path


def test_every_module_above_the_floor_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(report(tmp_path, a="95", b="100"))]) == 0
    assert "every module is at least 95 % covered" in capsys.readouterr().out


def test_one_module_below_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(report(tmp_path, a="100", b="94"))]) == 1
    assert capsys.readouterr().out == "coverage check: b is 94 % covered (minimum 95 %)\n"
    assert main([str(report(tmp_path, b="94")), "--minimum", "90"]) == 0


@pytest.mark.parametrize("text", ["{}", '{"files": {}}', '{"files": {"a": {}}}', "not json"])
def test_unreadable_report_fails(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "coverage.json"
    path.write_text(text, encoding="utf-8")
    assert main([str(path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_missing_report_fails(tmp_path: Path) -> None:
    assert main([str(tmp_path / "none.json")]) == 2
