"""The seed schema's vocabulary that rules speak: achievement and activity types."""

from enum import StrEnum


class AchievementType(StrEnum):
    """What kind of accomplishment an achievement rewards (the seed's AchievementType)."""

    LESSON_COMPLETED = "LESSON_COMPLETED"
    MODULE_COMPLETED = "MODULE_COMPLETED"
    STREAK = "STREAK"
    CHALLENGES_SOLVED = "CHALLENGES_SOLVED"
    MILESTONE = "MILESTONE"


class ActivityType(StrEnum):
    """What a learner did (the seed's ActivityType); ACHIEVEMENT_EARNED is written by the engine."""

    LESSON_STARTED = "LESSON_STARTED"
    LESSON_COMPLETED = "LESSON_COMPLETED"
    CHALLENGE_ATTEMPTED = "CHALLENGE_ATTEMPTED"
    CHALLENGE_SOLVED = "CHALLENGE_SOLVED"
    ACHIEVEMENT_EARNED = "ACHIEVEMENT_EARNED"
    LOGIN = "LOGIN"
