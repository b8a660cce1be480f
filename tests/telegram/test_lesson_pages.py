"""Lesson content in Markdown, shown as Telegram HTML a page at a time with ◀ ▶."""

from __future__ import annotations

from pathlib import Path

from questline.adapters.telegram.callbacks import PageCb
from questline.engine import Engine
from tests.telegram.harness import FakeUser, Harness
from tests.telegram.test_bad_input import course_file, edit_course, started
from tests.telegram.test_journeys import lesson_id

__all__ = ["course_file"]  # the fixture: a copy of the course that each test edits

STALE = "This button is out of date. Send /start for a fresh menu."


def turns(user: FakeUser) -> dict[str, str]:
    """The page-turn buttons on the latest screen: "back" and "on" to their callback data."""
    found = {}
    for label, data in user.buttons().items():
        if label.startswith("◀ "):
            found["back"] = data
        elif label.endswith(" ▶"):
            found["on"] = data
    return found


SECTIONS = [f"## Part {n}\n\n" + f"Loop number {n} repeats *the block*. " * 40 for n in range(6)]


async def test_a_long_markdown_lesson_is_paged(
    bot: Harness, engine: Engine, course_file: Path
) -> None:
    edit_course(course_file, "loops", content="\n\n".join(SECTIONS))
    await engine.load_content(course_file)
    alice = await started(bot, 801)
    for label in ("Modules", "Python basics", "Loops"):
        reply = await alice.press(label)
    first = reply.text
    assert "<b>Part 0</b>" in first and "<i>the block</i>" in first and "## Part" not in first
    assert "Page 1 of " in first and len(first) < 4096
    pages = int(first.split("Page 1 of ")[1].split()[0])
    assert pages > 1
    assert set(turns(alice)) == {"on"} and "2 ▶" in alice.buttons()

    seen = [first]
    for page in range(2, pages + 1):
        reply = await alice.press_data(turns(alice)["on"])
        assert reply.methods == ["editMessageText"]
        assert f"Page {page} of {pages}" in reply.text and len(reply.text) < 4096
        seen.append(reply.text)
    assert set(turns(alice)) == {"back"} and f"◀ {pages - 1}" in alice.buttons()
    assert all(f"<b>Part {n}</b>" in "".join(seen) for n in range(len(SECTIONS)))

    reply = await alice.press_data(turns(alice)["back"])
    assert f"Page {pages - 1} of {pages}" in reply.text
    reply = await alice.press("Start")  # the lesson's buttons work from any page
    assert "Lesson started" in reply.text and "Page 1 of" in reply.text


async def test_a_page_the_lesson_no_longer_has(
    bot: Harness, engine: Engine, course_file: Path
) -> None:
    edit_course(course_file, "loops", content="\n\n".join(SECTIONS))
    await engine.load_content(course_file)
    bob = await started(bot, 802, "Bob")
    loops = await lesson_id(engine, "loops")
    reply = await bob.press_data(PageCb(owner=802, lesson_id=loops, page=999).pack())
    assert reply.answer_text == STALE
    assert set(turns(bob)) == {"back"}  # its last page
    for data in ("p:802:1:1000", "p:802:1:-1", "p:802:0:1", "p:802:x:1"):
        reply = await bob.press_data(data)
        assert reply.answer_text == STALE, data
    reply = await bob.press_data(PageCb(owner=803, lesson_id=loops, page=1).pack())
    assert reply.answer_text == "This button belongs to someone else's screen."

    edit_course(course_file, "loops", content="Short now.")
    await engine.load_content(course_file)
    reply = await bob.press_data(PageCb(owner=802, lesson_id=loops, page=2).pack())
    assert reply.answer_text == STALE and "Short now." in reply.text and "Page" not in reply.text
