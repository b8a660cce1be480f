"""The fact-provider protocol and the builder that asks providers for just the facts needed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.course import Course
from questline.engine.learner import LearnerState
from questline.engine.models import User
from questline.engine.views import LessonView, ModuleView
from questline.engine.writes import Pending
from questline.rules.facts import FactCatalog, FactSpec
from questline.rules.vocabulary import ActivityType


@dataclass(frozen=True)
class FactContext:
    """What a provider may look at: the learner, the event (if any), the course, a read session.

    `learner` holds what the engine has loaded about the learner (progress rows by lesson,
    aggregates, earned achievements), current as of this event; `session` does not see this
    transaction's rows yet (they are written when its work is settled). `moment` is when the
    facts are taken (the event's time, or now); `zone` is the engine's time zone
    (QUESTLINE_TIMEZONE), in which days are counted; `module` is the lesson's module with its
    published lessons; `pending` is what this transaction has not written yet (its week and
    month gains, its awards), if any.
    Providers read; they never write.
    """

    session: AsyncSession
    learner: LearnerState
    course: Course
    zone: ZoneInfo
    moment: datetime
    activity: ActivityType | None = None
    lesson: LessonView | None = None
    module: ModuleView | None = None
    score: int | None = None
    pending: Pending | None = None

    @property
    def user(self) -> User:
        return self.learner.user


@runtime_checkable
class FactProvider(Protocol):
    """Computes the facts of one namespace (`stats`, `streak`, or a plugin's own)."""

    namespace: str

    def specs(self) -> Iterable[FactSpec]:
        """The facts this provider computes, as catalog entries."""
        ...

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        """Values for the requested leaf names (e.g. "lessons_completed"), keyed by leaf name."""
        ...


class FactsBuilder:
    """Routes fact names to providers and assembles the nested facts document."""

    def __init__(self, providers: Iterable[FactProvider]) -> None:
        self.catalog = FactCatalog()
        self._providers: dict[str, FactProvider] = {}
        for provider in providers:
            if provider.namespace in self._providers:
                raise ValueError(f"two fact providers claim namespace {provider.namespace!r}")
            self._providers[provider.namespace] = provider
            for spec in provider.specs():
                if spec.namespace != provider.namespace:
                    raise ValueError(
                        f"provider of {provider.namespace!r} declares fact {spec.name!r} "
                        "outside its namespace"
                    )
                self.catalog.register(spec)

    async def build(self, context: FactContext, names: Iterable[str]) -> dict[str, Any]:
        """The facts document holding (at least) every fact in `names`."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for name in names:
            namespace, _, leaf = name.partition(".")
            if namespace in self._providers:
                wanted[namespace].add(leaf.split(".", 1)[0])
        document: dict[str, Any] = {}
        for namespace, leaves in wanted.items():
            document[namespace] = await self._providers[namespace].provide(
                context, frozenset(leaves)
            )
        return document
