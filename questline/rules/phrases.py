"""How explanations name each built-in fact, in English and Russian.

Every fact has a *name* ("the hour of the event"), used to show a condition; a count a learner
can raise also has a *more* phrase, the next step in the imperative ("complete 3 more
lessons"), with plural forms chosen by CLDR's rules for the language (Babel). A fact without a
phrase (a plugin's) is shown by its dotted name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from babel import Locale, UnknownLocaleError

LANGUAGES = ("en", "ru")
"""The languages every built-in fact has phrases in."""


@dataclass(frozen=True)
class Phrase:
    """A fact's name per language, and its "more" phrase per language and plural category."""

    name: dict[str, str]
    more: dict[str, dict[str, str]] = field(default_factory=dict)


def _more(en: tuple[str, str], ru: tuple[str, str, str]) -> dict[str, dict[str, str]]:
    return {
        "en": {"one": en[0], "other": en[1]},
        "ru": {"one": ru[0], "few": ru[1], "many": ru[2], "other": ru[2]},
    }


def _named(en: str, ru: str) -> Phrase:
    return Phrase({"en": en, "ru": ru})


_PERIODS = {
    "today": ("today", "сегодня"),
    "week": ("this week", "на этой неделе"),
    "month": ("this month", "в этом месяце"),
}


def _window_phrases() -> dict[str, Phrase]:
    phrases = {}
    for namespace, (en, ru) in _PERIODS.items():
        phrases[f"{namespace}.lessons_completed"] = Phrase(
            {"en": f"lessons completed {en}", "ru": f"уроков пройдено {ru}"},
            _more(
                (f"complete {{n}} more lesson {en}", f"complete {{n}} more lessons {en}"),
                (
                    f"пройдите {ru} ещё {{n}} урок",
                    f"пройдите {ru} ещё {{n}} урока",
                    f"пройдите {ru} ещё {{n}} уроков",
                ),
            ),
        )
        phrases[f"{namespace}.challenges_solved"] = Phrase(
            {"en": f"challenges solved {en}", "ru": f"заданий решено {ru}"},
            _more(
                (f"solve {{n}} more challenge {en}", f"solve {{n}} more challenges {en}"),
                (
                    f"решите {ru} ещё {{n}} задание",
                    f"решите {ru} ещё {{n}} задания",
                    f"решите {ru} ещё {{n}} заданий",
                ),
            ),
        )
        phrases[f"{namespace}.points"] = Phrase(
            {"en": f"points earned {en}", "ru": f"баллов заработано {ru}"},
            _more(
                (f"earn {{n}} more point {en}", f"earn {{n}} more points {en}"),
                (
                    f"заработайте {ru} ещё {{n}} балл",
                    f"заработайте {ru} ещё {{n}} балла",
                    f"заработайте {ru} ещё {{n}} баллов",
                ),
            ),
        )
        phrases[f"{namespace}.activities"] = Phrase(
            {"en": f"activities {en}", "ru": f"действий {ru}"},
            _more(
                (f"do {{n}} more thing {en}", f"do {{n}} more things {en}"),
                (
                    f"сделайте {ru} ещё {{n}} действие",
                    f"сделайте {ru} ещё {{n}} действия",
                    f"сделайте {ru} ещё {{n}} действий",
                ),
            ),
        )
    return phrases


