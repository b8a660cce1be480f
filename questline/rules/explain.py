"""Explanations: why a rule is not (yet) true for a learner, in short sentences.

Threshold conditions (``stats.lessons_completed >= 10``) are phrased with the fact's wording
from the catalog ("needs 3 more completed lessons (7/10)"); any other failing condition is
shown with the actual values it read. :class:`Shortfall` keeps ``fact``/``current``/``target``
so an adapter (e.g. the Telegram bot) can phrase it in another language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from questline.rules.analysis import (
    ProgressPart,
    _conjuncts,
    _part_progress,
    _threshold,
    _var_name,
    criteria_of,
    fact_reads,
    operator_call,
    progress,
)
from questline.rules.evaluation import RuleEvaluationError, RuleEvaluator
from questline.rules.facts import MISSING, FactCatalog, lookup_fact
from questline.rules.phrases import fact_name, language_of, more_phrase

__all__ = ["Explanation", "Shortfall", "explain"]

ShortfallKind = Literal["threshold", "exact", "condition", "error"]


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One unmet part of a rule.

    ``kind`` is ``"threshold"`` (``fact`` must reach ``target``; ``current`` is where it is),
    ``"exact"`` (``fact`` must equal ``target``), ``"condition"`` (another failing condition;
    ``values`` maps each fact it read to its value, ``fact``/``current`` are the first of them)
    or ``"error"`` (the rule could not be evaluated). ``pointer`` locates the condition in the
    criteria (RFC 6901). ``text`` is the English sentence.
    """

    kind: ShortfallKind
    text: str
    fact: str | None = None
    current: Any = None
    target: Any = None
    pointer: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Whether the rule holds and, if not, what is missing."""

    satisfied: bool
    shortfalls: tuple[Shortfall, ...]

    @property
    def text(self) -> str:
        if self.satisfied:
            return "all conditions are met"
        return "; ".join(s.text for s in self.shortfalls)

    def __str__(self) -> str:
        return self.text


_WORDS = {
    "en": {
        "needs": "needs",
        "now": "now",
        "is": "is",
        "not": "not",
        "or": "or",
        "missing": "none",
        "another": " (or another way)",
        "exactly": "needs exactly",
    },
    "ru": {
        "needs": "нужно",
        "now": "сейчас",
        "is": "—",
        "not": "не",
        "or": "или",
        "missing": "нет",
        "another": " (или другим путём)",
        "exactly": "нужно ровно",
    },
}


def _word(key: str, locale: str | None) -> str:
    return _WORDS[language_of(locale)][key]


def _fmt(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, int) else str(value)


def _shown(value: Any, locale: str | None) -> str:
    """A fact's value in a sentence: no value (null, missing) is "none"."""
    return _word("missing", locale) if value is None or value is MISSING else _fmt(value)


def _threshold_shortfall(
    part: ProgressPart, facts: Mapping[str, Any], catalog: FactCatalog, locale: str | None = None
) -> Shortfall:
    spec = catalog.get(part.fact)
    current, target = part.current, part.target
    if part.op == "==":
        name = fact_name(part.fact, locale) if locale else None
        now = f"({_word('now', locale)} {_shown(lookup_fact(facts, part.fact), locale)})"
        if _is_count(part.fact, catalog):  # "needs exactly 5 completed lessons"
            noun = name or (spec.noun if spec and spec.noun else part.fact)
            text = f"{_word('exactly', locale)} {_fmt(target)} {noun} {now}"
        else:  # a rank, an hour…: "needs your rank last month == 1"
            text = f"{_word('needs', locale)} {name or part.fact} {part.op} {_fmt(target)} {now}"
        return Shortfall("exact", text, part.fact, current, target, part.pointer)
    missing = part.missing
    step = more_phrase(part.fact, int(missing), locale) if float(missing).is_integer() else None
    if locale is not None and step is not None:
        text = f"{step} ({_fmt(current)}/{_fmt(target)})"
    elif spec is not None and spec.shortfall:
        text = spec.shortfall.format(
            missing=_fmt(missing), current=_fmt(current), target=_fmt(target), noun=spec.noun
        )
    elif spec is not None and spec.noun:
        noun = spec.noun_one if missing == 1 and spec.noun_one else spec.noun
        text = f"needs {_fmt(missing)} more {noun} ({_fmt(current)}/{_fmt(target)})"
    else:
        text = f"needs {part.fact} to reach {_fmt(target)} (now {_fmt(current)})"
    return Shortfall("threshold", text, part.fact, current, target, part.pointer)


