"""Discovery of plugins through entry points, and async-aware hook calls."""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pluggy import HookImpl
from sqlalchemy.exc import DBAPIError

from questline.plugins import DISABLE_ENV, DeliverElsewhere, DeliveryHeld, PluginError, hookspecs

ENTRY_POINT_GROUP = "questline"
PREFIX = "questline_"  # of every hook's name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginInfo:
    """What `questline plugins` shows about one loaded plugin."""

    name: str
    hooks: tuple[str, ...]
    distribution: str | None


@dataclass
class Outcome:
    """What the plugins made of one notification, by plugin name."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, Exception]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    """Plugins that cannot deliver in this process (`DeliverElsewhere`)."""
    held: list[str] = field(default_factory=list)
    """Plugins that will deliver it later in this process (`DeliveryHeld`)."""


def disabled_from_env() -> frozenset[str]:
    """Plugin names listed, comma-separated, in QUESTLINE_DISABLE_PLUGINS."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for the `questline` project, with awaited hook calls."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)

    async def acall(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook's implementations in pluggy's order, each awaited before the next is
        called; the first to raise stops the call (none is left created but never awaited),
        with a PluginError naming it (a database error stays what it is)."""
        results = []
        for impl in self._in_order(hook_name):
            try:
                results.append(await _awaited(impl, kwargs))
            except (PluginError, DBAPIError):
                raise
            except Exception as error:
                raise PluginError.failed(impl.plugin_name, hook_name, error) from error
        return results

    async def anotify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a notification hook; a failing implementation is logged, never raised.

        Implementations run in pluggy's order: `tryfirst` ones first, else the latest registered.
        """
        for impl in self._in_order(hook_name):
            try:
                await _awaited(impl, kwargs)
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    async def adeliver(
        self, hook_name: str, *, skip: Collection[str] = (), **kwargs: Any
    ) -> Outcome:
        """Call every implementation of a hook not named in `skip`, each whatever the others do;
        what each plugin made of it."""
        outcome = Outcome()
        for impl in self._in_order(hook_name):
            if impl.plugin_name in skip:
                continue
            try:
                await _awaited(impl, kwargs)
            except DeliverElsewhere:
                outcome.elsewhere.append(impl.plugin_name)
            except DeliveryHeld:
                outcome.held.append(impl.plugin_name)
            except Exception as error:
                outcome.failed.append((impl.plugin_name, error))
            else:
                outcome.succeeded.append(impl.plugin_name)
        return outcome

    def _in_order(self, hook_name: str) -> list[HookImpl]:
        """A hook's implementations in pluggy's order: `tryfirst` ones first, else the latest
        registered."""
        return list(reversed(getattr(self.hook, hook_name).get_hookimpls()))

    def describe(self) -> list[PluginInfo]:
        """Every registered plugin with the hooks it implements, sorted by name (blocked: none)."""
        distributions = {
            self.get_name(plugin): dist.project_name for plugin, dist in self.list_plugin_distinfo()
        }
        infos = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # a blocked name
                continue
            hooks = tuple(sorted(caller.name for caller in self.get_hookcallers(plugin) or ()))
            infos.append(PluginInfo(name, hooks, distributions.get(name)))
        return sorted(infos, key=lambda info: info.name)


def build_plugin_manager(
    *, load_entry_points: bool = True, disabled: Collection[str] | None = None
) -> PluginManager:
    """A manager with the plugins installed under the `questline` entry-point group.

    Plugins named in `disabled` (default: QUESTLINE_DISABLE_PLUGINS) are blocked by name.
    """
    manager = PluginManager()
    blocked = disabled_from_env() if disabled is None else frozenset(disabled)
    for name in blocked:
        manager.set_blocked(name)
    if load_entry_points:
        installed = {entry_point.name for entry_point in _entry_points()}
        unknown = sorted(blocked - installed - {BUILTIN_FACTS})
        if unknown and disabled is None:
            log.warning(
                "%s names %s, but no installed plugin is called so (installed: %s)",
                DISABLE_ENV,
                ", ".join(f'"{name}"' for name in unknown),
                ", ".join(sorted(installed | {BUILTIN_FACTS})),
            )
        _load_each(manager)
    _check_hook_names(manager)
    return manager


BUILTIN_FACTS = "questline.facts"
"""The name the engine registers its built-in fact providers under (blocking it removes them)."""


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _check_hook_names(manager: PluginManager) -> None:
    """A hook implementation named after no questline hook (a misspelling, most likely) is a
    PluginError naming its plugin and the hook it is closest to."""
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        plugin = manager.get_name(error.plugin)
        callers = manager.get_hookcallers(error.plugin) or []
        unknown = next(caller.name for caller in callers if not caller.has_spec())
        # compared without the prefix every hook shares, which alone makes names look close
        hooks = [name.removeprefix(PREFIX) for name in vars(hookspecs) if name.startswith(PREFIX)]
        closest = difflib.get_close_matches(unknown.removeprefix(PREFIX), hooks, n=1)
        hint = f' (did you mean "{PREFIX}{closest[0]}"?)' if closest else ""
        raise PluginError(
            f'plugin "{plugin}" cannot be loaded: "{unknown}" is no questline hook{hint}; '
            f"fix it, or start without it with {DISABLE_ENV}={plugin}"
        ) from None


def _load_each(manager: PluginManager) -> None:
    """Load the installed plugins that are not blocked; one that cannot be loaded or whose
    hooks do not fit their specifications is a PluginError naming it."""
    for entry_point in _entry_points():
        if manager.is_blocked(entry_point.name) or manager.has_plugin(entry_point.name):
            continue
        try:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=entry_point.name)
        except Exception as error:
            raise PluginError(
                f'plugin "{entry_point.name}" ({entry_point.value}) cannot be loaded: '
                f"{type(error).__name__}: {error}; uninstall it, or start without it with "
                f"{DISABLE_ENV}={entry_point.name}"
            ) from error


async def _awaited(impl: HookImpl, kwargs: dict[str, Any]) -> Any:
    """Call one implementation with the arguments it takes, and await its result if it is
    awaitable."""
    result = impl.function(*(kwargs[arg] for arg in impl.argnames))
    return await result if inspect.isawaitable(result) else result
