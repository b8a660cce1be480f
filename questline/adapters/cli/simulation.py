"""Simulated learners for `questline demo`: deterministic personas and their activity.

Everything here is pure: given a seed, the course and the moment the simulation ends, it
returns the same learners and the same time-ordered events. Learners' days are days in the
engine's time zone, so streaks and night-owl hours come out as the personas intend.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from questline.engine.events import Event, UserProfile
from questline.rules.vocabulary import ActivityType

FIRST_NAMES = (
    "Ada", "Boris", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kira", "Liam", "Mila", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tanya",
    "Umar", "Vera", "Wen", "Xenia", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Ivanova", "Smith", "Novak", "Garcia", "Kowalski", "Petrov", "Müller", "Tanaka", "Rossi",
    "Haddad", "Lindqvist", "Okafor",
)  # fmt: skip
LANGUAGES = ("en", "en", "ru", "de", None)
WRONG_ANSWERS = ("int", "3", "else", "I don't know", "list", "None", "42")
FIRST_TELEGRAM_ID = 100_001
LIVE_ANSWERS = 3


@dataclass(frozen=True)
class Persona:
    """How a kind of learner behaves: when they show up and how they learn."""

    name: str
    weight: int
    weekday_chance: float
    weekend_chance: float
    hours: tuple[int, ...]
    lessons_per_session: tuple[int, int]
    scores: tuple[int, int]
    challenge_chance: float
    wrong_first: tuple[int, int]
    abandon_chance: float = 0.0
    active_days: tuple[int, int] | None = None  # dropouts stop after this many days


PERSONAS = (
    Persona("diligent", 3, 0.97, 0.9, (7, 8, 12, 19, 20), (1, 1), (80, 100), 0.9, (0, 1)),
    Persona("weekend", 2, 0.05, 0.85, (10, 11, 14, 16), (2, 3), (60, 95), 0.6, (0, 1)),
    Persona("dropout", 2, 0.8, 0.6, (12, 17, 21), (1, 1), (40, 85), 0.4, (0, 2), 0.4, (2, 6)),
    Persona("night owl", 2, 0.6, 0.7, (22, 23, 0, 1), (1, 2), (70, 100), 0.7, (0, 1)),
    Persona("challenge solver", 2, 0.5, 0.5, (9, 13, 18, 21), (1, 1), (55, 90), 1.0, (1, 3)),
)


@dataclass(frozen=True)
class CourseLesson:
    """What the simulation knows of a published lesson, in course order."""

    id: int
    minutes: int
    answers: tuple[str, ...] = ()  # accepted challenge answers; empty without a challenge
    points: int = 0


@dataclass(frozen=True)
class Learner:
    profile: UserProfile
    persona: Persona


@dataclass(frozen=True)
class LiveAnswer:
    """A challenge a learner answers at the end of the demo, wrong answers first."""

    telegram_id: int
    lesson_id: int
    answers: tuple[str, ...]


@dataclass
class Simulation:
    learners: list[Learner]
    events: list[Event]
    live: list[LiveAnswer]
    start: datetime
    end: datetime


@dataclass
class _State:
    """One learner's course position while their history is generated."""

    completed: set[int] = field(default_factory=set)
    solved: set[int] = field(default_factory=set)


def make_learners(rng: random.Random, count: int) -> list[Learner]:
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    personas = [persona for persona in PERSONAS for _ in range(persona.weight)]
    learners = []
    for index in range(count):
        first, last = names[index % len(names)]
        persona = personas[index % len(personas)]
        profile = UserProfile(
            telegram_id=FIRST_TELEGRAM_ID + index,
            username=f"{first}_{last}_{index}".lower() if rng.random() < 0.7 else None,
            first_name=first,
            last_name=last if rng.random() < 0.8 else None,
            language_code=rng.choice(LANGUAGES),
        )
        learners.append(Learner(profile, persona))
    return learners


