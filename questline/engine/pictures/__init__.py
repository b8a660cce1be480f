"""Pictures a learner would rather look at than read: pure functions from data to PNG bytes.

The data comes from the engine (`Engine.activity_calendar`, `Engine.top`, awards); the words
come from the caller, in the learner's language.
"""

from questline.engine.pictures.card import Card, render_card
from questline.engine.pictures.heatmap import HeatmapText, render_heatmap
from questline.engine.pictures.leaderboard import BoardText, render_leaderboard

__all__ = [
    "BoardText",
    "Card",
    "HeatmapText",
    "render_card",
    "render_heatmap",
    "render_leaderboard",
]
