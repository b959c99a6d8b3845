"""Durations as written in exports: `HH:mm:ss` clocks and numbers in a unit the header names."""

from __future__ import annotations

import pandas as pd

_CLOCK = r"^\s*(?:(?P<d>\d+)[d.]\s*)?(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}(?:\.\d+)?))?\s*$"


def parse_durations(values: pd.Series, unit_hint: str | None) -> pd.Series:
    """Durations as timedelta: `HH:mm:ss` (hours may exceed 24; `3d 04:00:00` / `3.04:00:00`),
    else numbers in the column's unit: `(ms)` / `(milliseconds)`, `(hours)`, `(seconds)`, else days
    (Salesforce Stage Duration, 停留天数); a number above 10^6 without a unit is milliseconds
    (HubSpot API `hs_time_in_*`). Unparseable cells are null."""
    text = values.astype("string").str.strip()
    clock = text.str.extract(_CLOCK)
    out = (
        pd.to_timedelta(pd.to_numeric(clock["d"]).fillna(0), unit="D")
        + pd.to_timedelta(pd.to_numeric(clock["h"]), unit="h")
        + pd.to_timedelta(pd.to_numeric(clock["m"]), unit="m")
        + pd.to_timedelta(pd.to_numeric(clock["s"]).fillna(0), unit="s")
    )
    number = pd.to_numeric(text.where(clock["h"].isna()).str.replace(",", ".", regex=False),
                           errors="coerce")  # fmt: skip
    hint = (unit_hint or "").casefold()
    unit = (
        "ms" if "ms" in hint or "milli" in hint else "h" if "hour" in hint or "小时" in hint
        else "s" if "second" in hint or "秒" in hint else None
    )  # fmt: skip
    if unit is None:
        unit = "ms" if (number.dropna() > 1e6).any() else "D"
    numeric = pd.to_timedelta(number.where(number >= 0), unit=unit)
    return out.where(out.notna(), numeric)
