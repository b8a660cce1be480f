"""A plugin installed with pip is found through its `questline` entry point and used end to end.

The distribution is written as a wheel by hand and installed with pip into a directory that is
put on sys.path for the test only: that needs no build backend and no network, and other test
sessions sharing the virtual environment never see the plugin, even if this one crashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event
from questline.engine.errors import RulesError
from questline.plugins.manager import DISABLE_ENV, build_plugin_manager
from questline.rules.vocabulary import ActivityType

from .conftest import T0, register

DIST = "throwaway_plugin"
VERSION = "0.0.1"

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """A throwaway questline plugin: one fact, one operator and two notification recorders."""

    from questline.engine.models import ActivityLog
    from questline.plugins import hookimpl
    from questline.rules.facts import FactSpec, FactType
    from questline.rules.vocabulary import ActivityType

    SEEN = []


    class LuckFacts:
        namespace = "throwaway"

        def specs(self):
            return [
                FactSpec(
                    name="throwaway.lucky_number",
                    type=FactType.INT,
                    description="Always 7.",
                    changed_by=frozenset({ActivityType.LOGIN}),
                )
            ]

        async def provide(self, context, names):
            return {"lucky_number": 7}


    @hookimpl
    def questline_fact_providers():
        return [LuckFacts()]


    @hookimpl
    def questline_operators():
        return {"throwaway_double": lambda value: value * 2}


    @hookimpl
    async def questline_event_recorded(engine, event, result):
        async with engine.sessions() as session:
            committed = await session.get(ActivityLog, result.activity_id) is not None
        SEEN.append(("event", event.type, committed))


    @hookimpl
    async def questline_award_granted(engine, award):
        statuses = await engine.achievements(user_id=award.user_id)
        committed = any(s.slug == award.slug and s.earned_at for s in statuses)
        SEEN.append(("award", award.slug, committed))
    '''
)

RULE = {
    "slug": "lucky-login",
    "type": "MILESTONE",
    "title": "Lucky login",
    "points": 7,
    "criteria": {"==": [{"throwaway_double": [{"var": "throwaway.lucky_number"}]}, 14]},
}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(
    folder: Path,
    dist: str = DIST,
    modules: dict[str, str] | None = None,
    entry_point: str = f"throwaway = {DIST}",
) -> Path:
    """A pure-Python wheel holding the plugin's `modules` (default: the throwaway plugin) and
    its `questline` entry point."""
    info = f"{dist}-{VERSION}.dist-info"
    files = {
        **({f"{DIST}.py": PLUGIN_SOURCE} if modules is None else modules),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {VERSION}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: questline-tests\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{info}/entry_points.txt": f"[questline]\n{entry_point}\n",
    }
    path = folder / f"{dist}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        records = []
        for name, text in files.items():
            data = text.encode()
            wheel.writestr(name, data)
            records.append(_record_line(name, data))
        records.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return path


def pip_install(wheel: Path, target: Path) -> None:
    """Install `wheel` into the folder `target` (offline, no dependencies)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder pip installed the throwaway distribution into (not yet on sys.path)."""
    target = tmp_path_factory.mktemp("throwaway-site")
    pip_install(write_wheel(tmp_path_factory.mktemp("throwaway-build")), target)
    yield target
    sys.modules.pop(DIST, None)


@pytest.fixture
def plugin_on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    yield
    sys.modules.pop(DIST, None)


def plugin_module() -> ModuleType:
    return sys.modules[DIST]


def test_the_installed_distribution_declares_the_entry_point(installed: Path) -> None:
    entry_points = installed / f"{DIST}-{VERSION}.dist-info" / "entry_points.txt"
    assert "throwaway = throwaway_plugin" in entry_points.read_text()


@pytest.mark.usefixtures("plugin_on_path")
async def test_an_installed_plugin_supplies_facts_operators_and_hears_awards(
    db: AsyncEngine, tmp_path: Path
) -> None:
    manager = build_plugin_manager()
    described = {info.name: info for info in manager.describe()}
    assert described["throwaway"].distribution == DIST
    assert described["throwaway"].hooks == (
        "questline_award_granted",
        "questline_event_recorded",
        "questline_fact_providers",
        "questline_operators",
    )

    engine = Engine(bind=db, plugin_manager=manager)
    rule_file = tmp_path / "lucky.json"
    rule_file.write_text(json.dumps(RULE))
    report = await engine.load_rules([rule_file])
    assert report.created == ["lucky-login"]
    user = await register(engine)

    result = await engine.record(Event(type=ActivityType.LOGIN, user_id=user.id, occurred_at=T0))
    assert plugin_module().SEEN == []  # delivered by a dispatcher, not by record()
    assert await engine.deliver_outbox() == 2

    assert [award.slug for award in result.awards] == ["lucky-login"]
    assert plugin_module().SEEN == [
        ("event", ActivityType.LOGIN, True),
        ("award", "lucky-login", True),
    ]


@pytest.mark.usefixtures("plugin_on_path")
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_disabled_plugin_is_not_loaded(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "environment":
        monkeypatch.setenv(DISABLE_ENV, "someone-else, throwaway")
        manager = build_plugin_manager()
    else:
        manager = build_plugin_manager(disabled={"throwaway"})

    assert manager.is_blocked("throwaway")
    assert "throwaway" not in {info.name for info in manager.describe()}
    engine = Engine(plugin_manager=manager)  # never connects: only rules are validated
    rule_file = tmp_path / "lucky.json"
    rule_file.write_text(json.dumps(RULE))
    with pytest.raises(RulesError, match="throwaway"):
        engine.validate_rules([rule_file])
