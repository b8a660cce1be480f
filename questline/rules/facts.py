"""The facts catalog: every value a rule may read, its type, and which activities change it.

The engine builds one *facts document* per event: a nested dict such as
``{"user": {...}, "event": {...}, "stats": {...}, "streak": {...}, "module": {...},
"lesson": {...}}``. A rule reads a fact with ``{"var": "stats.lessons_completed"}``. Each fact
is described by a :class:`FactSpec`; :class:`FactCatalog` holds them, plugins register more.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from questline.plain_errors import shortened
from questline.rules.vocabulary import ActivityType

__all__ = [
    "EVENT_NAMESPACES",
    "MISSING",
    "FactCatalog",
    "FactSpec",
    "FactType",
    "default_catalog",
    "lookup_fact",
]

FACT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
EVENT_NAMESPACES = frozenset({"event", "lesson", "module"})
"""Facts about the event being processed: a rule that reads one applies only to events that
give it a value (see :func:`questline.rules.evaluation.applies`)."""


class FactType(StrEnum):
    """The JSON type of a fact's value (``nullable`` on the spec adds ``null``)."""

    INT = "int"
    NUMBER = "number"
    STR = "str"
    BOOL = "bool"
    LIST = "list"
    OBJECT = "object"

    @property
    def is_numeric(self) -> bool:
        return self in (FactType.INT, FactType.NUMBER)