PHRASES: dict[str, Phrase] = {
    "user.id": _named("your learner id", "ваш номер учащегося"),
    "user.telegram_id": _named("your Telegram id", "ваш id в Telegram"),
    "user.username": _named("your Telegram username", "ваше имя в Telegram"),
    "user.language_code": _named("your language", "ваш язык"),
    "user.days_since_joined": Phrase(
        {"en": "days since you joined", "ru": "дней с начала занятий"},
        _more(
            ("come back in {n} day", "come back in {n} days"),
            ("вернитесь через {n} день", "вернитесь через {n} дня", "вернитесь через {n} дней"),
        ),
    ),
    "event.type": _named("what you did", "что вы сделали"),
    "event.entity_id": _named("the lesson of the event", "урок события"),
    "event.entity_type": _named("what the event is about", "о чём событие"),
    "event.score": Phrase(
        {"en": "the score of this attempt", "ru": "баллы за эту попытку"},
        _more(
            ("score {n} more point in one go", "score {n} more points in one go"),
            (
                "наберите за раз ещё {n} балл",
                "наберите за раз ещё {n} балла",
                "наберите за раз ещё {n} баллов",
            ),
        ),
    ),
    "event.local_hour": _named("the hour, the community's time", "час по времени сообщества"),
    "event.local_weekday": _named("the day of the week", "день недели"),
    "event.local_date": _named("the date, the community's time", "дата по времени сообщества"),
    "event.timestamp": _named("the time of the event", "время события"),
    "stats.lessons_started": Phrase(
        {"en": "lessons started", "ru": "начатые уроки"},
        _more(
            ("start {n} more lesson", "start {n} more lessons"),
            ("начните ещё {n} урок", "начните ещё {n} урока", "начните ещё {n} уроков"),
        ),
    ),
    "stats.lessons_completed": Phrase(
        {"en": "lessons completed", "ru": "пройденные уроки"},
        _more(
            ("complete {n} more lesson", "complete {n} more lessons"),
            ("пройдите ещё {n} урок", "пройдите ещё {n} урока", "пройдите ещё {n} уроков"),
        ),
    ),
    "stats.modules_completed": Phrase(
        {"en": "modules completed", "ru": "пройденные модули"},
        _more(
            ("finish {n} more module", "finish {n} more modules"),
            ("пройдите ещё {n} модуль", "пройдите ещё {n} модуля", "пройдите ещё {n} модулей"),
        ),
    ),
    "stats.completed_module_slugs": _named("the modules you completed", "пройденные модули"),
    "stats.challenges_attempted": Phrase(
        {"en": "challenges attempted", "ru": "попытки заданий"},
        _more(
            ("try {n} more challenge", "try {n} more challenges"),
            (
                "попробуйте ещё {n} задание",
                "попробуйте ещё {n} задания",
                "попробуйте ещё {n} заданий",
            ),
        ),
    ),
    "stats.challenges_solved": Phrase(
        {"en": "challenges solved", "ru": "решённые задания"},
        _more(
            ("solve {n} more challenge", "solve {n} more challenges"),
            ("решите ещё {n} задание", "решите ещё {n} задания", "решите ещё {n} заданий"),
        ),
    ),
    "stats.total_score": Phrase(
        {"en": "your score", "ru": "ваши баллы"},
        _more(
            ("earn {n} more point", "earn {n} more points"),
            ("наберите ещё {n} балл", "наберите ещё {n} балла", "наберите ещё {n} баллов"),
        ),
    ),
    "stats.achievements_count": Phrase(
        {"en": "achievements earned", "ru": "полученные достижения"},
        _more(
            ("earn {n} more achievement", "earn {n} more achievements"),
            (
                "получите ещё {n} достижение",
                "получите ещё {n} достижения",
                "получите ещё {n} достижений",
            ),
        ),
    ),
    "stats.points": Phrase(
        {"en": "achievement points", "ru": "баллы за достижения"},
        _more(
            ("earn {n} more achievement point", "earn {n} more achievement points"),
            (
                "получите ещё {n} балл за достижения",
                "получите ещё {n} балла за достижения",
                "получите ещё {n} баллов за достижения",
            ),
        ),
    ),
    "stats.logins": Phrase(
        {"en": "visits", "ru": "визиты"},
        _more(
            ("visit {n} more time", "visit {n} more times"),
            ("зайдите ещё {n} раз", "зайдите ещё {n} раза", "зайдите ещё {n} раз"),
        ),
    ),
    "stats.days_active": Phrase(
        {"en": "active days", "ru": "активные дни"},
        _more(
            ("learn on {n} more day", "learn on {n} more days"),
            ("занимайтесь ещё {n} день", "занимайтесь ещё {n} дня", "занимайтесь ещё {n} дней"),
        ),
    ),
    "streak.current": Phrase(
        {"en": "your streak", "ru": "ваша серия"},
        _more(
            ("keep your streak {n} more day", "keep your streak {n} more days"),
            (
                "продлите серию ещё на {n} день",
                "продлите серию ещё на {n} дня",
                "продлите серию ещё на {n} дней",
            ),
        ),
    ),
    "streak.longest": Phrase(
        {"en": "your longest streak", "ru": "ваша самая длинная серия"},
        _more(
            ("make your longest streak {n} day longer", "make your longest streak {n} days longer"),
            (
                "сделайте самую длинную серию длиннее на {n} день",
                "сделайте самую длинную серию длиннее на {n} дня",
                "сделайте самую длинную серию длиннее на {n} дней",
            ),
        ),
    ),
    "streak.freezes": Phrase(
        {"en": "your streak freezes", "ru": "ваши заморозки серии"},
        _more(
            ("get {n} more streak freeze", "get {n} more streak freezes"),
            (
                "получите ещё {n} заморозку серии",
                "получите ещё {n} заморозки серии",
                "получите ещё {n} заморозок серии",
            ),
        ),
    ),
    "streak.freezes_used": Phrase(
        {"en": "days a freeze saved your streak", "ru": "дни, когда заморозка спасла серию"},
        _more(
            ("let a freeze save {n} more day", "let freezes save {n} more days"),
            (
                "пусть заморозка спасёт ещё {n} день",
                "пусть заморозки спасут ещё {n} дня",
                "пусть заморозки спасут ещё {n} дней",
            ),
        ),
    ),
    "module.id": _named("the module", "модуль"),
    "module.title": _named("the module's title", "название модуля"),
    "module.slug": _named("the module", "модуль"),
    "module.order": _named("the module's place in the course", "номер модуля в курсе"),
    "module.lessons_total": _named("the lessons in the module", "уроки в модуле"),
    "module.lessons_completed": Phrase(
        {"en": "lessons completed in this module", "ru": "пройденные уроки модуля"},
        _more(
            ("complete {n} more lesson of this module", "complete {n} more lessons of this module"),
            (
                "пройдите ещё {n} урок этого модуля",
                "пройдите ещё {n} урока этого модуля",
                "пройдите ещё {n} уроков этого модуля",
            ),
        ),
    ),
    "module.completed": _named("the module is completed", "модуль пройден"),
    "module.lowest_best_score": _named(
        "your lowest score in the module", "ваш наименьший балл в модуле"
    ),
    "lesson.id": _named("the lesson", "урок"),
    "lesson.title": _named("the lesson's title", "название урока"),
    "lesson.slug": _named("the lesson", "урок"),
    "lesson.order": _named("the lesson's place in its module", "номер урока в модуле"),
    "lesson.status": _named("the lesson's status", "состояние урока"),
    "lesson.attempts": Phrase(
        {"en": "your attempts at the lesson", "ru": "ваши попытки урока"},
        _more(
            ("start the lesson {n} more time", "start the lesson {n} more times"),
            (
                "начните урок ещё {n} раз",
                "начните урок ещё {n} раза",
                "начните урок ещё {n} раз",
            ),
        ),
    ),
    "lesson.score": Phrase(
        {"en": "your best score on the lesson", "ru": "ваш лучший балл за урок"},
        _more(
            ("score {n} more point on the lesson", "score {n} more points on the lesson"),
            (
                "наберите за урок ещё {n} балл",
                "наберите за урок ещё {n} балла",
                "наберите за урок ещё {n} баллов",
            ),
        ),
    ),
    "lesson.estimated_duration": _named("the lesson's length", "длительность урока"),
    "rule.holders": _named("learners who already hold it", "учащиеся, у которых оно уже есть"),
    "goal.daily_lessons": _named("your daily goal", "ваша цель на день"),
    "goal.met_today": _named("today's goal is met", "цель на сегодня выполнена"),
    "goal.days_met_in_a_row": Phrase(
        {"en": "days in a row with your goal met", "ru": "дней подряд с выполненной целью"},
        _more(
            ("meet your daily goal {n} more day", "meet your daily goal {n} more days"),
            (
                "выполните цель на день ещё {n} день",
                "выполните цель на день ещё {n} дня",
                "выполните цель на день ещё {n} дней",
            ),
        ),
    ),
    "leaderboard.last_week_rank": _named("your rank last week", "ваше место на прошлой неделе"),
    "leaderboard.last_month_rank": _named("your rank last month", "ваше место в прошлом месяце"),
    "week.score": Phrase(
        {"en": "your points this week", "ru": "ваши баллы за эту неделю"},
        _more(
            ("score {n} more point this week", "score {n} more points this week"),
            (
                "наберите на этой неделе ещё {n} балл",
                "наберите на этой неделе ещё {n} балла",
                "наберите на этой неделе ещё {n} баллов",
            ),
        ),
    ),
    "month.score": Phrase(
        {"en": "your points this month", "ru": "ваши баллы за этот месяц"},
        _more(
            ("score {n} more point this month", "score {n} more points this month"),
            (
                "наберите в этом месяце ещё {n} балл",
                "наберите в этом месяце ещё {n} балла",
                "наберите в этом месяце ещё {n} баллов",
            ),
        ),
    ),
    "leaderboard.last_week_score": Phrase(
        {"en": "your points last week", "ru": "ваши баллы за прошлую неделю"},
        _more(
            ("score {n} more point in a week", "score {n} more points in a week"),
            (
                "наберите за неделю ещё {n} балл",
                "наберите за неделю ещё {n} балла",
                "наберите за неделю ещё {n} баллов",
            ),
        ),
    ),
    "leaderboard.last_month_score": Phrase(
        {"en": "your points last month", "ru": "ваши баллы за прошлый месяц"},
        _more(
            ("score {n} more point in a month", "score {n} more points in a month"),
            (
                "наберите за месяц ещё {n} балл",
                "наберите за месяц ещё {n} балла",
                "наберите за месяц ещё {n} баллов",
            ),
        ),
    ),
    **_window_phrases(),
}


