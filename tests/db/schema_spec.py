"""The schema as the seed states it (plus the engine's extensions), written out independently of
the models so that the tests compare two sources: this file and the models / the live database.

Column spec: (kind, length, nullable). Kinds: int, bigint, str, text, bool, datetime, enum.
"""

from __future__ import annotations

from questline.engine.models import ProgressStatus
from questline.rules.vocabulary import AchievementType, ActivityType

T = "datetime"

SEED_COLUMNS: dict[str, dict[str, tuple[str, int | None, bool]]] = {
    "users": {
        "id": ("int", None, False),
        "telegram_id": ("bigint", None, False),
        "username": ("str", 100, True),
        "first_name": ("str", 100, True),
        "last_name": ("str", 100, True),
        "language_code": ("str", 10, True),
        "is_active": ("bool", None, False),
        "created_at": (T, None, False),
        "updated_at": (T, None, False),
    },
    "modules": {
        "id": ("int", None, False),
        "title": ("str", 200, False),
        "description": ("text", None, True),
        "order": ("int", None, False),
        "is_published": ("bool", None, False),
        "created_at": (T, None, False),
        "updated_at": (T, None, False),
    },
    "lessons": {
        "id": ("int", None, False),
        "module_id": ("int", None, False),
        "title": ("str", 200, False),
        "content": ("text", None, True),
        "order": ("int", None, False),
        "estimated_duration": ("int", None, True),
        "is_published": ("bool", None, False),
        "created_at": (T, None, False),
        "updated_at": (T, None, False),
    },
    "user_progress": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "lesson_id": ("int", None, False),
        "status": ("enum", None, False),
        "score": ("int", None, True),
        "attempts": ("int", None, False),
        "started_at": (T, None, True),
        "completed_at": (T, None, True),
        "created_at": (T, None, False),
        "updated_at": (T, None, False),
    },
    "achievements": {
        "id": ("int", None, False),
        "type": ("enum", None, False),
        "title": ("str", 200, False),
        "description": ("text", None, True),
        "icon": ("str", 100, True),
        "points": ("int", None, False),
        "criteria": ("text", None, True),
        "created_at": (T, None, False),
    },
    "user_achievements": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "achievement_id": ("int", None, False),
        "earned_at": (T, None, False),
    },
    "leaderboard_cache": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "rank": ("int", None, False),
        "total_score": ("int", None, False),
        "lessons_completed": ("int", None, False),
        "achievements_count": ("int", None, False),
        "updated_at": (T, None, False),
    },
    "activity_log": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "activity_type": ("enum", None, False),
        "entity_id": ("int", None, True),
        "entity_type": ("str", 50, True),
        "details": ("text", None, True),
        "created_at": (T, None, False),
    },
}

