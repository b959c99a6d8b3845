"""The shared sidebar: language, dataset, period and segment filters, bound to the URL.

Every query value is validated against the allowed options before it reaches a widget, so a
hand-edited link can never inject a value; invalid ones are ignored and listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from dealscope.filters import FILTER_COLUMNS, Filters, segment_options
from dealscope.formatting import escape_markdown
from dealscope.i18n import LANGUAGE_LABELS, LANGUAGES, normalise_language
from dealscope.model import Dataset
from dealscope.periods import (
    ALL,
    CUSTOM,
    PRESETS,
    DateRange,
    PresetPeriod,
    default_preset,
    previous_of_range,
    resolve_preset,
)
from ui.context import ViewContext, set_view
from ui.loaders import load_dataset, load_dataset_list, load_filtered
from ui.state import LANG_KEY, tr

_DATASET_KEY = "flt_dataset"
_PERIOD_KEY = "flt_period"
_PERIOD_LAST_KEY = "_flt_period_last"
_PERIOD_DATASET_KEY = "_flt_period_dataset"
_PRESET_KEY = "flt_period_preset"
# True while the preset is the default (re-chosen for each dataset and as-of), not the user's pick.
_PRESET_DEFAULTED_KEY = "_flt_period_defaulted"
_AS_OF_KEY = "flt_as_of"
_AS_OF_DATASET_KEY = "_flt_as_of_dataset"
_IGNORED_KEY = "_ignored_query_params"
_SWITCH_KEY = "_switch_to_dataset"


def switch_to_dataset(dataset_id: int) -> None:
    """Select `dataset_id` on the next run (sidebar and URL), e.g. right after it was saved.
    The select box already exists in this run, so its state is set before the next one draws it."""
    st.session_state[_SWITCH_KEY] = int(dataset_id)


def _segment_key(column: str) -> str:
    return f"flt_{column}"


def init_language() -> str:
    """Resolve the session language from ?lang= on the first run; return it."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = normalise_language(st.query_params.get("lang"))
    return st.session_state[LANG_KEY]


def _note_ignored(param: str, value: str) -> None:
    st.session_state.setdefault(_IGNORED_KEY, []).append(f"{param}={value}")


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _select_dataset(datasets: pd.DataFrame) -> int:
    ids = datasets["id"].astype(int).tolist()
    switch = st.session_state.pop(_SWITCH_KEY, None)
    if switch in ids:
        st.session_state[_DATASET_KEY] = switch
    elif _DATASET_KEY not in st.session_state:
        wanted = st.query_params.get("dataset")
        chosen = ids[0]
        if wanted is not None:
            if wanted.isdigit() and int(wanted) in ids:
                chosen = int(wanted)
            elif wanted in set(datasets["name"]):
                chosen = int(datasets.loc[datasets["name"] == wanted, "id"].iloc[0])
            else:
                _note_ignored("dataset", wanted)
        st.session_state[_DATASET_KEY] = chosen
    elif st.session_state[_DATASET_KEY] not in ids:
        st.session_state[_DATASET_KEY] = ids[0]
    labels = datasets.set_index("id")
    return st.sidebar.selectbox(
        tr("app.sidebar.dataset"),
        ids,
        key=_DATASET_KEY,
        format_func={
            i: tr(
                "app.sidebar.dataset_option",
                name=labels.at[i, "name"],
                version=labels.at[i, "version"],
                rows=int(labels.at[i, "opportunity_count"]),
            )
            for i in ids
        }.__getitem__,
    )


@dataclass(frozen=True)
class SelectedPeriod:
    """The sidebar's period: the preset (or CUSTOM), its days [start, end] and the previous
    comparable period (None: none in the data)."""

    preset: str
    start: date
    end: date
    previous: DateRange | None
    previous_partial: bool = False  # cut at the data's first day: shorter than its rule says


def _mark_chosen() -> None:
    st.session_state[_PRESET_DEFAULTED_KEY] = False


def _switch_to_custom() -> None:
    # Editing the dates leaves the preset: the range drawn is now the user's own.
    st.session_state[_PRESET_KEY] = CUSTOM
    st.session_state[_PRESET_DEFAULTED_KEY] = False


def _preset_from_url(first: date, last: date) -> str | None:
    """The preset the opening link asks for (CUSTOM for ?start=/?end=), None: the default."""
    wanted = st.query_params.get("period")
    dated = bool(st.query_params.get("start") or st.query_params.get("end"))
    if wanted in PRESETS:
        for name in ("start", "end"):  # a preset decides the dates itself
            if st.query_params.get(name):
                _note_ignored(name, st.query_params.get(name))
        return wanted
    if wanted and wanted != CUSTOM:
        _note_ignored("period", wanted)
    return CUSTOM if dated or wanted == CUSTOM else None


