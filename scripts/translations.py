"""Generate translations/en.json from strings.json, with every `[%key:...%]` resolved.

Home Assistant resolves these references only for its built-in integrations (its own
`script.translations develop` does it at build time); a custom integration ships the
resolved text, or users see the raw keys. References point into
`component::levity_ocpp::...` (this strings.json, resolved recursively) or `common::...`
(Home Assistant's own strings.json in the installed package).

    .venv/bin/python scripts/translations.py           # rewrite en.json
    .venv/bin/python scripts/translations.py --check   # exit 1 if en.json is out of date

Run it after every change to strings.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
import re
import sys
from typing import Any

DOMAIN = "levity_ocpp"
INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN
STRINGS = INTEGRATION / "strings.json"
EN = INTEGRATION / "translations" / "en.json"

REFERENCE_START = "[%key:"
# The same shape HA's translation tooling accepts: segments joined by "::".
REFERENCE = re.compile(r"\[%key:([a-z0-9_]+(?:::[a-z0-9_-]+)+)%\]")


class TranslationError(Exception):
    """A reference that cannot be resolved (missing, malformed, circular, not a string)."""


def ha_strings_path() -> Path:
    """Home Assistant's own strings.json (the `common::` strings), from the installed package."""
    spec = importlib.util.find_spec("homeassistant")
    if spec is None or spec.origin is None:
        raise TranslationError("Home Assistant is not installed in this Python")
    return Path(spec.origin).parent / "strings.json"


def flatten(tree: dict[str, Any], prefix: str) -> dict[str, str]:
    """Every string leaf of `tree` under its full `a::b::c` key."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}::{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


class Resolver:
    """Resolves references against the flattened integration and HA strings."""

    def __init__(self, strings: dict[str, Any], ha_strings: dict[str, Any]) -> None:
        self._known = {
            **flatten(ha_strings.get("common", {}), "common"),
            **flatten(strings, f"component::{DOMAIN}"),
        }
        self._resolved: dict[str, str] = {}

    def text(self, value: str, where: str, chain: tuple[str, ...] = ()) -> str:
        """`value` with every reference replaced by the (resolved) text it names."""

        def substitute(match: re.Match[str]) -> str:
            return self._lookup(match.group(1), where, chain)

        resolved = REFERENCE.sub(substitute, value)
        if REFERENCE_START in resolved:
            raise TranslationError(f"{where}: malformed reference in {value!r}")
        return resolved

    def _lookup(self, key: str, where: str, chain: tuple[str, ...]) -> str:
        if key in chain:
            raise TranslationError(f"{where}: circular reference {' -> '.join((*chain, key))}")
        if key in self._resolved:
            return self._resolved[key]
        if key not in self._known:
            if any(known.startswith(f"{key}::") for known in self._known):
                raise TranslationError(f"{where}: {key} is a group of strings, not a string")
            raise TranslationError(f"{where}: reference to unknown key {key}")
        target = self._known[key]
        if not isinstance(target, str):
            raise TranslationError(f"{where}: {key} is not a string")
        self._resolved[key] = resolved = self.text(target, where, (*chain, key))
        return resolved

    def tree(self, tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        """A copy of `tree` (same key order) with every string resolved."""
        out: dict[str, Any] = {}
        for key, value in tree.items():
            where = f"{prefix}::{key}" if prefix else key
            if isinstance(value, dict):
                out[key] = self.tree(value, where)
            elif isinstance(value, str):
                out[key] = self.text(value, where)
            else:
                raise TranslationError(f"{where}: {type(value).__name__} instead of a string")
        return out


def render(strings: dict[str, Any], ha_strings: dict[str, Any]) -> str:
    """The text of en.json: 2-space indent, strings.json's key order, a trailing newline."""
    resolved = Resolver(strings, ha_strings).tree(strings)
    return json.dumps(resolved, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TranslationError(f"{path}: not a JSON object")
    return data


def generate() -> str:
    """What en.json should contain, from the files on disk."""
    return render(load(STRINGS), load(ha_strings_path()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that en.json is up to date"
    )
    args = parser.parse_args(argv)
    try:
        expected = generate()
    except (TranslationError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    current = EN.read_text(encoding="utf-8") if EN.exists() else None
    if args.check:
        if current != expected:
            print(
                f"{EN.relative_to(INTEGRATION.parent.parent)} is out of date with strings.json:"
                " run .venv/bin/python scripts/translations.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != expected:
        EN.parent.mkdir(exist_ok=True)
        EN.write_text(expected, encoding="utf-8")
        print(f"wrote {EN.relative_to(INTEGRATION.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
