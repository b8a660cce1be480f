"""The translations: complete, compiled from the committed .po, chosen by language_code."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from questline.adapters.telegram import i18n
from questline.adapters.telegram.screens.stats import UNITS

PACKAGE = i18n.LOCALES_DIR.parent
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def source_messages() -> set[str]:
    """Every msgid the adapter's code asks to translate (plural ones by their singular)."""
    found = extract_from_dir(PACKAGE, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for *_, message, _, _ in found}


def catalog(locale: str):
    path = i18n.LOCALES_DIR / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def test_the_template_and_russian_cover_every_message_in_the_code() -> None:
    expected = source_messages()
    with (i18n.LOCALES_DIR / f"{i18n.DOMAIN}.pot").open("rb") as file:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}
    assert template == expected
    russian = catalog("ru")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in russian if m.id}
    assert translated == expected
    for message in russian:
        if message.id:
            assert "fuzzy" not in message.flags, message.id
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(forms), f"untranslated: {message.id!r}"
            assert len(forms) == (3 if message.pluralizable else 1)


def test_the_committed_mo_holds_every_translation_of_the_po() -> None:
    """Same messages, same translations; the header (which names the compiling tool) aside."""
    expected: dict[object, str] = {}
    for message in catalog("ru"):
        if not message.id:
            continue
        if message.pluralizable:
            for index, form in enumerate(message.string):
                expected[(message.id[0], index)] = form
        else:
            expected[message.id] = message.string
    committed = i18n.get_i18n().locales["ru"]._catalog  # type: ignore[attr-defined]
    assert {key: text for key, text in committed.items() if key != ""} == expected


@pytest.mark.parametrize(
    ("language_code", "locale"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ru-ua", "ru"),
        ("en", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
        ("not a language!", "en"),
    ],
)
def test_locale_follows_language_code_and_falls_back_to_english(
    language_code: str | None, locale: str
) -> None:
    assert i18n.locale_for(language_code) == locale


def test_russian_plural_forms() -> None:
    lesson = UNITS["stats.lessons_completed"]
    with i18n.use_locale("ru"):
        assert [lesson(n) for n in (1, 3, 5, 11, 21, 22)] == [
            "урок",
            "урока",
            "уроков",
            "уроков",
            "урок",
            "урока",
        ]
    with i18n.use_locale("en"):
        assert [lesson(n) for n in (0, 1, 2)] == ["lessons", "lesson", "lessons"]


GLOSSARY = {"очк": "балл"}
"""Russian words the interface must not use, with the one it uses instead (points are баллы)."""


def test_russian_uses_one_word_for_each_term() -> None:
    for message in catalog("ru"):
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for avoided, preferred in GLOSSARY.items():
            assert all(avoided not in form.lower() for form in forms), (
                f"{message.id!r} says {avoided!r}…; the glossary's word is {preferred!r}…"
            )
