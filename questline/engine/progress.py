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

    - LESSON_STARTED: NOT_STARTED → IN_PROGRESS, `attempts` + 1, `started_at` set once;
      a completed lesson stays COMPLETED (a restart is still an attempt).
    - LESSON_COMPLETED: → COMPLETED, `completed_at` set once; completing without a start is
      allowed (it counts as one attempt); re-completion only keeps the best score.
    - CHALLENGE_SOLVED: its score counts as a score of the lesson (best kept); `solved_at`
      keeps the earliest solve.
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
    if event.type is ActivityType.LESSON_STARTED:
        row.attempts += 1
        row.started_at = row.started_at or event.occurred_at
        if row.status is ProgressStatus.NOT_STARTED:
            row.status = ProgressStatus.IN_PROGRESS
    elif event.type is ActivityType.LESSON_COMPLETED:
        row.attempts = max(row.attempts, 1)
        row.completed_at = row.completed_at or event.occurred_at
        row.status = ProgressStatus.COMPLETED
    else:
        row.solved_at = min(row.solved_at or event.occurred_at, event.occurred_at)
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
