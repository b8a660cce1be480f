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

MAX_POINTS_IN_ALL = 1_000_000_000
"""Most points every stored rule together may give (disabled ones too: their holders keep
them), so that a learner holding every award, with lesson scores on top, fits the 32-bit
score columns (2,147,483,647)."""

MAX_FREEZES = 100
"""Most streak freezes one award or one admin grant may give."""
MAX_TITLE_LENGTH = 200
"""Longest title of an achievement, module or lesson (``title`` columns are VARCHAR(200)), in
every language."""

MAX_TEXT_BYTES = 65_535
"""Longest description, lesson content, question or list of answers, as UTF-8 bytes (their
columns are TEXT, which holds 65,535 bytes on MySQL/MariaDB), in every language."""
