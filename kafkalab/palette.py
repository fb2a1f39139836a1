"""The one palette: every colour kafkalab draws or prints, by name.

Figures (``kafkalab.viz``), the Lab's HTML (``kafkalab.widgets``), the report, the checks and
the grader's pages all take their colours from here; no other module writes a colour code
(``tests/viz/test_layering.py`` fails on a hex colour anywhere else). Pure: imports nothing.

Meaning is never carried by colour alone (figures add a symbol, a pattern or a word), and the
hues are Okabe–Ito's colour-blind-safe set (Okabe & Ito 2008).
"""

from __future__ import annotations

# Okabe–Ito, the colour-blind-safe palette (Okabe & Ito 2008).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
C = OKABE_ITO

BLACK = OKABE_ITO["black"]
ORANGE = OKABE_ITO["orange"]
SKY = OKABE_ITO["sky"]
GREEN = OKABE_ITO["green"]
BLUE = OKABE_ITO["blue"]
VERMILLION = OKABE_ITO["vermillion"]
PURPLE = OKABE_ITO["purple"]

# What each colour means where it means something: loss is vermillion, duplicates orange,
# agreement / "fine" green, the sweep's panel green, the real client's purple.
LOST = VERMILLION
DUPLICATE = ORANGE
AGREE = GREEN
DISAGREE = VERMILLION

# Neutrals, darkest first: text, outlines, rules and backgrounds.
INK = "#222222"  # body text of a standalone HTML page
DARK = "#333333"  # strong text, outlines of marks
CAPTION = "#444444"  # captions and story text
MUTED = "#555555"  # secondary text, thin outlines
FAINT = "#888888"  # footers
BORDER = "#9E9E9E"  # an input's border (JupyterLab's own default)
IDLE = "#BBBBBB"  # a data path with nothing on it
PALE = "#DDDDDD"  # not started / pending marks, rules
UNASSIGNED = "#E0E0E0"  # a partition not assigned to this member now
CELL = "#E8E8E8"  # the fill of a log cell
LIGHT = "#EEEEEE"  # table rules; "no such place" cells
HEADER = "#F0F0F0"  # table header rows
CODE_BACKGROUND = "#F3F3F3"
PAGE_BACKGROUND = "#FAFAFA"

# Accents of the Lab's HTML.
WARNING = "#8A5A00"  # dark amber text: why a tool cannot run here
ZERO = "#22AA77"  # a count that is zero (nothing lost, nothing duplicated)
ALERT_BACKGROUND = "#FFF3EC"  # vermillion tint: an error box, a row that differs
FOCUS = "#64B5F6"  # an input with the keyboard focus

# A check's or a graded task's status: (background, text).
STATUS = {
    "pass": ("#E8F5E9", "#2E7D32"),
    "fail": ("#FFEBEE", "#C62828"),
    "not done": ("#FFF8E1", "#8D6E00"),
    "error": ("#F3E5F5", "#6A1B9A"),
    "note": ("#ECEFF1", "#455A64"),
}
STATUS_TEXT = {status: text for status, (_background, text) in STATUS.items()}

