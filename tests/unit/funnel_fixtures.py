"""Small hand-made pipelines for the funnel tests; every expected number is worked out in the tests.

Stages A, B, C (open), W (won), L (lost); as of 2025-02-01.

deal  events (January 2025)        status at as-of   notes
d1    A B C W                      won
d2    A B L                        lost              lost at B, reason "价格"
d3    A C W                        won               skips B
d4    A B C B                      open              moves back C → B; furthest C
d5    A L B                        open              reopened after a loss; now at B
d6    A                            open
d7    (none)                       open              no stage history
d8    A B C W C L                  lost              won, reopened, then lost at C; no reason
d9    A  (B on 2025-03-01)         open              the B event is after as-of: ignored
"""

from __future__ import annotations

import pandas as pd

from dealscope.model import normalise_opportunities, normalise_stage_events, normalise_stages

AS_OF = pd.Timestamp("2025-02-01")
STAGE_ROWS = [
    ("A", 0, "open"),
    ("B", 1, "open"),
    ("C", 2, "open"),
    ("W", 3, "won"),
    ("L", 4, "lost"),
]
NAMES = ["A", "B", "C", "W"]

PATHS = {
    "d1": "A B C W",
    "d2": "A B L",
    "d3": "A C W",
    "d4": "A B C B",
    "d5": "A L B",
    "d6": "A",
    "d7": "",
    "d8": "A B C W C L",
    "d9": "A",
}
STATUS = {"d1": "won", "d2": "lost", "d3": "won", "d8": "lost"}
CURRENT = {"d1": "W", "d2": "L", "d3": "W", "d4": "B", "d5": "B", "d6": "A", "d7": "A", "d8": "L"}
REGION = {"d1": "东", "d2": "东", "d3": "东", "d4": "西", "d5": "西", "d6": "西", "d7": "西"}


def stages() -> pd.DataFrame:
    return normalise_stages(pd.DataFrame(STAGE_ROWS, columns=["stage", "position", "kind"]))


def opportunities() -> pd.DataFrame:
    ids = list(PATHS)
    created = ["2024-11-05"] * 4 + ["2024-12-10"] * 5
    return normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": ids,
                "name": [f"deal {i}" for i in ids],
                "region": [REGION.get(i) for i in ids],
                "amount": [100.0 * (n + 1) for n in range(len(ids))],
                "currency": "CNY",
                "stage": [CURRENT.get(i, "A") for i in ids],
                "status": [STATUS.get(i, "open") for i in ids],
                "created_at": created,
                "closed_at": ["2025-01-20" if i in STATUS else None for i in ids],
                "lost_reason": ["价格" if i == "d2" else None for i in ids],
            }
        )
    )


def stage_events() -> pd.DataFrame:
    rows = []
    for deal, path in PATHS.items():
        for day, stage in enumerate(path.split(), start=1):
            rows.append((deal, stage, f"2025-01-{day:02d}"))
    rows.append(("d9", "B", "2025-03-01"))
    return normalise_stage_events(
        pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])
    )


def two_region_pipeline(x=(30, 10), y=(20, 20), created="2025-01-02"):
    """Deals entering A: region X advances x[0] and loses x[1] at A; region Y likewise with y."""
    opps, events = [], []
    for region, (advance, lose) in (("X", x), ("Y", y)):
        for n in range(advance + lose):
            deal = f"{region}{n:03d}"
            lost = n >= advance
            opps.append((deal, region, "L" if lost else "B", "lost" if lost else "open"))
            events.append((deal, "A", "2025-01-03"))
            events.append((deal, "L" if lost else "B", "2025-01-10"))
    frame = pd.DataFrame(opps, columns=["opportunity_id", "region", "stage", "status"])
    frame = frame.assign(
        created_at=created,
        closed_at=frame["status"].map({"lost": "2025-01-10"}),
        amount=1.0,
        currency="CNY",
    )
    return (
        normalise_opportunities(frame),
        normalise_stage_events(
            pd.DataFrame(events, columns=["opportunity_id", "stage", "entered_at"])
        ),
    )
