"""Every translation string formats in the frontend, with the placeholders HA provides.

The frontend formats translations with ICU MessageFormat (FormatJS intl-messageformat,
tags on): `<this host>` is read as a tag and the user sees "Translation error:
INVALID_TAG"; an unbalanced brace or a placeholder the integration does not provide
breaks the text the same way. pyicumessageformat parses the same syntax.
"""

from __future__ import annotations

import ast
from collections import defaultdict
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from pyicumessageformat import Parser
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp import sensor
from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT, SUBENTRY_ID_TAG

from .conftest import open_options_step
from .test_translations import leaves

INTEGRATION = Path(sensor.__file__).parent
FILES = [INTEGRATION / "strings.json", *sorted((INTEGRATION / "translations").glob("*.json"))]
PARSER = Parser({"allow_tags": True, "strict_tags": True, "require_other": True})
PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# After an apostrophe these start a quoted literal, which runs to the next lone apostrophe.
QUOTABLE = "{}<#"


def unclosed_quote(text: str) -> int | None:
    """Where an apostrophe opens a quoted literal that never closes (it would eat the rest)."""
    i = 0
    while i < len(text):
        if text[i] != "'":
            i += 1
        elif text[i + 1 : i + 2] == "'":
            i += 2  # '' is one apostrophe
        elif text[i + 1 : i + 2] and text[i + 1] in QUOTABLE:
            end = re.compile(r"'(?!')").search(text.replace("''", "\0\0"), i + 2)
            if end is None:
                return i
            i = end.end()
        else:
            i += 1
    return None


def walk(nodes: list[Any], arguments: set[str], tags: set[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            continue
        if "contents" in node or node.get("type") == "tag":
            tags.add(node["name"])
            walk(node.get("contents", []), arguments, tags)
            continue
        if not node.get("hash"):
            arguments.add(node["name"])
        for branch in node.get("options", {}).values():
            walk(branch, arguments, tags)


def placeholders(text: str) -> set[str]:
    arguments: set[str] = set()
    walk(PARSER.parse(text), arguments, set())
    return arguments


def problems(text: str) -> list[str]:
    """What the frontend would choke on in `text` (empty: it formats)."""
    try:
        nodes = PARSER.parse(text)
    except SyntaxError as error:
        return [f"syntax: {error}"]
    found: list[str] = []
    arguments: set[str] = set()
    tags: set[str] = set()
    walk(nodes, arguments, tags)
    # HA passes placeholders as strings, never the functions a tag would need; formatting
    # in strings is markdown.
    found.extend(f"tag <{tag}>" for tag in sorted(tags))
    found.extend(
        f"placeholder name {{{name}}}"
        for name in sorted(arguments)
        if not PLACEHOLDER_NAME.fullmatch(name)
    )
    if (position := unclosed_quote(text)) is not None:
        found.append(f"apostrophe at {position} opens a quote that never closes")
    return found


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Charge points connect to ws://<this host>:<port>/<id>.", "syntax"),
        ("Connect to <b>this</b>", "tag <b>"),
        ("Connect to <b>this", "syntax"),
        ("Connect to </b>", "syntax"),
        ("Nested <b>wrong<i>tags</b></i>", "syntax"),
        ("Power {phase", "syntax"),
        ("Power phase}", "syntax"),
        ("Power {charge point}", "syntax"),
        ("Power {phase-1}", "placeholder name {phase-1}"),
        ("{n, plural, one {# car}}", "syntax"),
        ("{n, plural, one {# car} other {# cars}", "syntax"),
        ("Braces look like '{this} and go on", "apostrophe at 17"),
        ("Say '<hello> forever", "apostrophe at 4"),
    ],
)
def test_checker_finds(text: str, problem: str) -> None:
    assert any(found.startswith(problem) for found in problems(text)), problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "The charge point's own id, for example `{example_url}`.",
        "Power {phase}",
        "{n, plural, one {# car} other {# cars}}",
        "{mode, select, fast {Fast} other {Slow}}",
        "Literal braces: '{not a placeholder}', and it''s fine",
        "a '' b",
        "ws://ADDRESS:PORT/ID",
        "[link](https://example.org/?a=1&b=2)",
    ],
)
def test_checker_accepts(text: str) -> None:
    assert problems(text) == []


