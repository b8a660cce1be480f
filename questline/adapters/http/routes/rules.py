"""Administration: the achievement catalogue and rule validation, explanation and preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from questline.adapters.http.problems import INVALID_RULE, UNKNOWN_RULE, FieldError, Problem
from questline.adapters.http.routes.common import (
    AUTH_ERRORS,
    BODY_ERRORS,
    EngineDep,
    errors,
    json_body,
)
from questline.adapters.http.schemas import (
    AchievementState,
    ExplainRequest,
    Learner,
    Preview,
    RuleFinding,
    RuleValidation,
)
from questline.adapters.http.security import require
from questline.engine.api_keys import Scope
from questline.rules import RuleDocument

MAX_PREVIEW = 1000

router = APIRouter(
    tags=["rules"],
    dependencies=[Depends(require(Scope.ADMIN))],
    responses=errors(*AUTH_ERRORS),
)
WITH_BODY = [Depends(json_body)]
# Any, not JsonValue: pydantic's walk of a JsonValue fails on deep nesting with a recursion
# error, where the rule checks refuse it by name (and JSON parsing already made the value)
RuleJson = Annotated[Any, Body(description="A rule document as in a rule file (see docs/rules.md)")]


@router.get("/achievements")
async def achievements(engine: EngineDep) -> list[RuleDocument]:
    """The enabled achievements, with their rules."""
    return engine.achievement_catalog()


@router.post("/rules:validate", dependencies=WITH_BODY, responses=errors(*BODY_ERRORS))
async def validate_rules(document: RuleJson, engine: EngineDep) -> RuleValidation:
    """Check a rule document, or a list of them, against this engine's facts and operators."""
    items = document if isinstance(document, list) else [document]
    prefix = (lambda index: f"/{index}") if isinstance(document, list) else (lambda _: "")
    problems = [
        RuleFinding(
            pointer=prefix(index) + problem.pointer,
            message=problem.message,
            severity=problem.severity,
        )
        for index, item in enumerate(items)
        for problem in engine.check_rule(item)
    ]
    return RuleValidation(
        valid=not any(problem.severity == "error" for problem in problems), problems=problems
    )


@router.post("/rules:explain", dependencies=WITH_BODY, responses=errors(*BODY_ERRORS, 404))
async def explain_rule(request: ExplainRequest, engine: EngineDep) -> AchievementState:
    """How far a learner is from an achievement, and what is missing."""
    for status in await engine.achievements(telegram_id=request.telegram_id):
        if status.slug == request.slug:
            return AchievementState.of(status)
    raise Problem(UNKNOWN_RULE, f'no enabled achievement with slug "{request.slug}"')


@router.post("/rules:preview", dependencies=WITH_BODY, responses=errors(*BODY_ERRORS))
async def preview_rule(
    document: RuleJson,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=0, le=MAX_PREVIEW, description="Learners to list")] = 100,
) -> Preview:
    """The learners who would qualify for a rule now; writes nothing."""
    problems = [problem for problem in engine.check_rule(document) if problem.is_error]
    if problems:
        raise Problem(
            INVALID_RULE,
            "; ".join(f"{p.pointer or '/'}: {p.message}" for p in problems[:5]),
            errors=[FieldError(detail=p.message, pointer=p.pointer) for p in problems],
        )
    rule = RuleDocument.model_validate(document)
    learners = await engine.preview(rule)
    return Preview(
        slug=rule.slug,
        qualifying=len(learners),
        learners=[Learner.of(user) for user in learners[:limit]],
    )
