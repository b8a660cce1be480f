"""Modules, a module's lessons, a lesson, and its challenge."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from questline.adapters.telegram.callbacks import (
    ChoiceCb,
    LessonAction,
    LessonCb,
    ModuleCb,
    PageCb,
    ScreenCb,
)
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _, ngettext
from questline.adapters.telegram.markdown import render_pages
from questline.adapters.telegram.screens.base import Screen, bar, button, esc, keyboard, menu_button
from questline.engine.models import ProgressStatus
from questline.engine.views import LessonProgress, ModuleProgress, ModuleView

CONTENT_CHARS = 3000
"""A page of lesson content holds at most this much HTML, so a screen stays within Telegram's
4096 characters with the title, the challenge and the status around it."""

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


def module_screen(
    owner: int, entry: ModuleProgress, *, next_module: ModuleView | None = None
) -> Screen:
    """A module's lessons, each marked not started / in progress / completed; once the module
    is complete, the way on to `next_module`."""
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
    onward = []
    if _complete(entry):
        lines += ["", _("🎉 You have completed this module!")]
        if next_module is not None:
            onward.append(next_module_button(owner, next_module))
    back = button(_("⬅️ Modules"), ScreenCb(owner=owner, screen=ScreenName.MODULES).pack())
    return Screen("\n".join(lines), keyboard(*rows, onward, [back, menu_button(owner)]))


def _complete(entry: ModuleProgress) -> bool:
    return bool(entry.total) and entry.completed == entry.total


def next_module_button(owner: int, module: ModuleView) -> InlineKeyboardButton:
    label = _("Next module ➡️ {title}").format(title=module.title)
    return button(label, ModuleCb(owner=owner, module_id=module.id).pack())


def following_module(modules: Sequence[ModuleProgress], module_id: int) -> ModuleView | None:
    """The published module after `module_id`, if any."""
    ids = [entry.module.id for entry in modules]
    position = ids.index(module_id) if module_id in ids else len(ids)
    return modules[position + 1].module if position + 1 < len(ids) else None


def duration(minutes: int) -> str:
    return ngettext("⏱ {n} minute", "⏱ {n} minutes", minutes).format(n=minutes)


def lesson_screen(
    owner: int,
    entry: ModuleProgress,
    item: LessonProgress,
    *,
    notice: str | None = None,
    next_module: ModuleView | None = None,
    buttons: bool = True,
    page: int = 0,
) -> Screen:
    """A lesson with the buttons its status allows; `notice` is shown on top. Content longer
    than a page is shown a `page` at a time, with ◀ ▶ under it."""
    lesson = item.lesson
    lines = [notice, ""] if notice else []
    lines.append(f"<b>{esc(lesson.title)}</b>")
    if lesson.estimated_duration:
        lines.append(duration(lesson.estimated_duration))
    pages = lesson_pages(item)
    page = min(page, len(pages) - 1)
    if pages[page]:
        lines += ["", pages[page]]
    if len(pages) > 1:
        lines += ["", _("Page {page} of {pages}").format(page=page + 1, pages=len(pages))]
    if lesson.challenge:
        lines += [
            "",
            ngettext(
                "🧩 <b>Challenge</b> (+{points} point): {question}",
                "🧩 <b>Challenge</b> (+{points} points): {question}",
                lesson.challenge.points,
            ).format(points=lesson.challenge.points, question=esc(lesson.challenge.question)),
        ]
        if item.solved:
            lines.append(_("✓ Solved"))
    lines += ["", _("Status: {status}").format(status=status_label(item.status))]
    markup = None
    if buttons:
        turns = _page_turns(owner, lesson.id, page, len(pages))
        markup = lesson_keyboard(owner, entry, item, next_module=next_module, first_row=turns)
    return Screen("\n".join(lines), markup)


def lesson_pages(item: LessonProgress) -> list[str]:
    """The lesson's content (Markdown) as Telegram HTML pages; one empty page if it has none."""
    return render_pages(item.lesson.content or "", CONTENT_CHARS)


def _page_turns(owner: int, lesson_id: int, page: int, pages: int) -> list[InlineKeyboardButton]:
    """◀ and ▶ to the pages around `page`, each labelled with the page it opens."""
    turns = []
    if page > 0:
        back = PageCb(owner=owner, lesson_id=lesson_id, page=page - 1).pack()
        turns.append(button(f"◀ {page}", back))
    if page + 1 < pages:
        onward = PageCb(owner=owner, lesson_id=lesson_id, page=page + 1).pack()
        turns.append(button(f"{page + 2} ▶", onward))
    return turns


