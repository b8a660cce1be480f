"""Errors the engine raises for bad input; each message names what was wrong."""


class QuestlineError(Exception):
    """Base of every error questline reports to its users."""


class InvalidEvent(QuestlineError):
    """An event that cannot be recorded as given."""


class IdempotencyKeyReused(InvalidEvent):
    """The event's idempotency key was already used for a different event of the learner."""


class ScoreMismatch(InvalidEvent):
    """A challenge solve scored otherwise than the course scores it."""


class UnknownUser(QuestlineError):
    """No user with the given id or telegram_id."""


class UnknownLesson(QuestlineError):
    """No lesson with the given id."""


class UnpublishedLesson(QuestlineError):
    """The lesson (or its module) exists but is not published."""


class UnknownModule(QuestlineError):
    """No module with the given id."""


class UnpublishedModule(QuestlineError):
    """The module exists but is not published."""


class NoChallenge(QuestlineError):
    """The lesson has no challenge to answer."""


class ContentError(QuestlineError):
    """A course file that cannot be loaded."""


class RulesError(QuestlineError):
    """Rule files that do not validate; nothing of them was loaded."""


class RuleFails(RulesError):
    """A valid rule fails when it is judged (over its operations budget, arithmetic on
    text, a custom operator that raises)."""


class ApiKeyError(QuestlineError):
    """An API key request that cannot be carried out (unknown key, bad scope or name)."""


class InvalidGoal(QuestlineError):
    """A daily goal out of range."""


class InvalidFreezeGrant(QuestlineError):
    """A grant of streak freezes that cannot be made as given."""


class InvalidReminder(QuestlineError):
    """A reminder setting that cannot be used (unknown time zone, a time in quiet hours…)."""


class CallerLeft(QuestlineError):
    """The caller of `record()` stopped waiting (cancelled: an HTTP request that timed out)
    before its event's transaction committed; the event is not recorded."""
