"""quality_scale.yaml names every rule of HA's quality scale, each with a valid status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant import components
from homeassistant.util.yaml import load_yaml_dict

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


def test_every_rule_has_a_valid_status() -> None:
    """done, todo or exempt; an exemption says why (one test: each costs an HA harness)."""
    bad = {rule: value for rule, value in OURS.items() if status(value) not in STATUSES}
    assert bad == {}
    extra = {rule: value for rule, value in OURS.items() if isinstance(value, dict)}
    assert {rule: set(value) - {"status", "comment"} for rule, value in extra.items()} == {
        rule: set() for rule in extra
    }
    unexplained = [
        rule
        for rule, value in OURS.items()
        if status(value) == "exempt"
        and not (isinstance(value, dict) and str(value.get("comment", "")).strip())
    ]
    assert unexplained == []
