"""The shared sidebar: language, dataset, period and segment filters, bound to the URL.

Every query value is validated against the allowed options before it reaches a widget, so a
hand-edited link can never inject a value; invalid ones are ignored and listed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dealscope.filters import FILTER_COLUMNS, Filters, segment_options
from dealscope.formatting import escape_markdown
from dealscope.i18n import LANGUAGE_LABELS, LANGUAGES, normalise_language
from dealscope.model import Dataset
from ui.context import ViewContext, set_view
from ui.loaders import load_dataset, load_dataset_list, load_filtered
from ui.state import LANG_KEY, tr

_DATASET_KEY = "flt_dataset"
_PERIOD_KEY = "flt_period"
_PERIOD_LAST_KEY = "_flt_period_last"
_PERIOD_DATASET_KEY = "_flt_period_dataset"
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
        format_func=lambda i: tr(
            "app.sidebar.dataset_option",
            name=labels.at[i, "name"],
            version=labels.at[i, "version"],
            rows=int(labels.at[i, "opportunity_count"]),
        ),
    )


def _select_period(first: date, last: date, dataset_id: int) -> tuple[date, date]:
    if st.session_state.get(_PERIOD_DATASET_KEY, dataset_id) != dataset_id:
        # Another dataset: its own whole range. A period kept from the previous one (clamped into
        # this one's dates) would show a slice of the new data as if it were all of it.
        st.session_state[_PERIOD_KEY] = (first, last)
    st.session_state[_PERIOD_DATASET_KEY] = dataset_id
    if _PERIOD_KEY not in st.session_state:
        start = _parse_date(st.query_params.get("start"))
        end = _parse_date(st.query_params.get("end"))
        for name, value in (("start", start), ("end", end)):
            if st.query_params.get(name) and (value is None or not first <= value <= last):
                _note_ignored(name, st.query_params.get(name))
        start = start if start and first <= start <= last else first
        end = end if end and first <= end <= last and end >= start else last
        st.session_state[_PERIOD_KEY] = (start, end)
    else:  # keep a stored range inside the current dataset's bounds
        stored = tuple(st.session_state[_PERIOD_KEY])
        if len(stored) == 2 and stored[-1] == st.session_state.get(_PERIOD_LAST_KEY):
            stored = (stored[0], last)  # a range that ran to the last day keeps doing so
        start = min(max(stored[0], first), last) if stored else first
        end = min(max(stored[-1], start), last) if len(stored) == 2 else last
        st.session_state[_PERIOD_KEY] = (start, end)
    st.session_state[_PERIOD_LAST_KEY] = last
    picked = st.sidebar.date_input(
        tr("app.sidebar.period"),
        min_value=first,
        max_value=last,
        key=_PERIOD_KEY,
        help=tr("app.sidebar.period_help"),
    )
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    # While a range is half-picked the widget returns one date: treat it as open-ended.
    return (picked[0], picked[1] if len(picked) > 1 else last)


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


def _sync_query_params(dataset_id: int, period, full_range, segments, as_of=None) -> None:
    params = {"lang": st.session_state[LANG_KEY], "dataset": str(dataset_id)}
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    if tuple(period) != tuple(full_range):
        params["start"], params["end"] = period[0].isoformat(), period[1].isoformat()
    for column, values in segments.items():
        if values:
            params[column] = list(values)
    for key in ("lang", "dataset", "as_of", "start", "end", *FILTER_COLUMNS):
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
        period = _select_period(first, last, dataset_id)
    else:  # no created dates: there is no period to pick, every figure is all-time
        period = (first, last)
        st.sidebar.caption(tr("app.sidebar.no_dates"))
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
    _sync_query_params(dataset_id, period, (first, last), segments, chosen)
    st.sidebar.caption(tr("app.sidebar.share"))
    active = tuple(sorted((c, v) for c, v in segments.items() if v))
    opportunities, stage_events = load_filtered(url, dataset_id, active)
    start, end = period
    filters = Filters(
        start=None if start == first else start,
        end=None if end == last else end,
        segments=dict(active),
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