@dataclass(frozen=True, slots=True)
class FactSpec:
    """One fact a rule may read.

    ``noun`` is the plural noun phrase explanations use for progress ("completed lessons");
    ``noun_one`` its singular ("completed lesson"). ``shortfall`` overrides the sentence an
    explanation uses for a threshold this fact has not reached; it is formatted with
    ``{missing}``, ``{current}``, ``{target}`` and ``{noun}``. ``choices`` lists every value a
    text fact can take (validation flags comparisons against anything else).
    """

    name: str
    type: FactType
    description: str
    changed_by: frozenset[ActivityType]
    nullable: bool = False
    noun: str | None = None
    noun_one: str | None = None
    shortfall: str | None = None
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        if not FACT_NAME_RE.match(self.name):
            raise ValueError(
                f"fact name {self.name!r} must be namespaced lowercase words joined by dots, "
                'e.g. "stats.lessons_completed"'
            )
        object.__setattr__(self, "type", FactType(self.type))
        object.__setattr__(self, "changed_by", frozenset(ActivityType(a) for a in self.changed_by))

    @property
    def namespace(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def event_bound(self) -> bool:
        """A fact of the event being processed (its lesson, its module), not of the learner."""
        return self.namespace in EVENT_NAMESPACES


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by :func:`lookup_fact` when the facts document has no value at that path."""


def lookup_fact(facts: Mapping[str, Any] | None, name: str) -> Any:
    """Read the dotted fact ``name`` from a nested facts document (``MISSING`` if absent)."""
    node: Any = facts
    for part in name.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


@dataclass
class FactCatalog:
    """A registry of :class:`FactSpec` by name. Extensible: plugins register namespaced facts."""

    _specs: dict[str, FactSpec] = field(default_factory=dict)

    def register(self, spec: FactSpec, *, replace: bool = False) -> FactSpec:
        """Add a fact. Registering a name twice is an error unless ``replace`` is true."""
        if not replace and spec.name in self._specs:
            raise ValueError(f'fact "{spec.name}" is already registered')
        for other in self._specs:
            if other.startswith(spec.name + ".") or spec.name.startswith(other + "."):
                raise ValueError(
                    f'fact "{spec.name}" clashes with fact "{other}": '
                    "one would be an object holding the other"
                )
        self._specs[spec.name] = spec
        return spec

    def register_many(self, specs: Iterable[FactSpec], *, replace: bool = False) -> None:
        for spec in specs:
            self.register(spec, replace=replace)

    def copy(self) -> FactCatalog:
        return FactCatalog(dict(self._specs))

    def get(self, name: str) -> FactSpec | None:
        return self._specs.get(name)

    def __getitem__(self, name: str) -> FactSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(self.unknown_message(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[FactSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def namespaces(self) -> list[str]:
        return sorted({s.namespace for s in self._specs.values()})

    def in_namespace(self, namespace: str) -> list[FactSpec]:
        return [s for s in self if s.namespace == namespace]

    def is_namespace(self, name: str) -> bool:
        """Whether ``name`` is an object holding facts (e.g. ``"stats"``) rather than a fact."""
        prefix = name + "."
        return any(n.startswith(prefix) for n in self._specs)

    def suggest(self, name: str) -> str | None:
        """The closest registered fact name, for "did you mean" messages."""
        matches = difflib.get_close_matches(name, self._specs, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def unknown_message(self, name: str) -> str:
        hint = self.suggest(name)
        text = f'unknown fact "{shortened(name)}"'
        return f'{text} (did you mean "{hint}"?)' if hint else text

    def markdown_table(self) -> str:
        """The catalog as a Markdown table (docs/rules.md embeds it)."""
        rows = [
            "| fact | type | meaning | changed by |",
            "|---|---|---|---|",
        ]
        everything = frozenset(ActivityType)
        for spec in self._specs.values():
            if not spec.changed_by:
                changed = "no activity (see the leaderboard close job)"
            elif spec.changed_by == everything:
                changed = "every activity"
            elif spec.changed_by == everything - {ActivityType.ACHIEVEMENT_EARNED}:
                changed = "every activity except ACHIEVEMENT_EARNED"
            else:
                changed = ", ".join(a.value for a in ActivityType if a in spec.changed_by)
            rows.append(
                f"| `{spec.name}` | {spec.type.value}{' or null' if spec.nullable else ''} "
                f"| {spec.description} | {changed} |"
            )
        return "\n".join(rows)

    def changed_by(self, names: Iterable[str]) -> frozenset[ActivityType]:
        """The activity types that can change any of the facts (or namespaces) ``names``.

        An unknown name is treated conservatively: every activity type may change it.
        """
        result: set[ActivityType] = set()
        for name in names:
            spec = self._specs.get(name)
            if spec is not None:
                result |= spec.changed_by
                continue
            under = [s for n, s in self._specs.items() if n.startswith(name + ".")]
            if not under:
                return frozenset(ActivityType)
            for s in under:
                result |= s.changed_by
        return frozenset(result)


_ALL_BUT_AWARDS = frozenset(ActivityType) - {ActivityType.ACHIEVEMENT_EARNED}
_LEARNING = frozenset(
    {
        ActivityType.LESSON_STARTED,
        ActivityType.LESSON_COMPLETED,
        ActivityType.CHALLENGE_ATTEMPTED,
        ActivityType.CHALLENGE_SOLVED,
    }
)
_A = ActivityType
_PROGRESS_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "COMPLETED")


def _builtin_specs() -> list[FactSpec]:
    i, s, b = FactType.INT, FactType.STR, FactType.BOOL
    login = frozenset({_A.LOGIN})
    streaky = frozenset({_A.LESSON_COMPLETED, _A.CHALLENGE_SOLVED})
    return [
        # user.*
        FactSpec("user.id", i, "The learner's questline user id.", login),
        FactSpec("user.telegram_id", i, "The learner's Telegram user id.", login),
        FactSpec("user.username", s, "The learner's Telegram username.", login, nullable=True),
        FactSpec(
            "user.language_code", s, "The learner's language (IETF tag).", login, nullable=True
        ),
        FactSpec(
            "user.days_since_joined",
            i,
            "Whole days since the learner registered.",
            login,
            noun="days since joining",
            noun_one="day since joining",
            shortfall="needs {missing} more days as a member ({current}/{target})",
        ),
        # event.*
        FactSpec(
            "event.type",
            s,
            "The activity type of the event being processed (e.g. LESSON_COMPLETED).",
            _ALL_BUT_AWARDS,
            choices=tuple(a.value for a in ActivityType),
        ),
        FactSpec(
            "event.entity_id",
            i,
            "Id of the lesson/challenge the event is about.",
            _ALL_BUT_AWARDS,
            nullable=True,
        ),
        FactSpec(
            "event.entity_type",
            s,
            'Kind of entity the event is about (e.g. "lesson", "challenge").',
            _ALL_BUT_AWARDS,
            nullable=True,
        ),
        FactSpec(
            "event.score",
            i,
            "Score reported with the event, if any.",
            _ALL_BUT_AWARDS,
            nullable=True,
            noun="points in this attempt",
            noun_one="point in this attempt",
            shortfall="needs a score of at least {target} (this attempt scored {current})",
        ),
        FactSpec(
            "event.local_hour",
            i,
            "Hour of the event in the engine's time zone (0-23).",
            _ALL_BUT_AWARDS,
            minimum=0,
            maximum=23,
        ),
        FactSpec(
            "event.local_weekday",
            i,
            "Weekday of the event in the engine's time zone (1 = Monday ... 7 = Sunday).",
            _ALL_BUT_AWARDS,
            minimum=1,
            maximum=7,
        ),
        FactSpec(
            "event.local_date",
            s,
            'Date of the event in the engine\'s time zone, "YYYY-MM-DD".',
            _ALL_BUT_AWARDS,
        ),
        FactSpec(
            "event.timestamp",
            i,
            "Time of the event in whole seconds since 1970-01-01 UTC (for deadlines).",
            _ALL_BUT_AWARDS,
        ),
        # stats.*
        FactSpec(
            "stats.lessons_started",
            i,
            "Lessons the learner has started.",
            frozenset({_A.LESSON_STARTED}),
            noun="started lessons",
            noun_one="started lesson",
        ),
        FactSpec(
            "stats.lessons_completed",
            i,
            "Lessons the learner has completed.",
            frozenset({_A.LESSON_COMPLETED}),
            noun="completed lessons",
            noun_one="completed lesson",
        ),
        FactSpec(
            "stats.modules_completed",
            i,
            "Modules whose lessons the learner has all completed.",
            frozenset({_A.LESSON_COMPLETED}),
            noun="completed modules",
            noun_one="completed module",
        ),
        FactSpec(
            "stats.completed_module_slugs",
            FactType.LIST,
            "Slugs of the modules whose lessons the learner has all completed.",
            frozenset({_A.LESSON_COMPLETED}),
        ),
        FactSpec(
            "stats.challenges_attempted",
            i,
            "Challenges the learner has attempted.",
            frozenset({_A.CHALLENGE_ATTEMPTED}),
            noun="attempted challenges",
            noun_one="attempted challenge",
        ),
        FactSpec(
            "stats.challenges_solved",
            i,
            "Challenges the learner has solved.",
            frozenset({_A.CHALLENGE_SOLVED}),
            noun="solved challenges",
            noun_one="solved challenge",
        ),
        FactSpec(
            "stats.total_score",
            i,
            "Total score: each lesson's best score (a solved challenge's points count as a"
            " score of its lesson) plus achievement points.",
            frozenset({_A.LESSON_COMPLETED, _A.CHALLENGE_SOLVED, _A.ACHIEVEMENT_EARNED}),
            noun="score points",
            noun_one="score point",
            shortfall="needs {missing} more score points ({current}/{target})",
        ),
        FactSpec(
            "stats.achievements_count",
            i,
            "Achievements the learner has earned.",
            frozenset({_A.ACHIEVEMENT_EARNED}),
            noun="achievements",
            noun_one="achievement",
        ),
        FactSpec(
            "stats.points",
            i,
            "Points from the learner's earned achievements.",
            frozenset({_A.ACHIEVEMENT_EARNED}),
            noun="achievement points",
            noun_one="achievement point",
        ),
        FactSpec(
            "stats.logins",
            i,
            "Times the learner has logged in.",
            login,
            noun="logins",
            noun_one="login",
        ),
        FactSpec(
            "stats.days_active",
            i,
            "Distinct local days with any learner activity.",
            frozenset({*_LEARNING, _A.LOGIN}),
            noun="active days",
            noun_one="active day",
        ),
        # streak.*
        FactSpec(
            "streak.current",
            i,
            "Consecutive local days, up to today, with a completed lesson or solved challenge.",
            streaky,
            noun="streak days",
            noun_one="streak day",
            shortfall="needs a {target}-day streak (current {current})",
        ),
        FactSpec(
            "streak.longest",
            i,
            "The learner's longest streak ever, in days.",
            streaky,
            noun="streak days",
            noun_one="streak day",
            shortfall="needs a {target}-day streak at least once (longest so far {current})",
        ),
        FactSpec(
            "streak.freezes",
            i,
            "Streak freezes the learner holds: given, by an admin or with an achievement, and"
            " not used yet.",
            frozenset({*streaky, _A.ACHIEVEMENT_EARNED}),
            noun="streak freezes",
            noun_one="streak freeze",
        ),
        FactSpec(
            "streak.freezes_used",
            i,
            "Missed days a streak freeze has covered, so far.",
            streaky,
            noun="days covered by a freeze",
            noun_one="day covered by a freeze",
        ),
        # module.* (the module of the event's lesson; null when the event has no lesson)
        FactSpec("module.id", i, "Id of the event's module.", _LEARNING, nullable=True),
        FactSpec("module.title", s, "Title of the event's module.", _LEARNING, nullable=True),
        FactSpec("module.slug", s, "Slug of the event's module.", _LEARNING, nullable=True),
        FactSpec(
            "module.lowest_best_score",
            i,
            "The lowest of the learner's best scores over the module's lessons; null while a"
            " lesson has no score.",
            _LEARNING,
            nullable=True,
        ),
        FactSpec(
            "module.order",
            i,
            "Position of the event's module in the course.",
            _LEARNING,
            nullable=True,
        ),
        FactSpec(
            "module.lessons_total",
            i,
            "Number of lessons in the event's module.",
            _LEARNING,
            nullable=True,
        ),
        FactSpec(
            "module.lessons_completed",
            i,
            "Lessons of the event's module the learner has completed.",
            _LEARNING,
            nullable=True,
            noun="completed lessons in this module",
            noun_one="completed lesson in this module",
        ),
        FactSpec(
            "module.completed",
            b,
            "Whether the learner has completed every lesson of the module.",
            _LEARNING,
            nullable=True,
        ),
        # lesson.* (the event's lesson; null when the event has no lesson)
        FactSpec("lesson.id", i, "Id of the event's lesson.", _LEARNING, nullable=True),
        FactSpec("lesson.title", s, "Title of the event's lesson.", _LEARNING, nullable=True),
        FactSpec("lesson.slug", s, "Slug of the event's lesson.", _LEARNING, nullable=True),
        FactSpec(
            "lesson.order",
            i,
            "Position of the lesson within its module.",
            _LEARNING,
            nullable=True,
        ),
        FactSpec(
            "lesson.status",
            s,
            "The learner's progress on the lesson.",
            _LEARNING,
            nullable=True,
            choices=_PROGRESS_STATUSES,
        ),
        FactSpec(
            "lesson.attempts",
            i,
            "How many times the learner has started the lesson.",
            _LEARNING,
            nullable=True,
            noun="attempts",
            noun_one="attempt",
        ),
        FactSpec(
            "lesson.score",
            i,
            "The learner's best score on the lesson, if any.",
            _LEARNING,
            nullable=True,
            shortfall="needs a lesson score of at least {target} (best so far {current})",
        ),
        FactSpec(
            "lesson.estimated_duration",
            i,
            "The lesson's estimated duration in minutes.",
            _LEARNING,
            nullable=True,
        ),
        # rule.* (about the achievement the rule being evaluated awards)
        FactSpec(
            "rule.holders",
            i,
            "Learners who hold the achievement this rule awards, before this event (exact:"
            " the achievement is locked while it is counted).",
            frozenset({_A.ACHIEVEMENT_EARNED}),
        ),
        # goal.* (the learner's daily goal of lessons)
        FactSpec(
            "goal.daily_lessons",
            i,
            "The learner's daily goal of lessons; null while they have none.",
            frozenset({_A.LOGIN}),
            nullable=True,
        ),
        FactSpec(
            "goal.met_today",
            b,
            "Whether the learner has met their daily goal on the event's local day.",
            frozenset({_A.LESSON_COMPLETED}),
        ),
        FactSpec(
            "goal.days_met_in_a_row",
            i,
            "Local days in a row, up to the event's (or the one before, while it is not met),"
            " on which the learner met their daily goal; 0 without a goal.",
            frozenset({_A.LESSON_COMPLETED}),
            noun="days in a row with the goal met",
            noun_one="day in a row with the goal met",
        ),
        *_window_specs("today", "today"),
        *_window_specs("week", "this week (from Monday)"),
        *_window_specs("month", "this month"),
        *(
            FactSpec(
                f"{period}.score",
                i,
                f"The leaderboard score the learner gained {words}: lesson score gains and "
                "achievement points, as on that period's board.",
                frozenset({_A.LESSON_COMPLETED, _A.CHALLENGE_SOLVED, _A.ACHIEVEMENT_EARNED}),
                noun=f"points {words}",
                noun_one=f"point {words}",
            )
            for period, words in (("week", "this week"), ("month", "this month"))
        ),
        # leaderboard.* (the last finished week and month; no activity changes them: the
        # leaderboard close job evaluates the rules reading them when a period ends)
        *(
            spec
            for period in ("week", "month")
            for spec in (
                FactSpec(
                    f"leaderboard.last_{period}_rank",
                    i,
                    f"The learner's rank on the board of the last finished {period}; null if "
                    "they were not on it.",
                    frozenset(),
                    nullable=True,
                    minimum=1,
                ),
                FactSpec(
                    f"leaderboard.last_{period}_score",
                    i,
                    f"The score the learner gained in the last finished {period}.",
                    frozenset(),
                    noun=f"points last {period}",
                    noun_one=f"point last {period}",
                ),
            )
        ),
    ]


def _window_specs(namespace: str, period: str) -> list[FactSpec]:
    """Counts within the calendar period of the engine's time zone holding the event (or
    now), as recorded so far."""
    i = FactType.INT
    return [
        FactSpec(
            f"{namespace}.lessons_completed",
            i,
            f"Lesson completions {period}.",
            frozenset({_A.LESSON_COMPLETED}),
            noun=f"lesson completions {period}",
            noun_one=f"lesson completion {period}",
        ),
        FactSpec(
            f"{namespace}.challenges_solved",
            i,
            f"Challenges solved {period}.",
            frozenset({_A.CHALLENGE_SOLVED}),
            noun=f"challenges solved {period}",
            noun_one=f"challenge solved {period}",
        ),
        FactSpec(
            f"{namespace}.activities",
            i,
            f"Learner activities of any kind {period}.",
            _ALL_BUT_AWARDS,
            noun=f"activities {period}",
            noun_one=f"activity {period}",
        ),
        FactSpec(
            f"{namespace}.points",
            i,
            f"Points of the achievements earned {period} (at their current points), including "
            "those the event has just earned.",
            frozenset({_A.ACHIEVEMENT_EARNED}),
            noun=f"points {period}",
            noun_one=f"point {period}",
        ),
    ]


BUILTIN_FACTS: tuple[FactSpec, ...] = tuple(_builtin_specs())


def default_catalog() -> FactCatalog:
    """A fresh catalog holding the built-in facts (safe to extend)."""
    catalog = FactCatalog()
    catalog.register_many(BUILTIN_FACTS)
    return catalog
