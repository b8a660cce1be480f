"""Admin commands, for the ids in QUESTLINE_ADMIN_IDS only; others fall through to help."""

from __future__ import annotations

from typing import Protocol

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.types import Message, User

from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens import Screen
from questline.adapters.telegram.screens.base import esc
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from questline.engine.errors import QuestlineError


class LoadReport(Protocol):
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def summary(report: LoadReport) -> str:
    """Counts by outcome, naming what changed: "1 updated (python-basics/classes)"."""
    parts = []
    for label, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ):
        listed = f" ({', '.join(names)})" if names and label != "unchanged" else ""
        parts.append(f"{len(names)} {label}{listed}")
    return ", ".join(parts)


class IsAdmin(Filter):
    async def __call__(
        self, message: Message, event_from_user: User, settings: BotSettings
    ) -> bool:
        return event_from_user.id in settings.admin_ids


async def stats(message: Message, engine: Engine) -> None:
    counts = await engine.stats()
    lines = ["📊 <b>Stats</b>", *(f"{esc(key)}: {value}" for key, value in counts.items())]
    await show(message, Screen("\n".join(lines)))


async def reload(message: Message, engine: Engine, settings: BotSettings) -> None:
    """Load the configured course and rule files again (both idempotent), then re-read
    content and rules from the database, which other processes may have changed."""
    lines = []
    try:
        if settings.content_path is not None:
            report = await engine.load_content(settings.content_path)
            lines.append(f"📚 content: {esc(summary(report))}")
        if settings.rules_paths:
            rules = await engine.load_rules(list(settings.rules_paths))
            lines.append(f"🏆 rules: {esc(summary(rules))}")
        await engine.reload()
        lines.append("🔄 rules and course re-read from the database")
    except QuestlineError as error:
        lines.append(f"❌ {esc(str(error))}")
    await show(message, Screen("\n".join(lines)))


def make_router() -> Router:
    router = Router(name="admin")
    router.message.filter(IsAdmin())
    router.message.register(stats, Command("stats"))
    router.message.register(reload, Command("reload"))
    return router
