"""The fact-provider protocol and the builder that asks providers for just the facts needed."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.course import Course
from questline.engine.learner import LearnerState
from questline.engine.models import User
from questline.engine.views import LessonView, ModuleView
from questline.engine.writes import Pending
from questline.plugins import DISABLE_ENV, PluginError
from questline.plugins.manager import PluginManager
from questline.rules.facts import FactCatalog, FactSpec
from questline.rules.vocabulary import ActivityType

log = logging.getLogger(__name__)


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


class NotJson(ValueError):
    """A provided value that is not JSON data."""


def as_json(value: Any, path: str) -> Any:
    """`value` as JSON data; a `Decimal` (what MySQL's SUM and AVG return) is read as an int
    when whole, else a float. NotJson names the first value at `path` that is not JSON."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJson(f"{path} is {value}, not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotJson(f"{path} is {value}, not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise NotJson(f"{path} has a key that is not text")
        return {key: as_json(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise NotJson(f"{path} is a {type(value).__name__}, not JSON data")


class FactsBuilder:
    """Routes fact names to providers and assembles the nested facts document.

    A plugin's provider that fails (raises, returns neither a mapping nor None, or a value
    that is not JSON data) is logged with the plugin's name, and its namespace is left out of
    the document: the rules reading it are not judged on that document (`RuleBook.fired`),
    the others are. The engine's own providers, and database errors of any provider, are not
    contained: they fail the work.
    """

    def __init__(self, providers: Iterable[tuple[str, FactProvider]], *, trusted: str) -> None:
        """`providers` by the name of the plugin that gave each; `trusted` names the engine's
        own plugin."""
        self.catalog = FactCatalog()
        self._providers: dict[str, FactProvider] = {}
        self._owners: dict[str, str] = {}
        self._trusted = trusted
        for owner, provider in providers:
            namespace = provider.namespace
            if namespace in self._providers:
                raise PluginError(
                    f'plugins "{self._owners[namespace]}" and "{owner}" both provide the facts '
                    f'of namespace "{namespace}"; disable one with {DISABLE_ENV}'
                )
            self._providers[namespace] = provider
            self._owners[namespace] = owner
            for spec in provider.specs():
                if spec.namespace != namespace:
                    raise PluginError(
                        f'plugin "{owner}": its provider of "{namespace}" declares fact '
                        f'"{spec.name}" outside its namespace'
                    )
                self.catalog.register(spec)

    @classmethod
    def from_plugins(cls, plugins: PluginManager, *, trusted: str) -> FactsBuilder:
        """The providers every plugin's `questline_fact_providers` gives, in hook order."""
        providers: list[tuple[str, FactProvider]] = []
        for impl in reversed(plugins.hook.questline_fact_providers.get_hookimpls()):
            try:
                providers.extend((impl.plugin_name, provider) for provider in impl.function())
            except Exception as error:
                raise PluginError.failed(
                    impl.plugin_name, "questline_fact_providers", error
                ) from error
        return cls(providers, trusted=trusted)

    async def build(self, context: FactContext, names: Iterable[str]) -> dict[str, Any]:
        """The facts document holding (at least) every fact in `names`, but those of a plugin
        whose provider failed."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for name in names:
            namespace, _, leaf = name.partition(".")
            if namespace in self._providers:
                wanted[namespace].add(leaf.split(".", 1)[0])
        document: dict[str, Any] = {}
        for namespace, leaves in wanted.items():
            owner = self._owners[namespace]
            trusted = owner == self._trusted
            try:
                provided = await self._providers[namespace].provide(context, frozenset(leaves))
            except DBAPIError:
                raise
            except Exception as error:
                if trusted:
                    raise
                self._failed(owner, namespace, f"{type(error).__name__}: {error}", error)
                continue
            if not trusted and provided is not None:
                if not isinstance(provided, Mapping):
                    kind = type(provided).__name__
                    self._failed(owner, namespace, f"it returned a {kind}, not a mapping of facts")
                    continue
                try:
                    provided = as_json(provided, namespace)
                except NotJson as error:
                    self._failed(owner, namespace, str(error))
                    continue
            document[namespace] = provided
        return document

    @staticmethod
    def _failed(owner: str, namespace: str, why: str, error: Exception | None = None) -> None:
        log.error(
            'plugin "%s": the facts of "%s" failed (%s); rules reading them are not judged',
            owner,
            namespace,
            why,
            exc_info=error,
        )
