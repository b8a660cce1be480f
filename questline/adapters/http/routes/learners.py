"""/v1/learners/{telegram_id}: register or update a learner; read progress, awards, rank."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from questline.adapters.http.problems import UNKNOWN_LEARNER, Problem
from questline.adapters.http.routes.common import (
    AUTH_ERRORS,
    BODY_ERRORS,
    EngineDep,
    LanguageDep,
    errors,
    json_body,
)
from questline.adapters.http.schemas import (
    AchievementState,
    Learner,
    LearnerUpdate,
    Progress,
    Rank,
    Standing,
    TelegramIdParam,
)
from questline.adapters.http.security import require
from questline.engine import UserProfile
from questline.engine.api_keys import Scope

router = APIRouter(prefix="/learners", tags=["learners"], responses=errors(*AUTH_ERRORS, 404, 422))
TelegramId = Annotated[TelegramIdParam, Path(description="The learner's Telegram id")]
READ = [Depends(require(Scope.READ))]

LEARNER_LINKS = {
    "GetLearnerProgress": {
        "operationId": "learner_progress",
        "parameters": {"telegram_id": "$request.path.telegram_id"},
    },
    "GetLearnerAchievements": {
        "operationId": "learner_achievements",
        "parameters": {"telegram_id": "$request.path.telegram_id"},
    },
    "GetLearnerRank": {
        "operationId": "learner_rank",
        "parameters": {"telegram_id": "$request.path.telegram_id"},
    },
    "RecordLoginEvent": {
        "operationId": "record_event",
        "requestBody": {"type": "LOGIN", "telegram_id": "$request.path.telegram_id"},
    },
}


@router.get("/{telegram_id}", dependencies=READ)
async def get_learner(telegram_id: TelegramId, engine: EngineDep) -> Learner:
    user = await engine.find_user(telegram_id=telegram_id)
    if user is None:
        raise Problem(UNKNOWN_LEARNER, f"no learner with Telegram id {telegram_id}")
    return Learner.of(user)


@router.put(
    "/{telegram_id}",
    dependencies=[Depends(require(Scope.EVENTS_WRITE)), Depends(json_body)],
    responses={
        **errors(*BODY_ERRORS),
        200: {"description": "Registered or updated", "links": LEARNER_LINKS},
    },
)
async def put_learner(
    telegram_id: TelegramId, profile: LearnerUpdate, engine: EngineDep
) -> Learner:
    """Register the learner, or update the profile of a known one; the same answer either
    way, so that repeating the request changes nothing."""
    user = await engine.register_user(UserProfile(telegram_id=telegram_id, **profile.model_dump()))
    return Learner.of(user)


@router.get("/{telegram_id}/progress", dependencies=READ)
async def learner_progress(
    telegram_id: TelegramId, engine: EngineDep, language: LanguageDep
) -> Progress:
    """Lesson statuses per published module, totals and streaks."""
    return Progress.of(await engine.progress(telegram_id=telegram_id, language=language))


@router.get("/{telegram_id}/achievements", dependencies=READ)
async def learner_achievements(
    telegram_id: TelegramId, engine: EngineDep, language: LanguageDep
) -> list[AchievementState]:
    """Earned achievements with their dates, then locked ones with progress and explanation."""
    statuses = await engine.achievements(telegram_id=telegram_id, language=language)
    return [AchievementState.of(status) for status in statuses]


@router.get("/{telegram_id}/rank", dependencies=READ)
async def learner_rank(telegram_id: TelegramId, engine: EngineDep) -> Rank:
    """The learner's place on the leaderboard (null until they are on it)."""
    entries = await engine.around(telegram_id=telegram_id, radius=0)
    mine = next((entry for entry in entries if entry.telegram_id == telegram_id), None)
    return Rank(telegram_id=telegram_id, standing=Standing.of(mine) if mine else None)
