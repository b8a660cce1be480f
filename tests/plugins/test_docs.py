"""docs/plugins.md documents every hook, under a heading that shows its exact signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from questline.plugins import hookspecs

DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(questline_\w+)\((.*)\)(?: -> (.+))?`$", re.MULTILINE)


def hook_names() -> list[str]:
    return sorted(name for name in vars(hookspecs) if name.startswith("questline_"))


def signature(name: str) -> str:
    """`name(arg: Type, ...) -> Return` as written in hookspecs.py (annotations as text)."""
    spec = inspect.signature(getattr(hookspecs, name))
    args = ", ".join(f"{p.name}: {p.annotation}" for p in spec.parameters.values())
    return f"{name}({args}) -> {spec.return_annotation}"


def documented() -> dict[str, str]:
    return {
        match[1]: f"{match[1]}({match[2]}) -> {match[3]}"
        for match in HEADING.finditer(DOCS.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_has_a_signature_heading(name: str) -> None:
    headings = documented()
    assert name in headings, f"docs/plugins.md has no '### `{signature(name)}`' heading"
    assert headings[name] == signature(name), "the documented signature differs from hookspecs"


def test_no_heading_documents_a_hook_that_does_not_exist() -> None:
    assert set(documented()) <= set(hook_names())
