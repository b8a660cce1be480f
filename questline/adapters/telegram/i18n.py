"""Translations: gettext catalogs under `locales/`, chosen by the learner's language_code.

Screens call `_` and `ngettext` (the keywords `pybabel extract` looks for); aiogram's I18n
middleware sets the locale for each update, `use_locale` does it elsewhere. English is the
source language and the fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path

from aiogram.utils.i18n import I18n, SimpleI18nMiddleware
from babel import Locale, UnknownLocaleError
from babel.dates import format_date

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"


@cache
def get_i18n() -> I18n:
    """The compiled catalogs, loaded once per process."""
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


def middleware() -> SimpleI18nMiddleware:
    """aiogram's middleware that picks the locale from the update's user."""
    return SimpleI18nMiddleware(get_i18n())


def locale_for(language_code: str | None) -> str:
    """The catalog for a Telegram language_code ("ru", "ru-RU", "pt-br", None…)."""
    i18n = get_i18n()
    if not language_code:
        return i18n.default_locale
    try:
        locale = Locale.parse(language_code, sep="-")
    except (UnknownLocaleError, ValueError):
        return i18n.default_locale
    for candidate in (str(locale), locale.language):
        if candidate in i18n.available_locales:
            return candidate
    return i18n.default_locale


@contextmanager
def use_locale(language_code: str | None) -> Iterator[str]:
    """Translate for `language_code` inside the block; yields the locale chosen."""
    locale = locale_for(language_code)
    with get_i18n().use_locale(locale):
        yield locale


def _(message: str) -> str:
    """`message` translated into the current locale."""
    return get_i18n().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for `n` in the current locale."""
    return get_i18n().gettext(singular, plural, n)


def current_locale() -> str:
    """The locale of the update being handled ("en", "ru")."""
    return get_i18n().current_locale


def format_day(moment: datetime) -> str:
    """A date in the current locale's medium format ("Mar 5, 2025", "5 мар. 2025 г.")."""
    return format_date(moment, format="medium", locale=current_locale())
