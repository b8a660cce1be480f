"""The rule document: one achievement, as a course author writes it (JSON or YAML)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictInt, StrictStr

from questline.rules.limits import MAX_FREEZES, MAX_POINTS
from questline.rules.vocabulary import AchievementType

__all__ = ["SLUG_PATTERN", "RuleDocument", "RuleExample"]

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_SLUG_LENGTH = 100
MAX_TITLE_LENGTH = 200
MAX_ICON_LENGTH = 100


MAX_EXAMPLES = 50


class RuleExample(BaseModel):
    """A test the rule carries: a facts document in, the result (and progress) expected out.

    ``facts`` is nested like the engine's facts document and may be partial: a fact it leaves
    out is absent (so a rule on a fact of the event it lacks does not apply). ``progress`` is
    the expected ratio (0 to 1) of a threshold rule.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE_LENGTH)] | None = None
    facts: dict[str, JsonValue]
    expect: StrictBool
    progress: Annotated[float, Field(ge=0, le=1)] | None = None


class RuleDocument(BaseModel):
    """One achievement rule: identity, presentation, reward and JsonLogic ``criteria``.

    ``criteria`` is evaluated against the facts document (see ``questline.rules.facts``); the
    achievement is earned when the result is truthy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Annotated[StrictStr, Field(max_length=MAX_SLUG_LENGTH, pattern=SLUG_PATTERN)]
    type: AchievementType
    title: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE_LENGTH)]
    description: StrictStr | None = None
    icon: Annotated[StrictStr, Field(max_length=MAX_ICON_LENGTH)] | None = None
    points: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)]
    streak_freezes: Annotated[StrictInt, Field(ge=0, le=MAX_FREEZES)] = 0
    """Streak freezes the learner is given with the award (a reward besides the points)."""
    criteria: JsonValue
    enabled: StrictBool = True
    examples: Annotated[tuple[RuleExample, ...], Field(max_length=MAX_EXAMPLES)] = ()
    """Tests of the rule, run by ``rules validate`` and ``rules test``; not stored."""

    def to_json_dict(self) -> dict[str, Any]:
        """The document as plain JSON data (what a rule file holds)."""
        return self.model_dump(mode="json")
