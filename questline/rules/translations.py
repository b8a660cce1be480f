"""Text an author gives in one language or several: ``"Hi"`` or ``{"en": "Hi", "ru": "Привет"}``.

A plain value is in the document's default language (its ``language``, "en" unless it says
otherwise). A document is complete when every translatable field it fills has a value in every
language it uses anywhere (:func:`missing_texts`). Languages are ISO 639 codes that Babel knows
("en", "ru", "pt"); a reader's tag ("ru-RU", "pt_br") is reduced to its language
(:func:`primary_language`), and a text missing in that language falls back to the default one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Annotated, Any, TypeVar

from babel import localedata
from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from questline.rules.limits import MAX_TEXT_BYTES, MAX_TITLE_LENGTH

__all__ = [
    "DEFAULT_LANGUAGE",
    "LanguageCode",
    "LocalisedBody",
    "LocalisedList",
    "LocalisedText",
    "LocalisedTexts",
    "LocalisedTitle",
    "check_language",
    "in_language",
    "languages_of",
    "missing_texts",
    "primary_language",
]

DEFAULT_LANGUAGE = "en"
_CODE = re.compile(r"[a-z]{2,3}")

LocalisedText = str | dict[str, str]
LocalisedList = list[str] | dict[str, list[str]]
T = TypeVar("T")


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("translation", message)


def check_language(code: object) -> str:
    """`code` if it is a language code Babel knows ("en", "ru"), else a clear error."""
    if isinstance(code, str) and _CODE.fullmatch(code) and localedata.exists(code):
        return code
    raise _problem(
        f"unknown language code {code!r}: use a lowercase ISO 639 code such as 'en' or 'ru'"
    )


LanguageCode = Annotated[
    str,
    PlainValidator(check_language),
    WithJsonSchema({"type": "string", "pattern": "^[a-z]{2,3}$", "examples": ["en", "ru"]}),
]


def primary_language(tag: str | None) -> str | None:
    """The language of a reader's tag: "ru-RU" and "ru" give "ru"; None or "" give None."""
    if not tag:
        return None
    return re.split(r"[-_]", tag, maxsplit=1)[0].lower() or None


def json_type_name(value: object) -> str:
    """How a JSON value's type is named in messages: "text", "a number", "a list"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _text(value: object, max_length: int | None) -> str:
    if not isinstance(value, str):
        raise _problem(f"must be text, not {json_type_name(value)}")
    if not value.strip():
        raise _problem("must not be empty")
    if max_length is not None and len(value) > max_length:
        raise _problem(f"must be at most {max_length} characters")
    _fits_a_text_column(value)
    return value


def _fits_a_text_column(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise _problem(
            f"is {size:,} bytes of UTF-8 text; the limit is {MAX_TEXT_BYTES:,} (a TEXT column)"
        )


def _texts(value: object) -> list[str]:
    if not isinstance(value, list):
        raise _problem(f"must be a list of texts, not {json_type_name(value)}")
    if not value:
        raise _problem("must not be empty")
    texts = []
    for index, item in enumerate(value):
        try:
            texts.append(_text(item, None))
        except PydanticCustomError as error:
            raise _problem(f"item {index} {error.message()}") from None
    _fits_a_text_column(json.dumps(texts, ensure_ascii=False))  # stored as one JSON list
    return texts


def _localised(check: Callable[[object], T], kind: str) -> Callable[[object], T | dict[str, T]]:
    def validate(value: object) -> T | dict[str, T]:
        if not isinstance(value, dict):
            return check(value)
        if not value:
            raise _problem(f"gives no language: write {kind}, or a mapping such as {{'en': …}}")
        localised = {}
        for code, item in value.items():
            language = check_language(code)
            try:
                localised[language] = check(item)
            except PydanticCustomError as error:
                raise _problem(f"{code!r}: {error.message()}") from None
        return localised

    return validate


def _schema(item: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [item, {"type": "object", "additionalProperties": item}]})


_TEXT_SCHEMA = {"type": "string", "minLength": 1}

LocalisedTitle = Annotated[
    LocalisedText,
    PlainValidator(_localised(lambda value: _text(value, MAX_TITLE_LENGTH), "the text")),
    _schema({**_TEXT_SCHEMA, "maxLength": MAX_TITLE_LENGTH}),
]
"""A translatable title: text of 1 to MAX_TITLE_LENGTH characters, or such a text per language."""

LocalisedBody = Annotated[
    LocalisedText,
    PlainValidator(_localised(lambda value: _text(value, None), "the text")),
    _schema(_TEXT_SCHEMA),
]
"""A translatable text of any length (description, content, question)."""

LocalisedTexts = Annotated[
    LocalisedList,
    PlainValidator(_localised(_texts, "the list")),
    _schema({"type": "array", "items": _TEXT_SCHEMA, "minItems": 1}),
]
"""A translatable list of texts (answers, options): a list, or one per language."""


def languages_of(value: T | Mapping[str, T] | None, default: str) -> set[str]:
    """The languages a field's value is given in (a plain value: the default language)."""
    if value is None:
        return set()
    return set(value) if isinstance(value, Mapping) else {default}


def in_language(value: T | Mapping[str, T], language: str | None, default: str) -> T:
    """The value in `language`, else in the default language (a plain value is the only one)."""
    if not isinstance(value, Mapping):
        return value
    if language in value:
        return value[language]
    return value[default] if default in value else next(iter(value.values()))


def missing_texts(
    fields: Mapping[str, Any],
    languages: Iterable[str],
    default: str,
    neutral: Collection[str] = (),
) -> list[tuple[str, str]]:
    """`(field, language)` for each filled field that lacks one of `languages`. A plain value
    of a `neutral` field (answers, options: code, numbers, names) serves every language."""
    wanted = sorted(set(languages))
    return [
        (name, language)
        for name, value in fields.items()
        if value is not None and not (name in neutral and not isinstance(value, Mapping))
        for language in wanted
        if language not in languages_of(value, default)
    ]