@cache
def _plural_category(language: str, n: int) -> str:
    try:
        return Locale.parse(language).plural_form(n)
    except (UnknownLocaleError, ValueError):
        return "one" if n == 1 else "other"


def language_of(locale: str | None) -> str:
    """The phrase language for a locale or IETF tag ("ru-RU" → "ru"); English otherwise."""
    language = (locale or "en").replace("-", "_").split("_", 1)[0].lower()
    return language if language in LANGUAGES else "en"


def fact_name(fact: str, locale: str | None = None) -> str:
    """How `fact` is named in `locale`'s language; the dotted name if it has no phrase."""
    phrase = PHRASES.get(fact)
    return phrase.name[language_of(locale)] if phrase else fact


def more_phrase(fact: str, missing: int, locale: str | None = None) -> str | None:
    """The step that raises `fact` by `missing` ("complete 3 more lessons"), if it has one."""
    phrase = PHRASES.get(fact)
    language = language_of(locale)
    if phrase is None or language not in phrase.more:
        return None
    forms = phrase.more[language]
    template = forms.get(_plural_category(language, missing), forms["other"])
    return template.format(n=missing)


_AT_AN_EVENT = {
    "en": "earned at the moment of an event that meets it; nothing to count before",
    "ru": "выдаётся в момент подходящего события; заранее копить нечего",
}


def at_an_event(locale: str | None = None) -> str:
    """What a rule about an event (one without a description) asks, outside an event."""
    return _AT_AN_EVENT[language_of(locale)]


_MET = {
    "en": "already met: earned at the next activity that counts for it",
    "ru": "условие уже выполнено: награда придёт со следующим подходящим действием",
}


def met_not_earned(locale: str | None = None) -> str:
    """What a rule that holds but was not awarded yet (loaded after the learner's activity,
    and not backfilled) waits for."""
    return _MET[language_of(locale)]
