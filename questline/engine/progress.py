"""The user_progress state machine: what each lesson activity does to a learner's lesson row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from questline.engine.aggregates import ProgressChange
from questline.engine.events import Event
from questline.engine.models import ProgressStatus
from questline.rules.vocabulary import ActivityType

PROGRESS_FIELDS = ("status", "score", "attempts", "started_at", "completed_at", "solved_at")
"""The columns of a user_progress row that events change."""


@dataclass
class Progress:
    """One learner's row for one lesson; `stored` once it is in the database."""

    user_id: int
    lesson_id: int
    status: ProgressStatus = ProgressStatus.NOT_STARTED
    score: int | None = None
    attempts: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    solved_at: datetime | None = None
    stored: bool = False

    @property
    def completed(self) -> bool:
        return self.status is ProgressStatus.COMPLETED


def apply_progress(
    progress: dict[int, Progress], user_id: int, lesson_id: int, event: Event
) -> tuple[Progress | None, ProgressChange]:
    """Update (or create) the learner's row for the lesson as `event` demands.

    Every field is a count, a maximum or a minimum over the lesson's events, so a row is the
    same in whatever order its events arrive (late events included):

    - `status`: COMPLETED once any completion is recorded, else IN_PROGRESS once a start or a
      solve is, else NOT_STARTED;
    - `attempts`: the number of LESSON_STARTED events (completing without a start is allowed
      and adds none);
    - `started_at`: the earliest start, completion or solve (when the learner began);
    - `completed_at`: the earliest completion; `solved_at`: the earliest solve;
    - `score`: the best score of a completion or a solve (challenge scores count for the
      lesson). A solve of a solved challenge never gets here (see `solved_before`).
    - CHALLENGE_ATTEMPTED: no change.

    Returns the changed row (None if none) and what changed for the distinct-lesson figures.
    """
    if event.type is ActivityType.CHALLENGE_ATTEMPTED:
        return None, ProgressChange()
    row = progress.get(lesson_id)
    new_lesson = row is None
    if row is None:
        row = progress[lesson_id] = Progress(user_id, lesson_id)
    was_completed, was_solved, best = row.completed, row.solved_at is not None, row.score or 0
    moment = event.occurred_at
    row.started_at = _earliest(row.started_at, moment)
    if event.type is ActivityType.LESSON_STARTED:
        row.attempts += 1
    elif event.type is ActivityType.LESSON_COMPLETED:
        row.completed_at = _earliest(row.completed_at, moment)
        row.status = ProgressStatus.COMPLETED
    else:
        row.solved_at = _earliest(row.solved_at, moment)
    if row.status is ProgressStatus.NOT_STARTED:
        row.status = ProgressStatus.IN_PROGRESS
    if event.score is not None and (row.score is None or event.score > row.score):
        row.score = event.score
    return row, ProgressChange(
        new_lesson=new_lesson,
        newly_completed=row.completed and not was_completed,
        newly_solved=row.solved_at is not None and not was_solved,
        score_gain=(row.score or 0) - best,
    )


def _earliest(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None else min(current, moment)


def solved_before(progress: dict[int, Progress], lesson_id: int, event: Event) -> bool:
    """True for a CHALLENGE_SOLVED of a challenge the learner has already solved: the engine
    records no second solve and answers "already solved"."""
    if event.type is not ActivityType.CHALLENGE_SOLVED:
        return False
    row = progress.get(lesson_id)
    return row is not None and row.solved_at is not None
