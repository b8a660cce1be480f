"""The rules in force: enabled achievements from the database, compiled once, indexed by event."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from questline.engine.models import Achievement, AchievementTranslation
from questline.rules.document import RuleDocument
from questline.rules.evaluation import CompiledRule, RuleEvaluationError, RuleEvaluator, applies
from questline.rules.translations import primary_language
from questline.rules.vocabulary import ActivityType

log = logging.getLogger(__name__)


def judgeable(rule: CompiledRule, facts: Mapping[str, Any]) -> bool:
    """Whether `rule` is judged on `facts`: it applies (`applies`: its event facts have values)
    and every namespace it reads is there (a plugin whose provider failed leaves its own out)."""
    return applies(rule, facts) and rule.namespaces <= facts.keys()


@dataclass(frozen=True)
class RuleTexts:
    """What a learner reads of an achievement, in one language."""

    title: str
    description: str | None


@dataclass(frozen=True)
class ActiveRule:
    """A compiled rule together with the achievement row it awards."""

    achievement_id: int
    compiled: CompiledRule
    translations: Mapping[str, RuleTexts] = field(default_factory=dict)
    """The achievement's texts in languages other than its rule document's own."""

    def texts(self, language: str | None = None) -> RuleTexts:
        """The title and description in `language` (a tag such as "ru-RU"), else in the rule
        document's own language."""
        translated = self.translations.get(primary_language(language) or "")
        if translated is not None:
            return translated
        return RuleTexts(self.document.title_in(), self.document.description_in())

    @property
    def slug(self) -> str:
        return self.compiled.slug

    @property
    def document(self) -> RuleDocument:
        return self.compiled.document


def document_of(achievement: Achievement) -> RuleDocument:
    """The rule document an achievement row holds (rows without a slug get `achievement-<id>`)."""
    return RuleDocument(
        slug=achievement.slug or f"achievement-{achievement.id}",
        type=achievement.type,
        title=achievement.title,
        description=achievement.description,
        icon=achievement.icon,
        points=achievement.points,
        criteria=json.loads(achievement.criteria or "null"),
        enabled=achievement.enabled,
        streak_freezes=achievement.streak_freezes,
    )


class RuleBook:
    """Compiled, enabled rules, and which of them an event of a given type can affect."""

    def __init__(self, evaluator: RuleEvaluator) -> None:
        self.evaluator = evaluator
        self.rules: tuple[ActiveRule, ...] = ()
        self._by_slug: dict[str, ActiveRule] = {}

    def replace(
        self,
        achievements: Iterable[Achievement],
        translations: Mapping[int, Mapping[str, AchievementTranslation]],
    ) -> None:
        """Compile every enabled achievement with criteria, with its `translations` (by
        achievement id, then language); a broken one is logged and skipped."""
        compiled = []
        for achievement in achievements:
            if not achievement.enabled or not achievement.criteria:
                continue
            try:
                rule = self.evaluator.compile(document_of(achievement))
                self._check_reads(rule)
            except (ValueError, TypeError) as error:
                log.error("achievement %s is not loaded: %s", achievement.slug, error)
                continue
            texts = {
                language: RuleTexts(row.title, row.description)
                for language, row in translations.get(achievement.id, {}).items()
            }
            compiled.append(ActiveRule(achievement.id, rule, texts))
        self.rules = tuple(compiled)
        self._by_slug = {rule.slug: rule for rule in self.rules}

    def _check_reads(self, rule: CompiledRule) -> None:
        """A stored rule reading a fact no provider supplies (its plugin was uninstalled)
        would be judged with the fact missing: refused, as the validator refuses it."""
        catalog = self.evaluator.catalog
        unknown = sorted(name for name in rule.reads if name not in catalog)
        if unknown:
            raise ValueError(f"it reads {catalog.unknown_message(unknown[0])}")

    def rule(self, slug: str) -> ActiveRule | None:
        """The rule in force with this slug, if any."""
        return self._by_slug.get(slug)

    def candidates(self, activity: ActivityType, earned: Collection[int]) -> list[ActiveRule]:
        """Rules not yet earned that an event of `activity` can change."""
        return [
            rule
            for rule in self.rules
            if rule.achievement_id not in earned and activity in rule.compiled.affected_by
        ]

    def reading(self, namespace: str, earned: Collection[int]) -> list[ActiveRule]:
        """Rules not yet earned that read a fact of `namespace` (e.g. "streak")."""
        prefix = f"{namespace}."
        return [
            rule
            for rule in self.rules
            if rule.achievement_id not in earned
            and any(name.startswith(prefix) for name in rule.compiled.reads)
        ]

    @staticmethod
    def reads(rules: Iterable[ActiveRule]) -> set[str]:
        """Every fact name the rules read."""
        return {name for rule in rules for name in rule.compiled.reads}

    def fired_with_holders(
        self, rules: list[ActiveRule], facts: Mapping[str, Any], holders: Mapping[int, int]
    ) -> list[ActiveRule]:
        """`fired`, with each rule seeing `rule.holders` of its own achievement."""
        shared = [rule for rule in rules if rule.achievement_id not in holders]
        fired = self.fired(shared, facts) if shared else []
        for rule in rules:
            if rule.achievement_id in holders:
                own = {**facts, "rule": {"holders": holders[rule.achievement_id]}}
                fired += self.fired([rule], own)
        return fired

    def fired(self, rules: list[ActiveRule], facts: Mapping[str, Any]) -> list[ActiveRule]:
        """The rules that hold on `facts`; a rule that errors is logged with its slug, not fired.
        A rule reading an event fact that `facts` has no value for, or a namespace `facts`
        lacks (its plugin's provider failed), is not judged (`judgeable`)."""
        rules = [rule for rule in rules if judgeable(rule.compiled, facts)]
        if not rules:
            return []
        results = self.evaluator.evaluate_many([rule.compiled for rule in rules], facts)
        fired = []
        for rule in rules:
            outcome = results[rule.slug]
            if isinstance(outcome, RuleEvaluationError):
                log.error("rule %s failed: %s", rule.slug, outcome.message)
            elif outcome:
                fired.append(rule)
        return fired