class _Session:
    """Events of one sitting, at increasing times from `start`."""

    def __init__(self, rng: random.Random, telegram_id: int, start: datetime) -> None:
        self.rng = rng
        self.telegram_id = telegram_id
        self.clock = start
        self.events: list[Event] = []

    def add(
        self,
        kind: ActivityType,
        *,
        minutes: int = 1,
        lesson_id: int | None = None,
        score: int | None = None,
    ) -> None:
        self.clock += timedelta(minutes=minutes, seconds=self.rng.randint(0, 59))
        self.events.append(
            Event(
                type=kind,
                telegram_id=self.telegram_id,
                lesson_id=lesson_id,
                score=score,
                occurred_at=self.clock,
            )
        )

    def answer(self, lesson: CourseLesson, wrong: int) -> None:
        for _ in range(wrong):
            self.add(ActivityType.CHALLENGE_ATTEMPTED, minutes=2, lesson_id=lesson.id)
        self.add(ActivityType.CHALLENGE_ATTEMPTED, minutes=2, lesson_id=lesson.id)
        self.add(ActivityType.CHALLENGE_SOLVED, minutes=0, lesson_id=lesson.id, score=lesson.points)


def _sitting(
    rng: random.Random,
    learner: Learner,
    lessons: list[CourseLesson],
    state: _State,
    start: datetime,
) -> list[Event]:
    persona = learner.persona
    session = _Session(rng, learner.profile.telegram_id, start)
    session.add(ActivityType.LOGIN, minutes=0)
    for _ in range(rng.randint(*persona.lessons_per_session)):
        fresh = [lesson for lesson in lessons if lesson.id not in state.completed]
        lesson = fresh[0] if fresh else rng.choice(lessons)  # all done: review one
        session.add(ActivityType.LESSON_STARTED, lesson_id=lesson.id)
        if fresh and rng.random() < persona.abandon_chance:
            break
        score = rng.randint(*persona.scores)
        minutes = max(lesson.minutes + rng.randint(-3, 8), 2)
        session.add(
            ActivityType.LESSON_COMPLETED, minutes=minutes, lesson_id=lesson.id, score=score
        )
        state.completed.add(lesson.id)
        unsolved = lesson.answers and lesson.id not in state.solved
        if unsolved and rng.random() < persona.challenge_chance:
            session.answer(lesson, rng.randint(*persona.wrong_first))
            state.solved.add(lesson.id)
    return session.events


def simulate(
    lessons: list[CourseLesson],
    *,
    learners: int,
    days: int,
    end: datetime,
    zone: tzinfo,
    seed: int,
) -> Simulation:
    """The learners and their events over `days` local days ending with `end`'s day."""
    rng = random.Random(seed)
    people = make_learners(rng, learners)
    last_day = end.astimezone(zone).date()
    first_day = last_day - timedelta(days=days - 1)
    events: list[Event] = []
    live: list[LiveAnswer] = []
    for learner in people:
        persona, state = learner.persona, _State()
        joined = rng.randint(0, max(days * 2 // 5, 0))
        quits = joined + rng.randint(*persona.active_days) if persona.active_days else days
        for offset in range(joined, min(quits, days)):
            day = first_day + timedelta(days=offset)
            chance = persona.weekend_chance if day.isoweekday() >= 6 else persona.weekday_chance
            if rng.random() >= chance:
                continue
            hour = rng.choice(persona.hours)
            local = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone)
            before = _State(set(state.completed), set(state.solved))
            sitting = _sitting(rng, learner, lessons, state, local)
            if sitting[-1].occurred_at < end:
                events.extend(sitting)
            else:  # a sitting later today has not happened yet
                state = before
        unsolved = [
            lesson
            for lesson in lessons
            if lesson.answers and lesson.id in state.completed and lesson.id not in state.solved
        ]
        if unsolved and len(live) < LIVE_ANSWERS and persona.active_days is None:
            lesson = unsolved[0]
            wrong = rng.choice([a for a in WRONG_ANSWERS if a not in lesson.answers])
            live.append(
                LiveAnswer(learner.profile.telegram_id, lesson.id, (wrong, lesson.answers[0]))
            )
    events.sort(key=lambda event: event.occurred_at)
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    return Simulation(people, events, live, start, end)
