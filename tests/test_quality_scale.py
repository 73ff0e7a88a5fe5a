"""quality_scale.yaml names every rule of HA's quality scale, each with a valid status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant import components
from homeassistant.util.yaml import load_yaml_dict
import pytest

import custom_components.levity_ocpp as integration

STATUSES = {"done", "todo", "exempt"}


def rules(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml_dict(str(folder / "quality_scale.yaml"))["rules"]
    return loaded


OURS = rules(Path(integration.__file__).parent)
# A platinum integration's file: it names every rule of the installed HA's scale.
REFERENCE = rules(Path(components.__file__).parent / "peblar")


def status(value: Any) -> Any:
    return value["status"] if isinstance(value, dict) else value


def test_every_rule_of_home_assistant_is_listed() -> None:
    assert sorted(set(REFERENCE) - set(OURS)) == []


def test_no_rule_that_home_assistant_does_not_know() -> None:
    assert sorted(set(OURS) - set(REFERENCE)) == []


@pytest.mark.parametrize("rule", sorted(OURS))
def test_rule_has_a_valid_status(rule: str) -> None:
    value = OURS[rule]
    assert status(value) in STATUSES
    if isinstance(value, dict):
        assert set(value) <= {"status", "comment"}
    if status(value) == "exempt":
        assert isinstance(value, dict) and str(value.get("comment", "")).strip(), (
            f"{rule} is exempt without a reason"
        )