def test_placeholders_of_a_message() -> None:
    assert placeholders("{a} and {n, plural, one {# {b}} other {# {c}}}") == {"a", "b", "c", "n"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_string_formats(path: Path) -> None:
    bad = {key: found for key, value in leaves(load(path)) if (found := problems(value))}
    assert bad == {}


def used(tree: dict[str, Any]) -> set[str]:
    """Placeholders used anywhere in a subtree of strings.json."""
    return {name for _, text in leaves(tree) for name in placeholders(text)}


STRINGS = load(INTEGRATION / "strings.json")


async def test_flows_provide_their_placeholders(hass: HomeAssistant, socket_enabled: None) -> None:
    """Each form's title, description and fields use only what the flow passes."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: "127.0.0.1", CONF_PORT: 9000})
    entry.add_to_hass(hass)
    # A new charge point's discovery needs its central system running.
    running = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: "127.0.0.1", CONF_PORT: 0})
    running.add_to_hass(hass)
    assert await hass.config_entries.async_setup(running.entry_id)
    discovered = {"entry_id": running.entry_id, "charge_point_id": "CP7", "vendor": "V"}
    discovered |= {"model": "M", "serial_number": None, "firmware_version": None}
    discovered |= {"remote_address": "192.0.2.7:1", "subprotocol": "ocpp1.6"}
    discovery = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=discovered
    )
    title_placeholders = hass.config_entries.flow.async_get(discovery["flow_id"])["context"][
        "title_placeholders"
    ]
    assert used({"title": STRINGS["config"]["flow_title"]}) <= set(title_placeholders)
    forms = {
        ("config", "user"): await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        ),
        ("config", "reconfigure"): await entry.start_reconfigure_flow(hass),
        ("options", "init"): await hass.config_entries.options.async_init(entry.entry_id),
        ("config", "add"): discovery,
        ("options", "general"): await open_options_step(hass, entry, "general"),
        ("options", "admission"): await open_options_step(hass, entry, "admission"),
        ("options", "limits"): await open_options_step(hass, entry, "limits"),
        ("charge_point", "user"): await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
        ),
        ("id_tag", "user"): await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_ID_TAG), context={"source": SOURCE_USER}
        ),
    }
    forms[("options", "security")] = await open_options_step(hass, entry, "security")
    forms[("charge_point", "new_password")] = await hass.config_entries.subentries.async_configure(
        forms[("charge_point", "user")]["flow_id"],
        {"charge_point_id": "CP1", "password_action": "generate"},
    )
    await hass.config_entries.subentries.async_configure(
        forms[("charge_point", "new_password")]["flow_id"], {}
    )
    (subentry_id,) = entry.subentries
    changing = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    forms[
        ("charge_point", "password_changed")
    ] = await hass.config_entries.subentries.async_configure(
        changing["flow_id"], {"password_action": "generate"}
    )
    steps = {(kind, step) for kind in ("config", "options") for step in STRINGS[kind]["step"]}
    # Offered when a charger presents an unknown tag: tests/test_tag_scanned.py checks it.
    steps.discard(("config", "add_id_tag"))
    steps |= {
        (kind, step)
        for kind, flow in STRINGS["config_subentries"].items()
        for step in flow["step"]
        if step != "reconfigure"  # below: it needs a subentry to change
    }
    assert steps == set(forms), "a step without a test of its placeholders"
    for (kind, step), result in forms.items():
        provided = set(result.get("description_placeholders") or {})
        strings = STRINGS["config_subentries"].get(kind) or STRINGS[kind]
        assert used(strings["step"][step]) <= provided, (kind, step)
    # Errors and aborts are shown without placeholders of their own, but the one
    # that says a charge point was added (test_admission.py checks it gets them).
    assert used(STRINGS["config"]["error"]) == set()
    aborts = dict(STRINGS["config"]["abort"])
    assert used({"added": aborts.pop("charge_point_added")}) == {
        "charge_point_id",
        # What came of its password (credentials.password_outcome; test_admission_security).
        "password_set",
        "sent",
        "delivery",
        "detail",
        "generated",
        "password",
    }
    assert used(aborts) == set()


def test_entity_names_get_their_placeholders() -> None:
    names = STRINGS["entity"]["sensor"]
    for description in sensor.SENSORS:
        provided = set(description.translation_placeholders or {})
        entry = names[description.translation_key]
        assert used(entry) <= provided, description.translation_key


def provided_in_code() -> dict[str, list[set[str]]]:
    """For each translation_key used in the integration's code: placeholders of each use."""
    uses: dict[str, list[set[str]]] = defaultdict(list)
    for module in sorted(INTEGRATION.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            key = keywords.get("translation_key")
            if not isinstance(key, ast.Constant):
                continue  # an entity description's key from a table: see the test above
            given = keywords.get("translation_placeholders")
            if given is None:
                uses[key.value].append(set())
                continue
            assert isinstance(given, ast.Dict), f"{module.name}:{node.lineno}: not a dict literal"
            names = {item.value for item in given.keys if isinstance(item, ast.Constant)}
            uses[key.value].append(names)
    return uses


@pytest.mark.parametrize(("section", "field"), [("exceptions", "message"), ("device", "name")])
def test_code_provides_the_placeholders(section: str, field: str) -> None:
    uses = provided_in_code()
    for key, strings in STRINGS[section].items():
        assert uses[key], f"{section}.{key} is never used"
        for provided in uses[key]:
            assert placeholders(strings[field]) <= provided, (section, key)


def test_services_use_no_placeholders() -> None:
    assert used(STRINGS["services"]) == set()
