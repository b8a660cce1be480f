"""Explanations a learner understands: every fact named in English and Russian, steps with the
right plural, and an "or" explained by its branch nearest to holding."""

from __future__ import annotations

import pytest

from questline.rules import default_catalog, explain
from questline.rules.phrases import LANGUAGES, PHRASES, fact_name, more_phrase

TEN = {">=": [{"var": "stats.lessons_completed"}, 10]}


def test_every_catalog_fact_has_a_name_and_every_count_a_step_in_both_languages() -> None:
    for spec in default_catalog():
        phrase = PHRASES.get(spec.name)
        assert phrase is not None, f"{spec.name} has no phrase"
        assert set(phrase.name) == set(LANGUAGES), spec.name
        if spec.type.is_numeric and spec.noun is not None:
            assert set(phrase.more) == set(LANGUAGES), f"{spec.name} has no step"
            for forms in phrase.more.values():
                assert all("{n}" in form for form in forms.values()), spec.name


@pytest.mark.parametrize(
    ("n", "english", "russian"),
    [
        (1, "complete 1 more lesson", "пройдите ещё 1 урок"),
        (3, "complete 3 more lessons", "пройдите ещё 3 урока"),
        (5, "complete 5 more lessons", "пройдите ещё 5 уроков"),
        (21, "complete 21 more lessons", "пройдите ещё 21 урок"),
        (112, "complete 112 more lessons", "пройдите ещё 112 уроков"),
    ],
)
def test_steps_take_the_plural_of_the_language(n: int, english: str, russian: str) -> None:
    assert more_phrase("stats.lessons_completed", n, "en") == english
    assert more_phrase("stats.lessons_completed", n, "ru-RU") == russian
    assert more_phrase("stats.lessons_completed", n, "de") == english  # English otherwise
    assert more_phrase("plugin.karma", n, "ru") is None
    assert fact_name("plugin.karma", "ru") == "plugin.karma"


def test_a_threshold_is_a_step_for_the_learner_and_a_count_for_the_author() -> None:
    facts = {"stats": {"lessons_completed": 7}}
    assert explain(TEN, facts, locale="en").text == "complete 3 more lessons (7/10)"
    assert explain(TEN, facts, locale="ru").text == "пройдите ещё 3 урока (7/10)"
    assert explain(TEN, facts).text == "needs 3 more completed lessons (7/10)"


def test_an_or_is_explained_by_its_nearest_branch() -> None:
    criteria = {
        "or": [
            {">=": [{"var": "stats.logins"}, 3]},
            {">=": [{"var": "stats.days_active"}, 8]},
        ]
    }
    facts = {"stats": {"logins": 1, "days_active": 7}}
    [shortfall] = explain(criteria, facts, locale="en").shortfalls
    assert shortfall.text == "learn on 1 more day (7/8) (or another way)"
    assert shortfall.pointer == "/or/1"
    [shortfall] = explain(
        criteria, {"stats": {"logins": 2, "days_active": 1}}, locale="ru"
    ).shortfalls
    assert shortfall.text == "зайдите ещё 1 раз (2/3) (или другим путём)"
    assert shortfall.pointer == "/or/0"


def test_other_conditions_name_their_facts_in_the_learners_language() -> None:
    night = {
        "or": [{">=": [{"var": "event.local_hour"}, 22]}, {"<": [{"var": "event.local_hour"}, 5]}]
    }
    facts = {"event": {"local_hour": 14}}
    assert explain(night, facts, locale="ru").text == (
        "нужно час по времени сообщества >= 22 или час по времени сообщества < 5"
        " (час по времени сообщества — 14)"
    )
    assert explain(night, facts).text == (
        "needs event.local_hour >= 22 or event.local_hour < 5 (event.local_hour is 14)"
    )
