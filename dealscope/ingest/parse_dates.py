"""Date parsing per cell (D1–D7): ISO and Chinese forms, D/M order inferred per column,
Excel serials (1900/1904), epoch ms, time zones normalised; every failure is a flagged cell."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.ingest.nulls import null_mask
from dealscope.ingest.rawtable import TEXT, arrow_text, as_text

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Excel serials outside 2000-01-01 .. 2099-12-31 are implausible for a CRM export (D4).
SERIAL_MIN, SERIAL_MAX = 36526, 73050
PLACEHOLDER_YEARS = (1900, 2100)  # dates at or before / at or after these are placeholders (D6)
EXCEL_ORIGINS = {"1900": pd.Timestamp("1899-12-30"), "1904": pd.Timestamp("1904-01-01")}
_TIME = r"(?:[ T]+(?P<H>\d{1,2})[:时](?P<M>\d{2})(?:[:分](?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?秒?)?"
_TZ = r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
YMD = rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}{_TZ}$"
CJK = rf"^(?P<y>\d{{4}})年(?P<m>\d{{1,2}})月(?P<d>\d{{1,2}})[日号]?{_TIME}{_TZ}$"
CJK_NO_YEAR = r"^(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?$"
DMY = rf"^(?P<a>\d{{1,2}})[-/.](?P<b>\d{{1,2}})[-/.](?P<y>\d{{4}}){_TIME}{_TZ}$"
SERIAL = r"^\d{4,5}(?:\.\d+)?$"
ISO_PLAIN = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
EPOCH_MS = r"^\d{12,13}$"
PLACEHOLDER = (
    r"^(?:0000-00-00.*|\d{4}[-/.]\d{1,2}[-/.]00?(?:\D.*)?|9999[-/.].*|1900[-/.]0?1[-/.]0?[01]"
    r"(?:\D.*)?|待定|未知|tbd|unknown|\?+)$"
)


@dataclass(frozen=True)
class DateResult:
    """Parsed dates (naive, in the declared zone) and the per-cell issue code (None when fine)."""

    values: pd.Series
    issues: pd.Series
    day_first: bool | None
    note: str | None


def _number(values) -> pd.Series:
    return pd.to_numeric(values.astype(object), errors="coerce").astype("float64")


def _components(parts: pd.DataFrame, year, month, day) -> pd.Series:
    frame = pd.DataFrame(
        {
            "year": _number(year),
            "month": _number(month),
            "day": _number(day),
            "hour": _number(parts["H"]).fillna(0),
            "minute": _number(parts["M"]).fillna(0),
            "second": _number(parts["S"]).fillna(0),
        }
    )
    bad = frame[["year", "month", "day"]].isna().any(axis=1) | (
        frame[["hour", "minute", "second"]] > 60
    ).any(axis=1)
    frame.loc[bad, ["year", "month", "day"]] = [2000.0, 1.0, 1.0]
    return pd.to_datetime(frame, errors="coerce").mask(bad)


def _apply_zone(stamps: pd.Series, tz: pd.Series, zone: str) -> pd.Series:
    """Convert values that carried an offset into `zone`; naive values are already in it (D7)."""
    tz = tz.astype(object).where(tz.notna(), "").astype(str)
    aware = tz != ""
    if not aware.any():
        return stamps
    text = tz.where(~tz.isin(["Z", "UTC", "GMT"]), "+00:00").str.replace(
        r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True
    )
    sign = np.where(text.str[:1] == "-", -1, 1)
    hours = pd.to_numeric(text.str[1:3], errors="coerce").fillna(0)
    minutes = pd.to_numeric(text.str[4:6], errors="coerce").fillna(0)
    offset = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")
    utc = (stamps - offset).dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    return stamps.where(~aware, utc)


def infer_day_first(columns: list[pd.Series]) -> bool | None:
    """Day/month order shared by a file's date columns: True/False when the unambiguous values
    (a part above 12) agree, None when there is no evidence or it conflicts."""
    day = month = False
    for values in columns:
        text = as_text(values)
        if not text.str.contains(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", regex=True).any():
            continue  # no D/M/Y-shaped value (an Arrow scan): skip the per-distinct work
        distinct = pd.Series(text.dropna().unique(), dtype=TEXT).str.strip()
        candidates = distinct[distinct.str.contains(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", regex=True)]
        if candidates.empty:  # no D/M/Y-shaped value: no evidence (skips the costly extract)
            continue
        parts = candidates.astype(object).str.extract(DMY).dropna(subset=["y"])
        day |= bool((_number(parts["a"]) > 12).any())
        month |= bool((_number(parts["b"]) > 12).any())
    return day if day != month else None


# Month names of the exports' other UI languages (nl, de, fr, es, pt, it, ru) -> English, so that
# `12-mrt-2024`, `3. März 2024`, `5 févr. 2024`, `5 de marzo de 2024` parse like `12-Mar-2024`.
_MONTHS = {
    "jan": ("januari", "januar", "janvier", "janv", "enero", "ene", "janeiro", "gennaio", "gen",
            "января", "январь", "янв", "jänner", "jän"),
    "feb": ("februari", "februar", "février", "fevrier", "févr", "fevr", "febrero", "fevereiro",
            "fev", "febbraio", "февраля", "февраль", "фев"),
    "mar": ("maart", "mrt", "märz", "maerz", "mär", "mars", "marzo", "março", "marco", "марта",
            "март", "мар"),
    "apr": ("april", "avril", "avr", "abril", "abr", "aprile", "апреля", "апрель", "апр"),
    "may": ("mei", "mai", "mayo", "maio", "maggio", "mag", "мая", "май"),
    "jun": ("juni", "juin", "junio", "junho", "giugno", "giu", "июня", "июнь", "июн"),
    "jul": ("juli", "juillet", "juil", "julio", "julho", "luglio", "lug", "июля", "июль", "июл"),
    "aug": ("augustus", "august", "août", "aout", "agosto", "ago", "августа", "август", "авг"),
    "sep": ("september", "septembre", "sept", "septiembre", "setembro", "set", "settembre",
            "сентября", "сентябрь", "сен"),
    "oct": ("oktober", "okt", "octobre", "octubre", "outubro", "out", "ottobre", "ott",
            "октября", "октябрь", "окт"),
    "nov": ("november", "novembre", "noviembre", "novembro", "ноября", "ноябрь", "ноя"),
    "dec": ("december", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic",
            "dezembro", "dicembre", "декабря", "декабрь", "дек"),
}  # fmt: skip
_MONTH_WORD = {word: english for english, words in _MONTHS.items() for word in words}
_MONTH_PATTERN = re.compile(
    r"(?<![^\W\d_])("
    + "|".join(sorted(map(re.escape, _MONTH_WORD), key=len, reverse=True))
    + r")\.?(?![^\W\d_])",
    re.IGNORECASE,
)
_FILLER = re.compile(r"\b(?:de|del|van|le|der)\b|г\.?$", re.IGNORECASE)


def _english_months(text: str) -> str:
    """One distinct date text with a foreign month name put in English (else unchanged)."""
    out = _MONTH_PATTERN.sub(lambda m: _MONTH_WORD[m.group(1).casefold()], text)
    return _FILLER.sub(" ", out) if out != text else text


def parse_dates(
    values: pd.Series,
    *,
    zone: str = DEFAULT_TIMEZONE,
    epoch: str = "1900",
    day_first: bool | None = None,
) -> DateResult:
    """Parse one date column of text cells (index kept). Issues: bad-date, ambiguous-date,
    no-year-date, placeholder-date, implausible-date; null tokens give null without an issue.

    Each distinct text is parsed once (dates repeat), then spread back to the cells.
    """
    clean = _clean_iso_column(values)
    if clean is not None:
        return DateResult(
            clean, pd.Series(None, index=values.index, dtype="object"), day_first, None
        )
    codes, uniques = pd.factorize(as_text(values).fillna(""))
    core = _parse_distinct(pd.Series(uniques, dtype=TEXT), zone, epoch, day_first)
    return DateResult(
        pd.Series(core.values.to_numpy()[codes], index=values.index, dtype="datetime64[ns]"),
        pd.Series(core.issues.to_numpy(dtype=object)[codes], index=values.index, dtype="object"),
        core.day_first,
        core.note,
    )


def _clean_iso_column(values: pd.Series) -> pd.Series | None:
    """The parsed column when every cell is empty or a plain ISO date/time (what most exports
    write), else None. One Arrow regex check and one Arrow cast, in C over the whole column: the
    per-value path below gives the same result on such a column at several times the cost.
    Placeholder years (D6) send the column to that path, which flags them."""
    text = arrow_text(values)
    if text.null_count or not pc.all(pc.match_substring_regex(text, f"^(?:{ISO_PLAIN})?$")).as_py():
        return None
    try:
        stamps = pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.timestamp("ns"))
    except pa.ArrowInvalid:  # e.g. 2024-02-30: the per-value path names the bad cells
        return None
    years = pc.year(stamps)
    if pc.any(pc.or_(pc.less_equal(years, PLACEHOLDER_YEARS[0]),
                     pc.greater_equal(years, PLACEHOLDER_YEARS[1]))).as_py():  # fmt: skip
        return None
    return pd.Series(
        stamps.to_numpy(zero_copy_only=False), index=values.index, dtype="datetime64[ns]"
    )


def _parse_distinct(values: pd.Series, zone: str, epoch: str, day_first: bool | None) -> DateResult:
    """parse_dates over distinct texts: an ISO fast path, then the other forms on the rest."""
    if values.empty:
        empty_values = pd.Series(dtype="datetime64[ns]", index=values.index)
        return DateResult(
            empty_values, pd.Series(None, index=values.index, dtype="object"), day_first, None
        )
    text = as_text(values).fillna("").str.strip()
    if text.str.contains(r"[^\x00-\x7f]", regex=True).any():
        distinct = text.unique()
        normal = {v: unicodedata.normalize("NFKC", v) for v in distinct}  # distinct values only
        text = as_text(text.map(normal))
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    issue = pd.Series(None, index=text.index, dtype="object")
    empty = null_mask(text)
    placeholder = ~empty & text.str.lower().str.fullmatch(PLACEHOLDER).astype(bool)
    issue[placeholder] = "placeholder-date"
    todo = ~empty & ~placeholder
    iso = todo & text.str.fullmatch(ISO_PLAIN).fillna(False).astype(bool)
    if iso.any():  # the common case, in C: 2024-03-05 / 2024-03-05 14:30[:00[.fff]]
        out[iso] = pd.to_datetime(text[iso].astype(object), format="ISO8601", errors="coerce")
        todo &= ~iso
    found = []
    for pattern in (YMD, CJK) if todo.any() else ():  # each step skipped once nothing is left
        parts = text[todo].str.extract(pattern)
        hit = parts["y"].notna()
        if hit.any():
            found.append(parts[hit])
            todo[parts.index[hit]] = False
    if found:  # both forms in one conversion; a matched but impossible date ends as bad-date
        parts = pd.concat(found) if len(found) > 1 else found[0]
        stamps = _zoned(parts, parts["y"], parts["m"], parts["d"], zone)
        out[stamps.index] = stamps
    # D/M/Y or M/D/Y: decided per column from values where one part is above 12 (D2).
    parts = text[todo].str.extract(DMY) if todo.any() else pd.DataFrame(columns=["y"])
    parts = parts[parts["y"].notna()]
    note = None
    if not parts.empty:
        a, b = _number(parts["a"]), _number(parts["b"])
        day_evidence, month_evidence = bool((a > 12).any()), bool((b > 12).any())
        if day_first is None and day_evidence != month_evidence:
            day_first = day_evidence
        if day_first is None:
            note = "ambiguous-date-order"
            certain = a == b
            stamps = _zoned(parts[certain], parts["y"], parts["a"], parts["b"], zone)
            out[stamps.index] = stamps
            issue[parts.index[~certain]] = "ambiguous-date"
        else:
            day, month = (parts["a"], parts["b"]) if day_first else (parts["b"], parts["a"])
            stamps = _zoned(parts, parts["y"], month, day, zone)
            out[stamps.index] = stamps
        todo[parts.index] = False
    serial = todo & text.str.fullmatch(SERIAL) if todo.any() else todo
    if serial.any():
        number = _number(text[serial])
        plausible = number.between(SERIAL_MIN, SERIAL_MAX)
        origin = EXCEL_ORIGINS.get(epoch, EXCEL_ORIGINS["1900"])
        out[number.index[plausible]] = origin + pd.to_timedelta(number[plausible], unit="D")
        issue[number.index[~plausible]] = "implausible-date"
        todo &= ~serial
    epoch_ms = todo & text.str.fullmatch(EPOCH_MS) if todo.any() else todo
    if epoch_ms.any():
        stamps = pd.to_datetime(_number(text[epoch_ms]), unit="ms", utc=True)
        out[stamps.index] = stamps.dt.tz_convert(zone).dt.tz_localize(None)
        todo &= ~epoch_ms
    if todo.any():
        no_year = todo & text.str.fullmatch(CJK_NO_YEAR)
        issue[no_year[no_year].index] = "no-year-date"
        todo &= ~no_year
    if todo.any():  # month names ("Mar 5, 2024"): dateutil over distinct leftovers only
        rest = text[todo]
        named = rest[rest.str.contains("[A-Za-z\u00c0-\u024f\u0400-\u04ff]{3}", regex=True)]
        parsed = {
            v: pd.to_datetime(_english_months(v), errors="coerce", format="mixed")
            for v in named.unique()
        }
        stamps = named.map(parsed)
        good = stamps.notna()
        stamps = stamps[good].map(
            lambda ts: ts.tz_convert(zone).tz_localize(None) if ts.tzinfo else ts
        )
        out[stamps.index] = pd.to_datetime(stamps)
        issue[rest.index.difference(stamps.index)] = "bad-date"
    parsed_but_invalid = (~empty) & out.isna() & issue.isna()
    issue[parsed_but_invalid] = "bad-date"
    years = out.dt.year
    fake = (years <= PLACEHOLDER_YEARS[0]) | (years >= PLACEHOLDER_YEARS[1])
    issue[fake] = "placeholder-date"
    out[fake] = pd.NaT
    return DateResult(out, issue, day_first, note)


def _zoned(parts: pd.DataFrame, year, month, day, zone: str) -> pd.Series:
    stamps = _components(parts, year, month, day)
    if "f" in parts and parts["f"].notna().any():
        fraction = _number("0." + parts["f"].fillna("0")).fillna(0)
        stamps = stamps + pd.to_timedelta(fraction, unit="s")
    return _apply_zone(stamps, parts["tz"], zone).dropna()
