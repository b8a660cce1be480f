"""docs/rules.md lists every built-in fact (its table is generated from the catalog)."""

from __future__ import annotations

from pathlib import Path

from questline.rules import default_catalog

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_list_every_builtin_fact() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = [s.name for s in default_catalog() if f"`{s.name}`" not in text]
    assert missing == []


def test_docs_facts_table_is_current() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    start = text.index("<!-- facts-table")
    start = text.index("\n", start) + 1
    end = text.index("<!-- /facts-table -->")
    assert text[start:end].strip() == default_catalog().markdown_table().strip(), (
        "regenerate the table with default_catalog().markdown_table()"
    )


def test_decisions_record_the_backend_choice() -> None:
    text = (DOCS / "decisions.md").read_text(encoding="utf-8")
    assert "## Decision: evaluate JsonLogic rules with datalogic-py" in text
    assert "python-jsonlogic 0.2.0" in text