EXTENSION_COLUMNS: dict[str, dict[str, tuple[str, int | None, bool]]] = {
    "achievements": {
        "slug": ("str", 100, True),
        "enabled": ("bool", None, False),
        "streak_freezes": ("int", None, False),
    },
    # "key": VARCHAR(100) on SQLite, VARBINARY(400) (UTF-8 bytes) on MySQL/MariaDB (0004)
    "activity_log": {"idempotency_key": ("key", 100, True)},
    "user_achievements": {"activity_id": ("int", None, True)},
    "modules": {"slug": ("str", 100, True)},
    "lessons": {"slug": ("str", 100, True)},
    "user_progress": {"solved_at": (T, None, True)},
    "learner_totals": {
        "user_id": ("int", None, False),
        "zone": ("str", 64, False),
        **{
            name: ("int", None, False)
            for name in (
                "lesson_starts",
                "lesson_completions",
                "challenge_attempts",
                "challenge_solves",
                "logins",
                "lessons_started",
                "lessons_completed",
                "challenges_solved",
                "lesson_score",
                "days_active",
                "streak_current",
                "streak_longest",
                "freezes_granted",
                "freezes_used",
            )
        },
        "last_learning_day": ("int", None, True),
        "last_active_day": ("int", None, True),
        "last_event_at": (T, None, True),
    },
    "learner_days": {
        "user_id": ("int", None, False),
        "day": ("int", None, False),
        **{
            name: ("int", None, False)
            for name in (
                "activities",
                "lesson_starts",
                "lesson_completions",
                "challenge_attempts",
                "challenge_solves",
                "logins",
            )
        },
    },
    "lesson_challenges": {
        "id": ("int", None, False),
        "lesson_id": ("int", None, False),
        "question": ("text", None, False),
        "answers": ("text", None, False),
        "points": ("int", None, False),
        "options": ("text", None, True),
        "created_at": (T, None, False),
        "updated_at": (T, None, False),
    },
    "streak_freeze_grants": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "amount": ("int", None, False),
        "granted_at": (T, None, False),
        "reason": ("str", 255, True),
        "achievement_id": ("int", None, True),
    },
    "streak_freeze_uses": {"user_id": ("int", None, False), "day": ("int", None, False)},
    "learner_goals": {
        "user_id": ("int", None, False),
        "daily_lessons": ("int", None, False),
        "updated_at": (T, None, False),
    },
    "reminder_settings": {
        "user_id": ("int", None, False),
        "time_zone": ("str", 64, False),
        "daily_at": ("int", None, True),
        "streak_nudge": ("bool", None, False),
        "stopped": ("bool", None, False),
        "blocked_at": (T, None, True),
        "daily_due_at": (T, None, True),
        "streak_due_at": (T, None, True),
        "updated_at": (T, None, False),
    },
    "reminder_sends": {
        "id": ("int", None, False),
        "user_id": ("int", None, False),
        "day": ("int", None, False),
        "kind": ("str", 8, False),
        "status": ("str", 8, False),
        "attempts": ("int", None, False),
        "streak": ("int", None, False),
        "lease_until": (T, None, False),
        "claimed_at": (T, None, False),
        "settled_at": (T, None, True),
        "last_error": ("str", 255, True),
    },
    "module_translations": {
        "module_id": ("int", None, False),
        "language": ("str", 8, False),
        "title": ("str", 200, False),
        "description": ("text", None, True),
    },
    "lesson_translations": {
        "lesson_id": ("int", None, False),
        "language": ("str", 8, False),
        "title": ("str", 200, False),
        **{name: ("text", None, True) for name in ("content", "question", "answers", "options")},
    },
    "achievement_translations": {
        "achievement_id": ("int", None, False),
        "language": ("str", 8, False),
        "title": ("str", 200, False),
        "description": ("text", None, True),
    },
    "conversation_states": {
        "id": ("int", None, False),
        "key": ("str", 255, False),
        "state": ("str", 255, True),
        "data": ("text", None, True),
        "updated_at": (T, None, False),
    },
    "outbox": {
        "id": ("int", None, False),
        "dedupe_id": ("str", 36, False),
        "topic": ("str", 50, False),
        "user_id": ("int", None, True),
        "activity_id": ("int", None, True),
        "payload": ("text", None, False),
        "status": ("str", 10, False),
        "attempts": ("int", None, False),
        "available_at": (T, None, False),
        "claim_token": ("str", 32, True),
        "delivered_to": ("text", None, True),
        "last_error": ("text", None, True),
        "created_at": (T, None, False),
        "delivered_at": (T, None, True),
    },
    "learner_period_scores": {
        "user_id": ("int", None, False),
        "period": ("str", 5, False),
        "period_start": ("int", None, False),
        "score": ("int", None, False),
        "lessons_completed": ("int", None, False),
        "achievements_count": ("int", None, False),
    },
    "leaderboard_score_counts": {
        "board": ("str", 5, False),
        "period_start": ("int", None, False),
        "score": ("int", None, False),
        "learners": ("int", None, False),
    },
    "catalog_versions": {
        "name": ("str", 40, False),
        "version": ("int", None, False),
    },
    "leaderboard_score_bands": {
        "board": ("str", 5, False),
        "period_start": ("int", None, False),
        "band": ("int", None, False),
        "learners": ("int", None, False),
    },
    "leaderboard_closes": {
        "id": ("int", None, False),
        "period": ("str", 5, False),
        "period_start": ("int", None, False),
        "learners": ("int", None, False),
        "awards": ("int", None, False),
        "closed_at": (T, None, False),
    },
    "api_keys": {
        "id": ("int", None, False),
        "name": ("str", 100, False),
        "prefix": ("str", 16, False),
        "secret_hash": ("str", 64, False),
        "scopes": ("str", 100, False),
        "created_at": (T, None, False),
        "revoked_at": (T, None, True),
    },
}

