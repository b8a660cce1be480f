"""One router per feature; `all_routers` gives them in the order they must be included."""

from aiogram import Router

from questline.adapters.telegram.routers import (
    achievements,
    admin,
    challenge,
    errors,
    fallback,
    goal,
    groups,
    leaderboard,
    learning,
    membership,
    progress,
    settings,
    start,
)


def all_routers() -> list[Router]:
    """Fresh routers (a router can belong to one dispatcher only); the fallback comes last."""
    return [
        errors.make_router(),
        groups.make_router(),
        membership.make_router(),
        admin.make_router(),
        start.make_router(),
        learning.make_router(),
        challenge.make_router(),
        progress.make_router(),
        goal.make_router(),
        settings.make_router(),
        achievements.make_router(),
        leaderboard.make_router(),
        fallback.make_router(),
    ]
