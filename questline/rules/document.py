"""The rule document: one achievement, as a course author writes it (JSON or YAML)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictInt, StrictStr

from questline.rules.limits import MAX_POINTS
from questline.rules.vocabulary import AchievementType

__all__ = ["SLUG_PATTERN", "RuleDocument"]

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_SLUG_LENGTH = 100
MAX_TITLE_LENGTH = 200
MAX_ICON_LENGTH = 100


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
    criteria: JsonValue
    enabled: StrictBool = True

    def to_json_dict(self) -> dict[str, Any]:
        """The document as plain JSON data (what a rule file holds)."""
        return self.model_dump(mode="json")
