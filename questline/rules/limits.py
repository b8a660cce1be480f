"""Size and cost limits for rules, in one place."""

MAX_CRITERIA_BYTES = 16 * 1024
"""Largest ``criteria`` accepted, as compact UTF-8 JSON."""

MAX_CRITERIA_DEPTH = 32
"""Deepest nesting of objects/arrays accepted in ``criteria``."""

DEFAULT_OPS_BUDGET = 10_000
"""Operations one rule may charge per evaluation before it is stopped (see evaluation)."""

MAX_FILE_DEPTH = 100
"""Deepest nesting of objects/arrays in a rule or course file (JSON or YAML)."""

MAX_POINTS = 1_000_000
"""Most points one award may give (``achievements.points`` is a 32-bit column, and the
leaderboard's total of all awards must fit one too)."""

MAX_FREEZES = 100
"""Most streak freezes one award or one admin grant may give."""
MAX_TITLE_LENGTH = 200
"""Longest title of an achievement, module or lesson (``title`` columns are VARCHAR(200)), in
every language."""