def _custom_range(first: date, last: date, opening: bool) -> tuple[date, date]:
    """The custom range to draw: the link's ?start=&end= on the opening run, else the stored
    range kept inside the current dataset's bounds."""
    stored = st.session_state.get(_PERIOD_KEY)
    if opening or stored is None:
        start = _parse_date(st.query_params.get("start")) if opening else None
        end = _parse_date(st.query_params.get("end")) if opening else None
        for name, value in (("start", start), ("end", end)):
            if (
                opening
                and st.query_params.get(name)
                and (value is None or not first <= value <= last)
            ):
                _note_ignored(name, st.query_params.get(name))
        start = start if start and first <= start <= last else first
        end = end if end and first <= end <= last and end >= start else last
        return start, end
    stored = tuple(stored)
    if len(stored) == 2 and stored[-1] == st.session_state.get(_PERIOD_LAST_KEY):
        stored = (stored[0], last)  # a range that ran to the last day keeps doing so
    start = min(max(stored[0], first), last) if stored else first
    end = min(max(stored[-1], start), last) if len(stored) == 2 else last
    return start, end


def _select_period(first: date, last: date, dataset_id: int, as_of: date) -> SelectedPeriod:
    """The period preset (sidebar select box, ?period=) and its dates (the date range picker,
    which shows the preset's days and switches to CUSTOM when edited)."""
    opening = _PRESET_KEY not in st.session_state
    if opening:
        wanted = _preset_from_url(first, last)
        st.session_state[_PRESET_DEFAULTED_KEY] = wanted is None
        st.session_state[_PRESET_KEY] = wanted or ALL
    elif (
        st.session_state.get(_PERIOD_DATASET_KEY, dataset_id) != dataset_id
        and st.session_state[_PRESET_KEY] == CUSTOM
    ):
        # Another dataset: custom dates belong to the previous one (a slice of the new data shown
        # as if it were all of it), so they give way to its default; a chosen preset is relative
        # to the analysis date and keeps its meaning.
        st.session_state[_PRESET_DEFAULTED_KEY] = True
    st.session_state[_PERIOD_DATASET_KEY] = dataset_id
    if st.session_state.get(_PRESET_DEFAULTED_KEY):
        st.session_state[_PRESET_KEY] = default_preset(as_of, first, last)
    preset = st.session_state[_PRESET_KEY]
    resolved = None
    if preset == CUSTOM:
        st.session_state[_PERIOD_KEY] = _custom_range(first, last, opening)
    else:
        resolved = resolve_preset(preset, as_of, first, last)
        shown = (min(max(resolved.start, first), last), min(max(resolved.end, first), last))
        st.session_state[_PERIOD_KEY] = shown
    st.session_state[_PERIOD_LAST_KEY] = last
    # Labels bound now, in this run's language (a format_func may be called after the run).
    names = {p: tr(f"period.preset.{p}") for p in (*PRESETS, CUSTOM)}
    st.sidebar.selectbox(
        tr("period.preset"),
        tuple(names),
        key=_PRESET_KEY,
        format_func=names.__getitem__,
        on_change=_mark_chosen,
        help=tr("period.preset_help"),
    )
    picked = st.sidebar.date_input(
        tr("period.range"),
        min_value=first,
        max_value=last,
        key=_PERIOD_KEY,
        on_change=_switch_to_custom,
        help=tr("period.range_help"),
    )
    if resolved is None:
        picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
        # While a range is half-picked the widget returns one date: treat it as open-ended.
        start, end = picked[0], picked[1] if len(picked) > 1 else last
        previous = previous_of_range(start, end, first)
        partial = previous is not None and previous.days < (end - start).days + 1
        period = SelectedPeriod(CUSTOM, start, end, previous, partial)
    else:
        period = SelectedPeriod(
            preset, resolved.start, resolved.end, resolved.previous, resolved.previous_partial
        )
    _caption_period(period, resolved, first, last)
    return period


def _caption_period(
    period: SelectedPeriod, resolved: PresetPeriod | None, first: date, last: date
) -> None:
    """Under the picker: the days compared with, or why there is no comparison."""
    dates = {"start": period.start, "end": period.end}
    if period.preset == ALL or (period.start == first and period.end == last):
        if st.session_state.get(_PRESET_DEFAULTED_KEY) and period.preset == ALL:
            st.sidebar.caption(tr("period.too_short", days=(last - first).days + 1))
        else:
            st.sidebar.caption(tr("period.all", **dates))
        return
    if resolved is not None and not resolved.in_data:
        st.sidebar.caption(tr("period.outside", first=first))
        return
    if resolved is not None and resolved.clamped:
        st.sidebar.caption(tr("period.clamped", first=first))
    previous = period.previous
    if previous is None or period.start == first:
        st.sidebar.caption(tr("period.no_previous", **dates))
        return
    key = "period.compared_partial" if period.previous_partial else "period.compared"
    st.sidebar.caption(tr(key, prev_start=previous.start, prev_end=previous.end, **dates))