def lesson_keyboard(
    owner: int,
    entry: ModuleProgress,
    item: LessonProgress,
    *,
    next_module: ModuleView | None = None,
    first_row: list[InlineKeyboardButton] | None = None,
) -> InlineKeyboardMarkup:
    """What the learner can do next with a lesson: start or complete it, answer its challenge
    (until solved), go on to the next lesson or, the module done, the next module; `first_row`
    (page turns) goes above."""
    lesson = item.lesson

    def act(label: str, action: LessonAction, lesson_id: int = lesson.id) -> InlineKeyboardButton:
        return button(label, LessonCb(owner=owner, lesson_id=lesson_id, action=action).pack())

    actions = []
    if item.status is ProgressStatus.NOT_STARTED:
        actions.append(act(_("▶️ Start"), LessonAction.START))
    elif item.status is ProgressStatus.IN_PROGRESS:
        actions.append(act(_("✅ Complete"), LessonAction.COMPLETE))
    if lesson.challenge and not item.solved:
        actions.append(act(_("🧩 Answer"), LessonAction.ANSWER))
    following = _next_lesson(entry, lesson.id)
    onward = []
    if _complete(entry) and next_module is not None:
        onward.append(next_module_button(owner, next_module))
    elif item.status is ProgressStatus.COMPLETED and following is not None:
        onward.append(act(_("Next lesson ➡️"), LessonAction.OPEN, following.lesson.id))
    back = button(
        f"⬅️ {entry.module.title}", ModuleCb(owner=owner, module_id=entry.module.id).pack()
    )
    return keyboard(first_row or [], actions, onward, [back, menu_button(owner)])


def next_step(
    owner: int,
    entry: ModuleProgress,
    item: LessonProgress,
    *,
    notice: str | None = None,
    next_module: ModuleView | None = None,
) -> Screen:
    """A short screen under a result: where the learner stands, and the lesson's buttons."""
    lines = [notice, ""] if notice else []
    lines.append(
        _("➡️ <b>{title}</b> — {status}").format(
            title=esc(item.lesson.title), status=status_label(item.status)
        )
    )
    if _complete(entry):
        lines.append(_("🎉 You have completed this module!"))
    return Screen("\n".join(lines), lesson_keyboard(owner, entry, item, next_module=next_module))


def _next_lesson(entry: ModuleProgress, lesson_id: int) -> LessonProgress | None:
    ids = [item.lesson.id for item in entry.lessons]
    position = ids.index(lesson_id) if lesson_id in ids else len(ids)
    return entry.lessons[position + 1] if position + 1 < len(ids) else None


def challenge_prompt(owner: int, item: LessonProgress, *, notice: str | None = None) -> Screen:
    """The question, asking for an answer in the chat, or a press of one of its options."""
    challenge = item.lesson.challenge
    question = esc(challenge.question if challenge else "")
    options = challenge.options if challenge else ()
    if options:
        text = _("🧩 {question}\n\nPick an answer, or send it as a message.")
    else:
        text = _("🧩 {question}\n\nSend your answer as a message.")
    text = text.format(question=question)
    if notice:
        text = f"{notice}\n\n{text}"
    choices = [
        [button(option, ChoiceCb(owner=owner, lesson_id=item.lesson.id, option=index).pack())]
        for index, option in enumerate(options)
    ]
    return Screen(text, keyboard(*choices, [_back_to_lesson(owner, item.lesson.id)]))


def challenge_verdict(*, solved: bool, already: bool, score: int | None) -> str:
    """Right (with the score the engine gave), right but solved before, or not yet."""
    if already:
        return _("✓ Already solved — no new points, but well remembered!")
    if solved:
        points = score or 0
        return ngettext(
            "✅ Correct! +{points} point.", "✅ Correct! +{points} points.", points
        ).format(points=points)
    return _("❌ Not quite. Send another answer, or go back to the lesson.")


def wrong_answer(owner: int, lesson_id: int) -> Screen:
    return Screen(
        challenge_verdict(solved=False, already=False, score=None),
        keyboard([_back_to_lesson(owner, lesson_id)]),
    )


def answer_first(owner: int, open_challenge: LessonProgress | None) -> Screen:
    """Free text while no challenge waits for an answer: how to answer one."""
    if open_challenge is None:
        text = _("To answer a challenge, open a lesson and press 🧩 Answer first.")
        modules = button(_("📚 Modules"), ScreenCb(owner=owner, screen=ScreenName.MODULES).pack())
        return Screen(text, keyboard([modules, menu_button(owner)]))
    text = _("Press 🧩 Answer first, then send your answer.")
    answer = button(
        _("🧩 Answer: {title}").format(title=open_challenge.lesson.title),
        LessonCb(
            owner=owner, lesson_id=open_challenge.lesson.id, action=LessonAction.ANSWER
        ).pack(),
    )
    return Screen(text, keyboard([answer], [menu_button(owner)]))


def _back_to_lesson(owner: int, lesson_id: int) -> InlineKeyboardButton:
    return button(
        _("⬅️ Back to the lesson"),
        LessonCb(owner=owner, lesson_id=lesson_id, action=LessonAction.OPEN).pack(),
    )