_INFIX = {"==", "===", "!=", "!==", "<", "<=", ">", ">=", "in"}


def _render(node: Any, locale: str | None = None) -> str:
    """A compact, readable rendering of a condition (facts by name when `locale` is given)."""
    call = operator_call(node)
    if call is None:
        return json.dumps(node, ensure_ascii=False)
    op, arg = call
    args = arg if isinstance(arg, list) else [arg]

    def inner(child: Any) -> str:
        return _render(child, locale)

    if op == "var":
        name = str(args[0]) if args else "var"
        return fact_name(name, locale) if locale else name
    if op in _INFIX and len(args) == 2:
        return f"{inner(args[0])} {op} {inner(args[1])}"
    if op in ("<", "<=") and len(args) == 3:
        return f"{inner(args[0])} {op} {inner(args[1])} {op} {inner(args[2])}"
    if op in ("and", "or"):
        joiner = _word("or", locale) if op == "or" else op
        return "(" + f" {joiner} ".join(inner(a) for a in args) + ")"
    if op == "!":
        return f"{_word('not', locale)} {inner(args[0])}" if args else "not"
    if op == "!!" and args:  # a value is needed: the fact itself names it
        return inner(args[0])
    return json.dumps(node, ensure_ascii=False)


def _condition_shortfall(
    node: Any,
    pointer: str,
    facts: Mapping[str, Any],
    evaluator: RuleEvaluator,
    locale: str | None = None,
    *,
    unmet: bool = False,
) -> Shortfall | None:
    """The shortfall of a false condition (or of one `unmet` whatever it evaluates to)."""
    traced = evaluator.trace(node, facts)
    if traced["error"]:
        return Shortfall("error", f"{_render(node)} could not be evaluated: {traced['error']}")
    if not unmet and evaluator.truthy(traced["result"]):
        return None
    values: dict[str, Any] = {}
    for read in fact_reads(node):
        if read.name is not None and read.name not in values:
            value = lookup_fact(facts, read.name)
            values[read.name] = None if value is MISSING else value
    shown = ", ".join(
        f"{fact_name(k, locale) if locale else k} {_word('is', locale)} {_shown(v, locale)}"
        for k, v in values.items()
    )
    rendered = _render(node, locale)
    if rendered.startswith("(") and rendered.endswith(")"):
        rendered = rendered[1:-1]
    text = f"{_word('needs', locale)} {rendered}" + (f" ({shown})" if shown else "")
    first = next(iter(values), None)
    return Shortfall(
        "condition",
        text,
        first,
        values.get(first) if first else None,
        None,
        pointer,
        values,
    )


def _closest_branch(
    branches: list[Any], facts: Mapping[str, Any], catalog: FactCatalog
) -> tuple[int, Any] | None:
    """The branch of an ``or`` nearest to holding: the highest progress among branches that
    are thresholds on counts (facts with a noun); None when no branch is one."""
    scored = []
    for index, branch in enumerate(branches):
        measured = progress(branch, facts, catalog)
        if measured is not None and all(_is_count(part.fact, catalog) for part in measured.parts):
            scored.append((measured.ratio, -index, branch))
    if not scored:
        return None
    _, negative_index, branch = max(scored, key=lambda item: item[:2])
    return -negative_index, branch