# Primary keys other than an autoincrement "id" (extension tables keyed by learner).
EXTENSION_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "learner_totals": ("user_id",),
    "learner_days": ("user_id", "day"),
    "learner_period_scores": ("user_id", "period", "period_start"),
    "leaderboard_score_counts": ("board", "period_start", "score"),
    "leaderboard_score_bands": ("board", "period_start", "band"),
    "learner_goals": ("user_id",),
    "streak_freeze_uses": ("user_id", "day"),
    "reminder_settings": ("user_id",),
    "module_translations": ("module_id", "language"),
    "lesson_translations": ("lesson_id", "language"),
    "achievement_translations": ("achievement_id", "language"),
    "catalog_versions": ("name",),
}
EXTENSION_TABLES = {
    "lesson_challenges",
    "streak_freeze_grants",
    "conversation_states",
    "outbox",
    "api_keys",
    "leaderboard_closes",
    "reminder_sends",
    *EXTENSION_PRIMARY_KEYS,
}


def primary_key(table: str) -> list[str]:
    return list(EXTENSION_PRIMARY_KEYS.get(table, ("id",)))


def all_columns() -> dict[str, dict[str, tuple[str, int | None, bool]]]:
    merged = {table: dict(columns) for table, columns in SEED_COLUMNS.items()}
    for table, columns in EXTENSION_COLUMNS.items():
        merged.setdefault(table, {}).update(columns)
    return merged


# Defaults the seed states ("default true/false/0"): also DDL defaults.
SERVER_DEFAULTS: dict[tuple[str, str], str] = {
    ("users", "is_active"): "1",
    ("modules", "is_published"): "0",
    ("lessons", "is_published"): "0",
    ("user_progress", "attempts"): "0",
    ("achievements", "points"): "0",
    ("leaderboard_cache", "total_score"): "0",
    ("leaderboard_cache", "lessons_completed"): "0",
    ("leaderboard_cache", "achievements_count"): "0",
    ("achievements", "enabled"): "1",
    ("achievements", "streak_freezes"): "0",
    ("lesson_challenges", "points"): "0",
    ("outbox", "status"): "pending",
    ("outbox", "attempts"): "0",
    ("leaderboard_closes", "learners"): "0",
    ("leaderboard_closes", "awards"): "0",
    ("reminder_sends", "attempts"): "0",
    ("reminder_sends", "streak"): "0",
    **{
        (table, column): "0"
        for table, columns in (
            (
                "learner_totals",
                (
                    "lesson_starts",
                    "lesson_completions",
                    "challenge_attempts",
                    "challenge_solves",
                    "logins",
                    "lessons_started",
                    "lessons_completed",
                    "challenges_solved",
                    "lesson_score",
                    "days_active",
                    "streak_current",
                    "streak_longest",
                    "freezes_granted",
                    "freezes_used",
                ),
            ),
            (
                "learner_days",
                (
                    "activities",
                    "lesson_starts",
                    "lesson_completions",
                    "challenge_attempts",
                    "challenge_solves",
                    "logins",
                ),
            ),
            ("learner_period_scores", ("score", "lessons_completed", "achievements_count")),
            ("leaderboard_score_counts", ("learners",)),
            ("leaderboard_score_bands", ("learners",)),
            ("catalog_versions", ("version",)),
        )
        for column in columns
    },
}

ENUM_COLUMNS = {
    ("user_progress", "status"): ProgressStatus,
    ("achievements", "type"): AchievementType,
    ("activity_log", "activity_type"): ActivityType,
}

# Non-unique indexes: name -> (table, columns in order).
SEED_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ix_modules_order": ("modules", ("order",)),
    "ix_lessons_module_id": ("lessons", ("module_id",)),
    "ix_lessons_module_id_order": ("lessons", ("module_id", "order")),
    "ix_user_progress_user_id_status": ("user_progress", ("user_id", "status")),
    "ix_user_progress_lesson_id_status": ("user_progress", ("lesson_id", "status")),
    "ix_achievements_type": ("achievements", ("type",)),
    "ix_user_achievements_user_id_earned_at": ("user_achievements", ("user_id", "earned_at")),
    "ix_leaderboard_cache_rank": ("leaderboard_cache", ("rank",)),
    "ix_leaderboard_cache_rank_total_score": ("leaderboard_cache", ("rank", "total_score")),
    "ix_activity_log_user_id": ("activity_log", ("user_id",)),
    "ix_activity_log_activity_type": ("activity_log", ("activity_type",)),
    "ix_activity_log_created_at": ("activity_log", ("created_at",)),
    "ix_activity_log_user_id_activity_type_created_at": (
        "activity_log",
        ("user_id", "activity_type", "created_at"),
    ),
}
EXTENSION_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ix_user_achievements_activity_id": ("user_achievements", ("activity_id",)),
    "ix_leaderboard_cache_total_score_user_id": ("leaderboard_cache", ("total_score", "user_id")),
    "ix_outbox_status_available_at": ("outbox", ("status", "available_at")),
    "ix_learner_period_scores_period_period_start_score_user_id": (
        "learner_period_scores",
        ("period", "period_start", "score", "user_id"),
    ),
    "ix_leaderboard_cache_display_order": ("leaderboard_cache", ("total_score", "user_id")),
    "ix_learner_period_scores_display_order": (
        "learner_period_scores",
        ("period", "period_start", "score", "user_id"),
    ),
    "ix_streak_freeze_grants_user_id_granted_at": (
        "streak_freeze_grants",
        ("user_id", "granted_at"),
    ),
    "ix_reminder_settings_daily_due_at": ("reminder_settings", ("daily_due_at",)),
    "ix_reminder_settings_streak_due_at": ("reminder_settings", ("streak_due_at",)),
    "ix_reminder_sends_status_lease_until": ("reminder_sends", ("status", "lease_until")),
}

