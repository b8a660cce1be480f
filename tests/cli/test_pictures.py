"""`questline progress --png` and the demo's pictures."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from questline.engine.pictures import heatmap
from tests.cli.conftest import Invoke, run_cli, write_lines
from tests.cli.test_commands import LEARNER, event, register


def assert_png(path: Path, size: tuple[int, int] | None = None) -> None:
    data = path.read_bytes()
    Image.open(io.BytesIO(data)).verify()
    if size is not None:
        assert Image.open(io.BytesIO(data)).size == size


def record_recent(invoke: Invoke, course: list[int], tmp_path: Path) -> None:
    """Yesterday, the learner logged in and completed the first lesson."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    lines = [
        event("LOGIN", occurred_at=yesterday),
        event("LESSON_COMPLETED", course[0], score=90, occurred_at=yesterday),
    ]
    result = invoke("events", "ingest", str(write_lines(tmp_path / "recent.jsonl", lines)))
    assert result.exit_code == 0, result.output


def test_progress_png_writes_the_heatmap(invoke: Invoke, course: list[int], tmp_path: Path) -> None:
    register(invoke)
    record_recent(invoke, course, tmp_path)
    out = tmp_path / "out.png"
    result = invoke("progress", str(LEARNER), "--png", str(out))
    assert result.exit_code == 0, result.output
    assert f"heat-map of the last 12 weeks: {out}" in result.output
    assert "Progress of Ada" in result.output
    assert_png(out, heatmap.size(12))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_progress_png_bad_targets_write_nothing(
    invoke: Invoke, course: list[int], tmp_path: Path
) -> None:
    register(invoke)
    missing = tmp_path / "no-such-folder" / "out.png"
    result = invoke("progress", str(LEARNER), "--png", str(missing))
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {missing}: No such file or directory\n"

    folder = invoke("progress", str(LEARNER), "--png", str(tmp_path))
    assert folder.exit_code == 2
    assert "is a directory" in folder.stderr

    stranger = tmp_path / "stranger.png"
    unknown = invoke("progress", "999", "--png", str(stranger))
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: unknown user: no learner with telegram_id 999\n"
    assert list(tmp_path.iterdir()) == []


def test_the_demo_draws_three_pictures(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    folder = tmp_path / "pictures"
    args = ["demo", "--database", str(database), "--learners", "6", "--weeks", "2"]
    result = run_cli([*args, "--pictures", str(folder)], {"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["card.png", "heatmap.png", "leaderboard.png"]
    for name in names:
        assert_png(folder / name)
        assert str(folder / name) in result.output