def _presence_test(node: Any) -> str | None:
    """The fact that ``{"!!": {"var": fact}}`` tests for a value, if ``node`` is such a test."""
    call = operator_call(node)
    if call is None or call[0] != "!!":
        return None
    args = call[1] if isinstance(call[1], list) else [call[1]]
    return _var_name(args[0]) if len(args) == 1 else None


def _unset_guards(conjuncts: list[tuple[Any, str]], facts: Mapping[str, Any]) -> set[str]:
    """Facts without a value whose presence test guards other conditions of the ``and``
    (``!!`` rank and rank <= 3): those conditions explain what is needed, the test does not
    (null reads as 0, so they may even hold)."""
    tested = {_presence_test(node) for node, _ in conjuncts} - {None}
    unset = {fact for fact in tested if lookup_fact(facts, fact) in (None, MISSING)}
    guarded = {
        read.name
        for node, _ in conjuncts
        if _presence_test(node) is None
        for read in fact_reads(node)
    }
    return {fact for fact in unset if fact in guarded}


def _is_count(fact: str, catalog: FactCatalog) -> bool:
    spec = catalog.get(fact)
    return spec is not None and spec.type.is_numeric and spec.noun is not None


def explain(
    rule: Any,
    facts: Mapping[str, Any],
    evaluator: RuleEvaluator | None = None,
    catalog: FactCatalog | None = None,
    locale: str | None = None,
) -> Explanation:
    """What stands between the learner (``facts``) and ``rule`` (compiled, document or criteria).

    The rule's top-level ``and`` is split into its conditions; each false one becomes a
    :class:`Shortfall`. A false ``or`` is explained by its branch nearest to holding. With a
    ``locale`` ("en", "ru"), steps and facts are phrased for a learner in that language
    ("complete 3 more lessons (7/10)"); without, in the rule author's terms. A rule that holds
    has no shortfalls.
    """
    evaluator = evaluator if evaluator is not None else RuleEvaluator(catalog)
    catalog = catalog if catalog is not None else evaluator.catalog
    criteria = criteria_of(rule)
    try:
        holds = evaluator.truthy(evaluator.apply(criteria, dict(facts)))
    except RuleEvaluationError as exc:
        return Explanation(False, (Shortfall("error", f"could not be evaluated: {exc.message}"),))
    if holds:
        return Explanation(True, ())
    shortfalls: list[Shortfall] = []
    conjuncts = list(_conjuncts(criteria, ""))
    unset = _unset_guards(conjuncts, facts)
    for node, pointer in conjuncts:
        if _presence_test(node) in unset:
            continue
        if unset & {read.name for read in fact_reads(node)}:
            found = _condition_shortfall(node, pointer, facts, evaluator, locale, unmet=True)
            shortfalls.extend([found] if found else [])
            continue
        call = operator_call(node)
        branches = call[1] if call is not None and call[0] == "or" else None
        closest = _closest_branch(branches, facts, catalog) if isinstance(branches, list) else None
        if closest is not None:
            index, branch = closest
            nearest = explain(branch, facts, evaluator, catalog, locale)
            suffix = _word("another", locale) if len(branches or ()) > 1 else ""
            shortfalls.extend(
                replace(s, text=s.text + suffix, pointer=f"{pointer}/or/{index}{s.pointer}")
                for s in nearest.shortfalls
            )
            continue
        part = _threshold(node, pointer)
        state = _part_progress(part, facts, catalog) if part is not None else None
        spec = catalog.get(part.fact) if part is not None else None
        if state is not None and (spec is None or spec.type.is_numeric):
            if not state.satisfied:
                shortfalls.append(_threshold_shortfall(state, facts, catalog, locale))
            continue
        found = _condition_shortfall(node, pointer, facts, evaluator, locale)
        if found is not None:
            shortfalls.append(found)
    if not shortfalls:  # e.g. an "and" whose parts hold separately but not together
        found = _condition_shortfall(criteria, "", facts, evaluator, locale)
        shortfalls.append(found or Shortfall("condition", f"needs {_render(criteria)}"))
    return Explanation(False, tuple(shortfalls))
