"""Screens: the text and inline keyboard of each thing the bot shows, built from engine views.

Screens only format; handlers fetch from the engine and send or edit.
"""

from questline.adapters.telegram.screens.base import Screen

__all__ = ["Screen"]
