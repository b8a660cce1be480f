"""Rules that carry their own tests: examples run by `rules validate` and `rules test`."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings

from questline.rules import (
    FactCatalog,
    FactSpec,
    FactType,
    RuleEvaluator,
    default_catalog,
    default_rules,
    examples_command_lines,
    validate_command_lines,
)
from questline.rules.evaluation import applies
from questline.rules.facts import lookup_fact
from questline.rules.loading import CATALOG_DIR
from questline.rules.testing import facts_documents

TEN = {
    "slug": "ten",
    "type": "LESSON_COMPLETED",
    "title": "Ten",
    "points": 5,
    "criteria": {">=": [{"var": "stats.lessons_completed"}, 10]},
}


def write(tmp_path: Path, *documents: dict) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(list(documents)))
    return path


def test_every_rule_of_the_default_catalog_carries_passing_examples_both_ways() -> None:
    for rule in default_rules():
        assert {example.expect for example in rule.examples} == {True, False}, rule.slug
    lines, code = examples_command_lines(CATALOG_DIR)
    assert (lines, code) == (["34 of 34 examples passed"], 0)


def test_failing_examples_name_the_file_the_example_and_what_differs(tmp_path: Path) -> None:
    examples = [
        {"name": "ten", "facts": {"stats": {"lessons_completed": 10}}, "expect": True},
        {"name": "wrong", "facts": {"stats": {"lessons_completed": 3}}, "expect": True},
        {"facts": {"stats": {"lesson_completed": 3}}, "expect": False},
        {"facts": {"stats": {"lessons_completed": 3}}, "expect": False, "progress": 0.5},
        {"facts": {"stats": {"lessons_completed": 3}}, "expect": False, "progress": 0.3},
    ]
    night = {
        **TEN,
        "slug": "night",
        "criteria": {"<": [{"var": "event.local_hour"}, 5]},
        "examples": [
            {"name": "no event", "facts": {}, "expect": True},
            {"facts": {"event": {"local_hour": 3}}, "expect": True, "progress": 1},
        ],
    }
    path = write(tmp_path, {**TEN, "examples": examples}, night)
    lines, code = examples_command_lines(path)
    source = path.as_posix()
    assert code == 1
    assert lines == [
        f'{source}: /0/examples/1: example "wrong": expected true, got false',
        f'{source}: /0/examples/2/facts: unknown fact "stats.lesson_completed"'
        ' (did you mean "stats.lessons_completed"?)',
        f"{source}: /0/examples/3: example: expected progress 0.5, got 0.3",
        f'{source}: /1/examples/0: example "no event": expected true, got false'
        " (a fact of the event is absent)",
        f"{source}: /1/examples/1: example: gives a progress, but the rule is not a threshold"
        " rule, which has none",
        "2 of 7 examples passed",
    ]
    lines, code = validate_command_lines(path)
    assert code == 1 and lines[-1] == "5 errors in 1 file; no rules were changed"


def test_an_example_that_cannot_be_read_is_a_schema_error(tmp_path: Path) -> None:
    bad = [{"facts": {}, "expect": "yes"}, {"facts": [], "expect": True}, {"expect": True}]
    path = write(tmp_path, {**TEN, "examples": bad})
    lines, code = examples_command_lines(path)
    assert code == 1
    assert lines == [
        f"{path.as_posix()}: /0/examples/0/expect: must be true or false",
        f"{path.as_posix()}: /0/examples/1/facts: input should be a valid dictionary",
        f"{path.as_posix()}: /0/examples/2/facts: required field is missing",
        "0 of 0 examples passed; 3 not run: their rules have errors (see above)",
    ]


CATALOG = default_catalog()


def leaves(document: dict, prefix: str = "") -> list[str]:
    names = []
    for key, value in document.items():
        if isinstance(value, dict) and value and not prefix:
            names += leaves(value, f"{key}.")
        else:
            names.append(f"{prefix}{key}")
    return names


@settings(max_examples=200)
@given(facts_documents())
def test_drawn_facts_documents_fit_the_catalog_and_never_break_a_catalog_rule(
    facts: dict,
) -> None:
    for name in leaves(facts):
        spec = CATALOG[name]
        value = lookup_fact(facts, name)
        if value is None:
            assert spec.nullable or spec.event_bound, name
        elif spec.type is FactType.INT:
            assert isinstance(value, int), name
            assert spec.minimum is None or value >= spec.minimum
            assert spec.maximum is None or value <= spec.maximum
        elif spec.choices:
            assert value in spec.choices, name
    evaluator = RuleEvaluator()
    rules = [evaluator.compile(rule) for rule in default_rules()]
    results = evaluator.evaluate_many(rules, facts)
    for rule in rules:
        assert isinstance(results[rule.slug], bool), rule.slug
        if not applies(rule, facts):
            assert rule.event_reads


@given(facts_documents(FactCatalog(), nulls=False))
def test_an_empty_catalog_draws_empty_documents(facts: dict) -> None:
    assert facts == {}


@given(
    facts_documents(
        _catalog := FactCatalog(
            {"plugin.karma": FactSpec("plugin.karma", FactType.INT, "Karma.", frozenset())}
        ),
        nulls=False,
        count_ceiling=3,
    )
)
def test_a_plugins_facts_are_drawn_within_the_ceiling(facts: dict) -> None:
    assert 0 <= facts["plugin"]["karma"] <= 3
