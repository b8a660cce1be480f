"""Modules, a module's lessons, a lesson, and its challenge."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton

from questline.adapters.telegram.callbacks import LessonAction, LessonCb, ModuleCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _, ngettext
from questline.adapters.telegram.screens.base import Screen, bar, button, esc, keyboard, menu_button
from questline.engine.models import ProgressStatus
from questline.engine.views import LessonProgress, ModuleProgress

CONTENT_CHARS = 3000
"""Lesson text beyond this is cut, so the screen stays within Telegram's 4096 characters."""

MARKS = {
    ProgressStatus.NOT_STARTED: "▫️",
    ProgressStatus.IN_PROGRESS: "▶️",
    ProgressStatus.COMPLETED: "✅",
}


def status_label(status: ProgressStatus) -> str:
    if status is ProgressStatus.COMPLETED:
        return _("completed")
    if status is ProgressStatus.IN_PROGRESS:
        return _("in progress")
    return _("not started")


def modules_screen(owner: int, modules: Sequence[ModuleProgress]) -> Screen:
    """Published modules in order, each with the learner's progress."""
    if not modules:
        return Screen(_("No modules are published yet."), keyboard([menu_button(owner)]))
    lines = [_("📚 <b>Modules</b>"), ""]
    rows = []
    for entry in modules:
        mark = "✅" if entry.total and entry.completed == entry.total else "📘"
        lines.append(
            f"{mark} <b>{esc(entry.module.title)}</b>  {bar(entry.completed, entry.total)}"
        )
        if entry.module.description:
            lines.append(f"<i>{esc(entry.module.description)}</i>")
        rows.append(
            [
                button(
                    f"{mark} {entry.module.title} · {entry.completed}/{entry.total}",
                    ModuleCb(owner=owner, module_id=entry.module.id).pack(),
                )
            ]
        )
    return Screen("\n".join(lines), keyboard(*rows, [menu_button(owner)]))


def module_screen(owner: int, entry: ModuleProgress) -> Screen:
    """A module's lessons, each marked not started / in progress / completed."""
    module = entry.module
    lines = [f"📘 <b>{esc(module.title)}</b>"]
    if module.description:
        lines.append(f"<i>{esc(module.description)}</i>")
    lines += ["", bar(entry.completed, entry.total), ""]
    rows = []
    for item in entry.lessons:
        mark = MARKS[item.status]
        lines.append(f"{mark} {esc(item.lesson.title)} — {status_label(item.status)}")
        rows.append(
            [
                button(
                    f"{mark} {item.lesson.title}",
                    LessonCb(
                        owner=owner, lesson_id=item.lesson.id, action=LessonAction.OPEN
                    ).pack(),
                )
            ]
        )
    if entry.total and entry.completed == entry.total:
        lines += ["", _("🎉 You have completed this module!")]
    back = button(_("⬅️ Modules"), ScreenCb(owner=owner, screen=ScreenName.MODULES).pack())
    return Screen("\n".join(lines), keyboard(*rows, [back, menu_button(owner)]))


def duration(minutes: int) -> str:
    return ngettext("⏱ {n} minute", "⏱ {n} minutes", minutes).format(n=minutes)


def lesson_screen(
    owner: int, entry: ModuleProgress, item: LessonProgress, *, notice: str | None = None
) -> Screen:
    """A lesson with the buttons its status allows; `notice` is shown on top."""
    lesson = item.lesson
    lines = [notice, ""] if notice else []
    lines.append(f"<b>{esc(lesson.title)}</b>")
    if lesson.estimated_duration:
        lines.append(duration(lesson.estimated_duration))
    if lesson.content:
        content = lesson.content
        if len(content) > CONTENT_CHARS:
            content = content[:CONTENT_CHARS].rstrip() + "…"
        lines += ["", esc(content)]
    if lesson.challenge:
        lines += [
            "",
            ngettext(
                "🧩 <b>Challenge</b> (+{points} point): {question}",
                "🧩 <b>Challenge</b> (+{points} points): {question}",
                lesson.challenge.points,
            ).format(points=lesson.challenge.points, question=esc(lesson.challenge.question)),
        ]
    lines += ["", _("Status: {status}").format(status=status_label(item.status))]

    def act(label: str, action: LessonAction, lesson_id: int = lesson.id) -> InlineKeyboardButton:
        return button(label, LessonCb(owner=owner, lesson_id=lesson_id, action=action).pack())

    actions = []
    if item.status is ProgressStatus.NOT_STARTED:
        actions.append(act(_("▶️ Start"), LessonAction.START))
    elif item.status is ProgressStatus.IN_PROGRESS:
        actions.append(act(_("✅ Complete"), LessonAction.COMPLETE))
    if lesson.challenge:
        actions.append(act(_("🧩 Answer"), LessonAction.ANSWER))
    following = _next_lesson(entry, lesson.id)
    onward = []
    if item.status is ProgressStatus.COMPLETED and following is not None:
        onward.append(act(_("Next lesson ➡️"), LessonAction.OPEN, following.lesson.id))
    back = button(
        f"⬅️ {entry.module.title}", ModuleCb(owner=owner, module_id=entry.module.id).pack()
    )
    return Screen("\n".join(lines), keyboard(actions, onward, [back, menu_button(owner)]))


def _next_lesson(entry: ModuleProgress, lesson_id: int) -> LessonProgress | None:
    ids = [item.lesson.id for item in entry.lessons]
    position = ids.index(lesson_id) if lesson_id in ids else len(ids)
    return entry.lessons[position + 1] if position + 1 < len(ids) else None


def challenge_prompt(owner: int, item: LessonProgress) -> Screen:
    """The question, asking for an answer in the chat."""
    challenge = item.lesson.challenge
    question = esc(challenge.question if challenge else "")
    text = _("🧩 {question}\n\nSend your answer as a message.").format(question=question)
    return Screen(text, keyboard([_back_to_lesson(owner, item.lesson.id)]))


def challenge_result(owner: int, lesson_id: int, *, solved: bool, score: int | None) -> Screen:
    """Right (with the score the engine gave) or not yet."""
    if solved:
        points = score or 0
        text = ngettext(
            "✅ Correct! +{points} point.", "✅ Correct! +{points} points.", points
        ).format(points=points)
    else:
        text = _("❌ Not quite. Send another answer, or go back to the lesson.")
    return Screen(text, keyboard([_back_to_lesson(owner, lesson_id)]))


def _back_to_lesson(owner: int, lesson_id: int) -> InlineKeyboardButton:
    return button(
        _("⬅️ Back to the lesson"),
        LessonCb(owner=owner, lesson_id=lesson_id, action=LessonAction.OPEN).pack(),
    )
