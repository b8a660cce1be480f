"""Plugins that misbehave are named, and a failing fact provider costs only its own rules."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event
from questline.plugins import PluginError, hookimpl
from questline.plugins.manager import (
    BUILTIN_FACTS,
    DISABLE_ENV,
    PluginManager,
    build_plugin_manager,
)
from questline.rules.facts import FactSpec, FactType
from questline.rules.vocabulary import ActivityType

from .conftest import SAMPLE_COURSE, T0, course_engine, first_lesson, register
from .test_entry_point import pip_install, write_wheel

KARMA_RULE = {
    "slug": "good-karma",
    "type": "MILESTONE",
    "title": "Good karma",
    "points": 5,
    "criteria": {">=": [{"var": "karma.points"}, 100]},
}
QUIET_RULE = {
    "slug": "quiet-on-the-forum",
    "type": "MILESTONE",
    "title": "Quiet on the forum",
    "points": 1,
    "criteria": {"<": [{"var": "karma.points"}, 10]},  # would hold on a missing (null) karma
}


class KarmaFacts:
    """A forum's karma, which the forum sometimes fails to tell (`answer`)."""

    namespace = "karma"

    def __init__(self) -> None:
        self.answer: Any = {"points": 500}

    def specs(self) -> list[FactSpec]:
        return [
            FactSpec(
                name="karma.points",
                type=FactType.INT,
                description="Karma on the forum.",
                changed_by=frozenset(ActivityType),
            )
        ]

    async def provide(self, context: object, names: frozenset[str]) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class KarmaPlugin:
    def __init__(self) -> None:
        self.facts = KarmaFacts()

    @hookimpl
    def questline_fact_providers(self) -> list[KarmaFacts]:
        return [self.facts]


def manager_with(**plugins: object) -> PluginManager:
    manager = build_plugin_manager(load_entry_points=False)
    for name, plugin in plugins.items():
        manager.register(plugin, name=name)
    return manager


async def karma_engine(db: AsyncEngine, karma: KarmaPlugin, tmp_path: Path) -> Engine:
    engine = await course_engine(db, manager_with(karma=karma))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "karma.json").write_text(json.dumps([KARMA_RULE, QUIET_RULE]))
    await engine.load_rules([rules])
    return engine


@pytest.mark.parametrize(
    ("answer", "logged"),
    [
        (RuntimeError("the forum is down"), "RuntimeError: the forum is down"),
        ([500], "it returned a list, not a mapping of facts"),
        ({"points": datetime(2026, 1, 1)}, "karma.points is a datetime, not JSON data"),
        ({"points": float("nan")}, "karma.points is nan, not a finite number"),
    ],
    ids=["raises", "a-list", "a-datetime", "nan"],
)
async def test_a_failing_fact_provider_costs_only_the_rules_reading_its_facts(
    db: AsyncEngine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    answer: Any,
    logged: str,
) -> None:
    karma = KarmaPlugin()
    engine = await karma_engine(db, karma, tmp_path)
    user = await register(engine)
    lesson = await first_lesson(engine)
    karma.facts.answer = answer
    with caplog.at_level(logging.ERROR):
        result = await engine.record(
            Event(
                type=ActivityType.LESSON_COMPLETED,
                user_id=user.id,
                lesson_id=lesson.id,
                occurred_at=T0,
            )
        )
    assert [award.slug for award in result.awards] == ["first-lesson"]  # the event counts
    assert f'plugin "karma": the facts of "karma" failed ({logged})' in caplog.text

    karma.facts.answer = {"points": 500}  # the forum is back: the next event judges it
    later = await engine.record(Event(type=ActivityType.LOGIN, user_id=user.id, occurred_at=T0))
    assert [award.slug for award in later.awards] == ["good-karma"]
    await engine.shutdown()


async def test_a_decimal_from_the_database_is_a_number(db: AsyncEngine, tmp_path: Path) -> None:
    """What MySQL's SUM() returns: read as a number on every database, not a failed fact."""
    karma = KarmaPlugin()
    engine = await karma_engine(db, karma, tmp_path)
    user = await register(engine)
    karma.facts.answer = {"points": Decimal("500")}
    result = await engine.record(Event(type=ActivityType.LOGIN, user_id=user.id, occurred_at=T0))
    assert [award.slug for award in result.awards] == ["good-karma"]
    await engine.shutdown()