def _select_as_of(dataset: Dataset) -> pd.Timestamp:
    """The analysis date: the export's (Dataset.as_of) unless the user picks another day in the
    sidebar or ?as_of=YYYY-MM-DD; a picked day means the end of that day."""
    inferred = dataset.as_of
    if st.session_state.get(_AS_OF_DATASET_KEY) != dataset.id:  # a new dataset: its own date
        first_run = _AS_OF_DATASET_KEY not in st.session_state
        st.session_state[_AS_OF_DATASET_KEY] = dataset.id
        # Only the opening link's ?as_of= applies; another dataset starts at its own date.
        wanted = st.query_params.get("as_of") if first_run else None
        chosen = _parse_date(wanted)
        if wanted and chosen is None:
            _note_ignored("as_of", wanted)
        st.session_state[_AS_OF_KEY] = chosen or inferred.date()
    picked = st.sidebar.date_input(
        tr("app.sidebar.as_of_pick"), key=_AS_OF_KEY, help=tr("app.sidebar.as_of_help")
    )
    if not isinstance(picked, date) or picked == inferred.date():
        return inferred
    return pd.Timestamp(picked) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def _select_segment(column: str, options: list[str]) -> tuple[str, ...]:
    key = _segment_key(column)
    allowed = set(options)
    if key not in st.session_state:
        wanted = st.query_params.get_all(column)
        for value in wanted:
            if value not in allowed:
                _note_ignored(column, value)
        st.session_state[key] = [v for v in wanted if v in allowed]
    else:
        st.session_state[key] = [v for v in st.session_state[key] if v in allowed]
    picked = st.sidebar.multiselect(
        tr(f"app.sidebar.filter.{column}"),
        options,
        key=key,
        placeholder=tr("app.sidebar.all"),
    )
    return tuple(picked)


def _sync_query_params(
    dataset_id: int, period, full_range, segments, as_of=None, preset: str | None = None
) -> None:
    params = {"lang": st.session_state[LANG_KEY], "dataset": str(dataset_id)}
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    if preset is not None:
        params["period"] = preset
    # A preset's dates follow from it and the as-of date; only custom dates are written out.
    if preset in (None, CUSTOM) and tuple(period) != tuple(full_range):
        params["start"], params["end"] = period[0].isoformat(), period[1].isoformat()
    for column, values in segments.items():
        if values:
            params[column] = list(values)
    for key in ("lang", "dataset", "as_of", "period", "start", "end", *FILTER_COLUMNS):
        if key in params:
            if st.query_params.get_all(key) != (
                params[key] if isinstance(params[key], list) else [params[key]]
            ):
                st.query_params[key] = params[key]
        elif key in st.query_params:
            del st.query_params[key]


def _as_of_source(stored: Dataset, dataset: Dataset) -> str:
    """The i18n key that says where the analysis date comes from."""
    if dataset.chosen_as_of is not None:
        return "app.sidebar.as_of_chosen"
    return "app.sidebar.as_of" if stored.data_as_of is not None else "app.sidebar.as_of_stored"


def render_language_switch() -> None:
    st.sidebar.radio(
        tr("app.sidebar.language"),
        LANGUAGES,
        key=LANG_KEY,
        format_func=LANGUAGE_LABELS.get,
        horizontal=True,
    )


def render_sidebar(url: str) -> ViewContext | None:
    """Draw the filters, store the resulting ViewContext for the pages, and return it."""
    render_language_switch()
    datasets = load_dataset_list(url)
    if datasets.empty:
        set_view(None)
        return None
    dataset_id = _select_dataset(datasets)
    stored = load_dataset(url, dataset_id)
    as_of = _select_as_of(stored)
    dataset = stored.at(None if as_of == stored.as_of else as_of)
    created = dataset.opportunities["created_at"]
    first = created.min().date() if created.notna().any() else as_of.date()
    last = max(as_of.date(), first)
    if dataset.has_dates:
        selected = _select_period(first, last, dataset_id, as_of.date())
    else:  # no created dates: there is no period to pick, every figure is all-time
        selected = SelectedPeriod(ALL, first, last, None)
        st.sidebar.caption(tr("app.sidebar.no_dates"))
    period = (selected.start, selected.end)
    segments = {
        c: _select_segment(c, segment_options(dataset.opportunities, c)) for c in FILTER_COLUMNS
    }
    st.sidebar.caption(tr(_as_of_source(stored, dataset), as_of=as_of.strftime("%Y-%m-%d %H:%M")))
    ignored = st.session_state.pop(_IGNORED_KEY, None)
    if ignored:
        st.sidebar.warning(
            tr("app.sidebar.ignored_params", params=escape_markdown(", ".join(ignored)))
        )
    chosen = as_of.date() if dataset.chosen_as_of is not None else None
    preset = selected.preset if dataset.has_dates else None
    _sync_query_params(dataset_id, period, (first, last), segments, chosen, preset)
    st.sidebar.caption(tr("app.sidebar.share"))
    active = tuple(sorted((c, v) for c, v in segments.items() if v))
    opportunities, stage_events = load_filtered(url, dataset_id, active)
    start, end = period
    previous = selected.previous if start != first else None
    filters = Filters(
        start=None if start == first else start,
        end=None if end == last else end,
        segments=dict(active),
        preset=selected.preset,
        previous_start=previous.start if previous else None,
        previous_end=previous.end if previous else None,
    )
    view = ViewContext(
        db_url=url,
        dataset=dataset,
        opportunities=opportunities,
        stage_events=stage_events,
        filters=filters,
        as_of=as_of,
        lang=st.session_state[LANG_KEY],
    )
    set_view(view)
    return view
