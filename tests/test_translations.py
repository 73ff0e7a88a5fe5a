"""Shipped translations are fully resolved text, generated from strings.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import translations
from scripts.translations import EN, STRINGS, TranslationError, render

TRANSLATIONS = sorted((STRINGS.parent / "translations").glob("*.json"))
HA_STRINGS = {"common": {"config_flow": {"abort": {"done": "Done by {who}"}}}}


def leaves(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, value in tree.items():
        path = f"{prefix}::{key}" if prefix else key
        found.extend(leaves(value, path) if isinstance(value, dict) else [(path, value)])
    return found


def test_translation_files_exist() -> None:
    assert EN in TRANSLATIONS


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda path: path.name)
def test_no_unresolved_references(path: Path) -> None:
    """HA does not resolve `[%key:...%]` for custom integrations: users would see the key."""
    unresolved = [
        key
        for key, value in leaves(json.loads(path.read_text(encoding="utf-8")))
        if "[%key:" in str(value)
    ]
    assert unresolved == []


def test_en_json_is_generated_from_strings_json() -> None:
    assert EN.read_text(encoding="utf-8") == translations.generate(), (
        "en.json is out of date: run .venv/bin/python scripts/translations.py"
    )


def test_en_json_has_every_key_of_strings_json() -> None:
    strings = json.loads(STRINGS.read_text(encoding="utf-8"))
    english = json.loads(EN.read_text(encoding="utf-8"))
    assert [key for key, _ in leaves(english)] == [key for key, _ in leaves(strings)]


def test_references_resolve_recursively_and_from_common() -> None:
    strings = {
        "config": {
            "step": {"user": {"data": {"host": "Host"}}},
            "abort": {
                "ok": "[%key:common::config_flow::abort::done%]",
                "chain": "[%key:component::levity_ocpp::config::abort::ok%]!",
            },
        },
        "options": {
            "host": "[%key:component::levity_ocpp::config::step::user::data::host%] "
            "or [%key:component::levity_ocpp::config::abort::chain%]",
        },
    }
    text = render(strings, HA_STRINGS)
    assert json.loads(text) == {
        "config": {
            "step": {"user": {"data": {"host": "Host"}}},
            "abort": {"ok": "Done by {who}", "chain": "Done by {who}!"},
        },
        "options": {"host": "Host or Done by {who}!"},
    }
    # Deterministic: strings.json's key order, 2-space indent, one trailing newline.
    assert text.startswith('{\n  "config": {\n    "step"')
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert list(json.loads(text)["config"]["abort"]) == ["ok", "chain"]


@pytest.mark.parametrize(
    ("strings", "error"),
    [
        ({"a": "[%key:component::levity_ocpp::b%]"}, "a: reference to unknown key"),
        ({"a": "[%key:common::nothing%]"}, "a: reference to unknown key common::nothing"),
        (
            {"a": "[%key:component::levity_ocpp::b%]", "b": "[%key:component::levity_ocpp::a%]"},
            "a: circular reference",
        ),
        (
            {"a": {"b": "[%key:component::levity_ocpp::a%]"}},
            "a::b: component::levity_ocpp::a is a group",
        ),
        ({"a": "[%key:component::levity_ocpp::b%]", "b": 3}, "a: component::levity_ocpp::b is not"),
        ({"a": "[%key:Component::X%]"}, "a: malformed reference"),
        ({"a": 3}, "a: int instead of a string"),
    ],
)
def test_bad_references_are_refused(strings: dict[str, Any], error: str) -> None:
    with pytest.raises(TranslationError, match=error):
        render(strings, HA_STRINGS)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The script pointed at a strings.json and en.json in a scratch folder."""
    strings, english = tmp_path / "strings.json", tmp_path / "translations" / "en.json"
    strings.write_text(
        json.dumps({"a": "A", "b": "[%key:component::levity_ocpp::a%]"}), encoding="utf-8"
    )
    monkeypatch.setattr(translations, "INTEGRATION", tmp_path)
    monkeypatch.setattr(translations, "STRINGS", strings)
    monkeypatch.setattr(translations, "EN", english)
    return strings, english


def test_script_writes_then_checks(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, english = files
    assert translations.main(["--check"]) == 1  # no en.json yet
    assert "out of date" in capsys.readouterr().err
    assert translations.main([]) == 0
    assert english.read_text(encoding="utf-8") == '{\n  "a": "A",\n  "b": "A"\n}\n'
    assert translations.main(["--check"]) == 0
    english.write_text('{"a": "A", "b": "[%key:component::levity_ocpp::a%]"}', encoding="utf-8")
    assert translations.main(["--check"]) == 1


def test_script_reports_a_bad_reference(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    strings, english = files
    strings.write_text(json.dumps({"a": "[%key:component::levity_ocpp::z%]"}), encoding="utf-8")
    assert translations.main([]) == 2
    assert "a: reference to unknown key component::levity_ocpp::z" in capsys.readouterr().err
    assert not english.exists()
