"""Content and rules: loading and checking them, and what follows a change (backfill,
rebuilt aggregates, previews)."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import aggregates, catalogue, history
from questline.engine.catalog_version import catalog_change
from questline.engine.content import ContentReport, load_course, read_course
from questline.engine.errors import RuleFails, RulesError
from questline.engine.facets.base import DEFAULT_CHUNK, EngineBase
from questline.engine.learner import Learners, load_learner
from questline.engine.models import Achievement, User, UserAchievement
from questline.engine.recorder import HOLDERS, Awarding
from questline.engine.rule_store import RulesDiff, RulesReport, diff_rules, store_rules
from questline.engine.rulebook import ActiveRule, judgeable
from questline.engine.views import AwardView, UserView
from questline.plain_errors import shortened
from questline.rules import Problem, RuleDocument, RuleEvaluationError, validate_document
from questline.rules.loading import RuleLoadError, load_rules


@dataclass(frozen=True)
class BackfillReport:
    users: int
    awards: tuple[AwardView, ...]


class Rules(EngineBase):
    """Loading the course and the rules, checking rules, and bringing stored figures and
    awards up to date with them."""

    async def load_content(self, path: str | Path) -> ContentReport:
        """Load a course file (YAML or JSON); idempotent by module and lesson slug."""
        document = read_course(Path(path))
        report = await self._write(catalog_change(lambda session: load_course(session, document)))
        await self.reload()
        return report

    def validate_rules(self, paths: Sequence[str | Path]) -> list[RuleDocument]:
        """Rule documents from files, validated against this engine's facts and operators."""
        try:
            return load_rules(paths, self.facts.catalog, self.operators)
        except RuleLoadError as error:
            raise RulesError(str(error)) from None

    async def load_rules(self, paths: Sequence[str | Path]) -> RulesReport:
        """Insert new rules and update changed ones, by slug; nothing loads if any file is bad."""
        documents = self.validate_rules(paths)
        report = await self._write(catalog_change(lambda session: store_rules(session, documents)))
        await self.reload()
        return report

    async def diff_rules(self, paths: Sequence[str | Path]) -> RulesDiff:
        """What `load_rules(paths)` would change, rule by rule, and for how many holders, and
        the enabled rules it would leave alone; writes nothing (RulesError if a file is bad,
        as for loading)."""
        documents = self.validate_rules(paths)
        async with self.sessions.reading() as session:
            return await diff_rules(session, documents)

    def _rule_by_slug(self, slug: str) -> ActiveRule:
        slugs = {rule.slug: rule for rule in self.rulebook.rules}
        if slug in slugs:
            return slugs[slug]
        close = difflib.get_close_matches(slug, slugs, n=1, cutoff=0.6)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise RulesError(f'no enabled rule with slug "{shortened(slug)}"{hint}')

    async def backfill(self, slug: str, *, chunk_size: int = DEFAULT_CHUNK) -> BackfillReport:
        """Evaluate a loaded rule for every learner, in chunks, awarding idempotently.

        Backfilled awards are not announced: award_granted is not called for them, so learners
        are not flooded by notifications for history.
        """
        course = await self.course()
        rule = self._rule_by_slug(slug)
        granted: list[AwardView] = []
        users = 0
        async for ids in self._learner_chunks(chunk_size):
            users += len(ids)

            async def work(session: AsyncSession, ids: list[int] = ids) -> list[AwardView]:
                out: list[AwardView] = []
                learners = Learners(session, self.zone)
                await learners.lock_all(user_ids=ids)
                for user_id in ids:
                    learner = await learners.locked(user_id=user_id, telegram_id=None)
                    async for moment in history.moments(
                        session, course, learner, self.zone, rule.compiled
                    ):
                        awarding = Awarding(moment.context, moment.activity)
                        awards = await self.recorder.award(learners.pending, awarding, [rule])
                        if awards:
                            learners.totals_changed(learner)
                            out.extend(awards)
                            break
                await learners.settle()
                return out

            granted.extend(await self._write(work, retry_conflicts=True))
        return BackfillReport(users=users, awards=tuple(granted))

    async def rebuild_aggregates(
        self,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """Rebuild every learner's aggregates from the activity log, one transaction per chunk
        of learners (each locked meanwhile); returns the number of learners.

        `on_chunk(n)` is called after each chunk with the learners it rebuilt.
        """
        users = 0
        async for ids in self._learner_chunks(chunk_size):

            async def work(session: AsyncSession, ids: list[int] = ids) -> None:
                await session.execute(
                    select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update()
                )
                await aggregates.rebuild(session, ids, self.zone)

            await self._write(work)
            users += len(ids)
            if on_chunk is not None:
                on_chunk(len(ids))
        return users

    async def _learner_chunks(self, size: int) -> AsyncIterator[list[int]]:
        """Every learner's id, in chunks of `size` in id order, each read when it is due."""
        last_id = 0
        while True:
            async with self.sessions.reading() as session:
                ids = list(
                    await session.scalars(
                        select(User.id).where(User.id > last_id).order_by(User.id).limit(size)
                    )
                )
            if not ids:
                return
            yield ids
            last_id = ids[-1]

    async def preview(self, document: RuleDocument) -> list[UserView]:
        """Learners who would qualify for `document` now; writes nothing."""
        compiled = self.rulebook.evaluator.compile(document)
        course = await self.course()
        qualifying = []
        async with self.sessions.reading() as session:
            holders = await session.scalar(
                select(func.count())
                .select_from(UserAchievement)
                .join(Achievement, Achievement.id == UserAchievement.achievement_id)
                .where(Achievement.slug == document.slug)
            )
            for user_id in list(await session.scalars(select(User.id).order_by(User.id))):
                learner = await load_learner(session, self.zone, user_id=user_id)
                async for moment in history.moments(session, course, learner, self.zone, compiled):
                    facts = await self.facts.build(moment.context, compiled.reads)
                    if HOLDERS in compiled.reads:
                        facts["rule"] = {"holders": holders}
                    if not judgeable(compiled, facts):
                        continue
                    verdict = self.rulebook.evaluator.evaluate_many([compiled], facts)
                    if isinstance(verdict[compiled.slug], RuleEvaluationError):
                        judged = f"learner {user_id}, Telegram id {learner.user.telegram_id}"
                        raise RuleFails(f"{verdict[compiled.slug]} (judging {judged})")
                    if verdict[compiled.slug] is True:
                        qualifying.append(catalogue.user_view(learner.user))
                        break
        return qualifying

    def achievement_catalog(self) -> list[RuleDocument]:
        """The enabled achievements' rule documents, in catalogue order."""
        return [rule.document for rule in self.rulebook.rules]

    def check_rule(self, raw: Any, source: str = "rule") -> list[Problem]:
        """Every problem of one rule document given as data; empty when it is a valid rule."""
        return validate_document(
            raw, source, self.facts.catalog, self.operators, evaluator=self.rulebook.evaluator
        )
