"""icons.json gives every action an icon (quality scale: icon-translations)."""

from __future__ import annotations

import json
from pathlib import Path
import re

from homeassistant.util.yaml import load_yaml_dict

import custom_components.levity_ocpp as integration

FOLDER = Path(integration.__file__).parent
MDI = re.compile(r"mdi:[a-z0-9]+(-[a-z0-9]+)*")


def test_every_action_has_an_icon() -> None:
    services = load_yaml_dict(str(FOLDER / "services.yaml"))
    icons = json.loads((FOLDER / "icons.json").read_text(encoding="utf-8"))["services"]
    assert set(icons) == set(services)
    for service, icon in icons.items():
        assert MDI.fullmatch(icon["service"]), service
