"""The achievements screen over the Bot API: the closest first, the rest behind "Show all"."""

from __future__ import annotations

from questline.engine import Engine
from tests.telegram.harness import Harness
from tests.telegram.test_bad_input import started


async def test_show_all_unfolds_and_show_fewer_folds_again(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 901)
    reply = await alice.send("/achievements")
    assert reply.text.startswith("🏆 <b>Achievements</b> · 0/4 earned")
    assert reply.text.count("🔒") == 3 and "…and 1 more locked." in reply.text
    assert "None yet — your first one is close!" in reply.text

    reply = await alice.press("Show all (4)")
    assert reply.methods == ["editMessageText"]
    assert reply.text.count("🔒") == 4 and "<b>Locked</b>" in reply.text
    assert "more locked" not in reply.text

    reply = await alice.press("Show fewer")
    assert reply.text.count("🔒") == 3 and "Show all (4)" in alice.buttons()
    assert len(await engine.achievements(telegram_id=901)) == 4
