"""The user_progress state machine: what each lesson activity does to a learner's lesson row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.aggregates import ProgressChange
from questline.engine.events import Event
from questline.engine.learner import LearnerState
from questline.engine.models import ProgressStatus, UserProgress
from questline.rules.vocabulary import ActivityType


def apply_progress(
    session: AsyncSession, learner: LearnerState, lesson_id: int, event: Event
) -> ProgressChange:
    """Update (or create) the learner's row for the lesson as `event` demands.

    - LESSON_STARTED: NOT_STARTED → IN_PROGRESS, `attempts` + 1, `started_at` set once;
      a completed lesson stays COMPLETED (a restart is still an attempt).
    - LESSON_COMPLETED: → COMPLETED, `completed_at` set once; completing without a start is
      allowed (it counts as one attempt); re-completion only keeps the best score.
    - CHALLENGE_SOLVED: its score counts as a score of the lesson (best kept); `solved_at`
      keeps the earliest solve.
    - CHALLENGE_ATTEMPTED: no change.

    Returns what changed for the learner's distinct-lesson figures.
    """
    if event.type is ActivityType.CHALLENGE_ATTEMPTED:
        return ProgressChange()
    row = learner.progress.get(lesson_id)
    new_lesson = row is None
    if row is None:
        row = UserProgress(
            user_id=learner.user.id,
            lesson_id=lesson_id,
            status=ProgressStatus.NOT_STARTED,
            attempts=0,
        )
        session.add(row)
        learner.progress[lesson_id] = row
    was_completed = row.status is ProgressStatus.COMPLETED
    was_solved = row.solved_at is not None
    best = row.score or 0
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
    return ProgressChange(
        new_lesson=new_lesson,
        newly_completed=row.status is ProgressStatus.COMPLETED and not was_completed,
        newly_solved=row.solved_at is not None and not was_solved,
        score_gain=(row.score or 0) - best,
    )
