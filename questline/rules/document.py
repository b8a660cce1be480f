"""The rule document: one achievement, as a course author writes it (JSON or YAML)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from questline.rules.limits import MAX_FREEZES, MAX_POINTS, MAX_TITLE_LENGTH
from questline.rules.translations import (
    DEFAULT_LANGUAGE,
    LanguageCode,
    LocalisedBody,
    LocalisedTitle,
    in_language,
    languages_of,
    missing_texts,
)
from questline.rules.vocabulary import AchievementType

__all__ = ["SLUG_PATTERN", "RuleDocument", "RuleExample"]

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_SLUG_LENGTH = 100
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
    progress: Annotated[float, Field(ge=0, le=1, strict=True)] | None = None


class RuleDocument(BaseModel):
    """One achievement rule: identity, presentation, reward and JsonLogic ``criteria``.

    ``criteria`` is evaluated against the facts document (see ``questline.rules.facts``); the
    achievement is earned when the result is truthy. ``title`` and ``description`` are text in
    ``language``, or text per language (``questline.rules.translations``); every language the
    rule uses must give both.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Annotated[StrictStr, Field(max_length=MAX_SLUG_LENGTH, pattern=SLUG_PATTERN)]
    type: AchievementType
    title: LocalisedTitle
    description: LocalisedBody | None = None
    language: LanguageCode = DEFAULT_LANGUAGE
    icon: Annotated[StrictStr, Field(max_length=MAX_ICON_LENGTH)] | None = None
    points: Annotated[StrictInt, Field(ge=0, le=MAX_POINTS)]
    streak_freezes: Annotated[StrictInt, Field(ge=0, le=MAX_FREEZES)] = 0
    """Streak freezes the learner is given with the award (a reward besides the points)."""
    criteria: JsonValue
    enabled: StrictBool = True
    examples: Annotated[tuple[RuleExample, ...], Field(max_length=MAX_EXAMPLES)] = ()
    """Tests of the rule, run by ``rules validate`` and ``rules test``; not stored."""

    @model_validator(mode="after")
    def _complete(self) -> RuleDocument:
        gaps = missing_texts(self._texts(), self.languages, self.language)
        if gaps:
            raise ValueError(
                "; ".join(f"{field} has no {language!r} text" for field, language in gaps)
                + f" (the rule is in {', '.join(self.languages)})"
            )
        return self

    def _texts(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description}

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the rule gives its texts in, the default one first."""
        found = set().union(*(languages_of(v, self.language) for v in self._texts().values()))
        return (self.language, *sorted(found - {self.language}))

    def title_in(self, language: str | None = None) -> str:
        """The title in `language`, else in the rule's own language."""
        return str(in_language(self.title, language, self.language))

    def description_in(self, language: str | None = None) -> str | None:
        """The description in `language`, else in the rule's own language (None: none)."""
        if self.description is None:
            return None
        return str(in_language(self.description, language, self.language))

    def to_json_dict(self) -> dict[str, Any]:
        """The document as plain JSON data (what a rule file holds)."""
        return self.model_dump(mode="json")