async def test_a_provider_whose_namespace_does_not_apply_answers_none(
    db: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    karma = KarmaPlugin()
    engine = await karma_engine(db, karma, tmp_path)
    user = await register(engine)
    karma.facts.answer = None  # documented: "Return None when the namespace does not apply"
    with caplog.at_level(logging.ERROR):
        result = await engine.record(
            Event(type=ActivityType.LOGIN, user_id=user.id, occurred_at=T0)
        )
    assert [award.slug for award in result.awards] == ["quiet-on-the-forum"]  # null < 10
    assert "failed" not in caplog.text
    await engine.shutdown()


def test_two_plugins_claiming_one_namespace_are_both_named() -> None:
    with pytest.raises(PluginError) as refused:
        Engine(
            "sqlite+aiosqlite://",
            plugin_manager=manager_with(karma=KarmaPlugin(), again=KarmaPlugin()),
        )
    assert str(refused.value) == (
        'plugins "again" and "karma" both provide the facts of namespace "karma"; '
        f"disable one with {DISABLE_ENV}"
    )


def test_a_plugin_giving_operators_that_are_not_a_mapping_is_named() -> None:
    class Wrong:
        @hookimpl
        def questline_operators(self) -> int:
            return 3

    with pytest.raises(PluginError, match='plugin "wrong" failed in questline_operators'):
        Engine("sqlite+aiosqlite://", plugin_manager=manager_with(wrong=Wrong()))


def test_a_plugin_that_cannot_be_imported_is_named_with_the_way_to_start_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wheel = write_wheel(tmp_path, "broken_plugin", {}, "broken = broken_plugin_missing_module")
    pip_install(wheel, tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    with pytest.raises(PluginError) as refused:
        build_plugin_manager()
    message = str(refused.value)
    assert message.startswith('plugin "broken" (broken_plugin_missing_module) cannot be loaded: ')
    assert "ModuleNotFoundError" in message and f"{DISABLE_ENV}=broken" in message

    monkeypatch.setenv(DISABLE_ENV, "broken, brokn")
    with caplog.at_level(logging.WARNING):
        manager = build_plugin_manager()
    assert manager.is_blocked("broken")
    assert f'{DISABLE_ENV} names "brokn", but no installed plugin is called so' in caplog.text


def test_a_misspelt_hook_is_named_with_the_hook_it_is_closest_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "from questline.plugins import hookimpl\n\n"
        "@hookimpl\ndef questline_awrd_granted(award): ...\n"
    )
    wheel = write_wheel(
        tmp_path, "misspelt_plugin", {"misspelt_plugin.py": source}, "misspelt = misspelt_plugin"
    )
    pip_install(wheel, tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    with pytest.raises(PluginError) as refused:
        build_plugin_manager()
    assert str(refused.value) == (
        'plugin "misspelt" cannot be loaded: "questline_awrd_granted" is no questline hook '
        '(did you mean "questline_award_granted"?); fix it, or start without it with '
        f"{DISABLE_ENV}=misspelt"
    )


def test_two_plugins_giving_one_operator_are_both_named() -> None:
    class Clamp:
        @hookimpl
        def questline_operators(self) -> dict[str, Any]:
            return {"clamp": lambda value, low, high: max(low, min(high, value))}

    with pytest.raises(PluginError) as refused:
        Engine("sqlite+aiosqlite://", plugin_manager=manager_with(one=Clamp(), two=Clamp()))
    assert str(refused.value) == (
        f'plugins "two" and "one" both give the operator "clamp"; disable one with {DISABLE_ENV}'
    )


async def test_a_failing_startup_hook_stops_the_engine_naming_the_plugin(db: AsyncEngine) -> None:
    class Failing:
        @hookimpl
        async def questline_startup(self) -> None:
            raise RuntimeError("startup boom")

    engine = Engine(db, plugin_manager=manager_with(failing=Failing()))
    with pytest.raises(PluginError) as refused:
        await engine.startup()
    assert str(refused.value) == (
        'plugin "failing" failed in questline_startup: RuntimeError: startup boom'
    )
    await engine.shutdown()


async def test_the_documented_operator_shows_no_error_between_events(
    db: AsyncEngine, tmp_path: Path
) -> None:
    """docs/plugins.md's `clamp` and `steady`: outside an event `event.score` is null, on
    which `clamp` raises; the learner read that Python error as what they were missing."""

    def clamp(value: int, low: int, high: int) -> int:
        return max(low, min(high, value))

    class Clamp:
        @hookimpl
        def questline_operators(self) -> dict[str, Any]:
            return {"clamp": clamp}

    engine = await course_engine(db, manager_with(clampy=Clamp()))
    steady = {
        "slug": "steady",
        "type": "MILESTONE",
        "title": "Steady",
        "points": 5,
        "criteria": {">=": [{"clamp": [{"var": "event.score"}, 0, 100]}, 90]},
    }
    (tmp_path / "steady.json").write_text(json.dumps(steady))
    await engine.load_rules([tmp_path / "steady.json"])
    user = await register(engine)
    statuses = {status.slug: status for status in await engine.achievements(user_id=user.id)}
    assert statuses["steady"].shortfalls == ()
    assert statuses["steady"].explanation == (
        "earned at the moment of an event that meets it; nothing to count before"
    )
    lesson = await first_lesson(engine)
    completed = Event(
        type=ActivityType.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id, score=95
    )
    assert "steady" in [award.slug for award in (await engine.record(completed)).awards]
    await engine.shutdown()


async def test_progress_needs_no_built_in_facts(db: AsyncEngine) -> None:
    """With `questline.facts` blocked (a plugin's providers stand in for the facts rules
    read), a learner's progress still shows the engine's own figures (a KeyError before)."""
    manager = build_plugin_manager(load_entry_points=False, disabled={BUILTIN_FACTS})
    engine = Engine(bind=db, plugin_manager=manager)
    await engine.load_content(SAMPLE_COURSE)
    user = await register(engine)
    lesson = await first_lesson(engine)
    await engine.record(
        Event(type=ActivityType.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id, score=80)
    )
    report = await engine.progress(user_id=user.id)
    assert (report.lessons_completed, report.total_score, report.streak_current) == (1, 80, 1)
    await engine.shutdown()
