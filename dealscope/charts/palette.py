"""The one palette of every chart (Altair here, the SVG of the weekly report): a colour per meaning.

Values are Vega's Tableau-10 shades, which stay distinguishable for the common colour-vision
deficiencies when green and red never carry a meaning alone (every chart also labels them).
"""

from __future__ import annotations

PRIMARY = "#4c78a8"  # blue: the main series, totals, created deals, deals that advanced
WON = "#54a24b"  # green: won deals, a rise, low risk
LOST = "#e45756"  # red: lost deals, a fall, high risk, an alert
HIGHLIGHT = "#f58518"  # orange: the one owner picked out against the team, the 75th percentile
STILL_OPEN = "#f2cf5b"  # yellow: deals still waiting in a funnel stage
SKIPPED = "#bab0ac"  # warm grey: deals that skipped a stage
CENSORED = "#9d9d9d"  # grey: deals open at the as-of date on survival curves
LOW_CONFIDENCE = "#b0b0b0"  # light grey: too few deals to trust (small samples, young cohorts)
REFERENCE = "#999999"  # dashed reference lines (perfect calibration)
MEDIUM_RISK = "#f2a93b"  # amber: between high (LOST) and low (WON) risk
MUTED_TEXT = "#9e9e9e"  # grey text for table rows with too little data (Streamlit stylers)

# Named roles built from the colours above.
RISE, FALL = WON, LOST
CREATED_WON_LOST = (PRIMARY, WON, LOST)
HIGH_MEDIUM_LOW_RISK = (LOST, MEDIUM_RISK, WON)