# Uniques (constraint or unique index): table -> set of column tuples.
SEED_UNIQUES: dict[str, set[tuple[str, ...]]] = {
    "users": {("telegram_id",)},
    "user_progress": {("user_id", "lesson_id")},
    "user_achievements": {("user_id", "achievement_id")},
    "leaderboard_cache": {("user_id",)},
}
EXTENSION_UNIQUES: dict[str, set[tuple[str, ...]]] = {
    "achievements": {("slug",)},
    "activity_log": {("user_id", "idempotency_key")},
    "modules": {("slug",)},
    "lessons": {("module_id", "slug")},
    "lesson_challenges": {("lesson_id",)},
    "conversation_states": {("key",)},
    "outbox": {("dedupe_id",)},
    "api_keys": {("prefix",), ("secret_hash",)},
    "leaderboard_closes": {("period", "period_start")},
    "streak_freeze_grants": {("user_id", "achievement_id")},
    "reminder_sends": {("user_id", "day", "kind")},
}

# Foreign keys: table -> {(columns, referred table, referred columns, ondelete)}.
SEED_FOREIGN_KEYS: dict[str, set[tuple[tuple[str, ...], str, tuple[str, ...], str | None]]] = {
    "lessons": {(("module_id",), "modules", ("id",), None)},
    "user_progress": {
        (("user_id",), "users", ("id",), None),
        (("lesson_id",), "lessons", ("id",), None),
    },
    "user_achievements": {
        (("user_id",), "users", ("id",), None),
        (("achievement_id",), "achievements", ("id",), None),
    },
    "leaderboard_cache": {(("user_id",), "users", ("id",), None)},
    "activity_log": {(("user_id",), "users", ("id",), None)},
}
EXTENSION_FOREIGN_KEYS: dict[str, set[tuple[tuple[str, ...], str, tuple[str, ...], str | None]]] = {
    "user_achievements": {(("activity_id",), "activity_log", ("id",), "SET NULL")},
    "lesson_challenges": {(("lesson_id",), "lessons", ("id",), "CASCADE")},
    "outbox": {(("activity_id",), "activity_log", ("id",), "SET NULL")},
    "learner_totals": {(("user_id",), "users", ("id",), "CASCADE")},
    "learner_days": {(("user_id",), "users", ("id",), "CASCADE")},
    "learner_period_scores": {(("user_id",), "users", ("id",), "CASCADE")},
    "learner_goals": {(("user_id",), "users", ("id",), "CASCADE")},
    "streak_freeze_grants": {
        (("user_id",), "users", ("id",), "CASCADE"),
        (("achievement_id",), "achievements", ("id",), "SET NULL"),
    },
    "streak_freeze_uses": {(("user_id",), "users", ("id",), "CASCADE")},
    "reminder_settings": {(("user_id",), "users", ("id",), "CASCADE")},
    "reminder_sends": {(("user_id",), "users", ("id",), "CASCADE")},
    "module_translations": {(("module_id",), "modules", ("id",), "CASCADE")},
    "lesson_translations": {(("lesson_id",), "lessons", ("id",), "CASCADE")},
    "achievement_translations": {(("achievement_id",), "achievements", ("id",), "CASCADE")},
}


def merged(seed: dict, extension: dict) -> dict:
    result = {key: set(value) for key, value in seed.items()}
    for key, value in extension.items():
        result.setdefault(key, set()).update(value)
    return result
