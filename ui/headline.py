"""The sentences each page opens with: dealscope.metrics.headlines' facts put into words.

Every number goes through dealscope.formatting and every name (stage, owner, week) through
escape_markdown; a dollar sign is escaped too, since Streamlit's Markdown reads `$…$` as maths.
"""

from __future__ import annotations

import streamlit as st

from dealscope.formatting import escape_markdown, format_amount, format_count, format_days
from dealscope.formatting import format_pct as _pct
from dealscope.metrics.funnel import PASS_THROUGH
from dealscope.metrics.headlines import (
    NO_DEALS,
    OK,
    ONE_RANKED,
    TOO_FEW,
    CycleHeadline,
    FunnelHeadline,
    OverviewHeadline,
    RepsHeadline,
    RiskHeadline,
    WeeklyHeadline,
    funnel_headline,
    risk_headline,
)
from ui.context import ViewContext
from ui.funnel import load_funnel, load_periods
from ui.state import current_lang, tr

HEADLINE_KEY = "headline"  # the container's key: the browser test finds the sentences by it


def _safe(value: object) -> str:
    return escape_markdown(value).replace("$", "\\$")


def _money(value: float | None, currency: str | None) -> str:
    return _safe(format_amount(value, currency, current_lang()))


def _points(change: float) -> str:
    """A change of two rates in words: 'up 3.2 points' (rounded as shown; 0.0 is 'unchanged')."""
    points = round(abs(change) * 100, 1)
    if points == 0:
        return tr("headline.change.same")
    return tr(f"headline.change.{'up' if change > 0 else 'down'}", points=f"{points:.1f}")


def render_headline(sentences: list[str]) -> None:
    """The answer first: the first sentence in bold, the second after it, in one paragraph."""
    sentences = [s for s in sentences if s]
    if not sentences:
        return
    with st.container(key=HEADLINE_KEY):
        first, rest = sentences[0], " ".join(sentences[1:])
        st.markdown(f"**{first}** {rest}".strip())


def overview_sentences(head: OverviewHeadline) -> list[str]:
    pipeline = tr(
        "headline.overview.pipeline",
        value=_money(head.open_value, head.currency),
        count=format_count(head.open_count),
    )
    if head.open_count == 0:  # a closed-only export: "¥0 across 0 deals" says it worse
        pipeline = tr("headline.overview.pipeline_none")
    if head.win_rate is None:
        return [tr("headline.overview.win_rate.none"), pipeline]
    rate = dict(rate=_pct(head.win_rate), closed=format_count(head.closed))
    if head.comparison == OK:
        rate |= dict(
            previous=_pct(head.previous_win_rate),
            change=_points(head.win_rate - head.previous_win_rate),
        )
    sentences = [tr(f"headline.overview.win_rate.{head.comparison}", **rate)]
    if head.change_is_clear is False:
        sentences.append(tr("headline.overview.change_unclear"))
    return [*sentences, pipeline]


def funnel_facts(view: ViewContext) -> FunnelHeadline | None:
    """The biggest drop on the history basis with the rule the page's picker holds (its default
    before it is drawn), against the previous period when one is chosen; None without history."""
    if not view.dataset.has_history:
        return None
    rule = st.session_state.get("funnel_rule", PASS_THROUGH)
    data = load_funnel(view, rule)
    previous = None
    if view.filters.start is not None:
        periods = load_periods(view, rule)
        previous = periods.loc[periods["period"].eq("previous")]
    return funnel_headline(data["funnel"], previous)


def funnel_sentences(head: FunnelHeadline | None) -> list[str]:
    """None: the dataset has no stage history."""
    if head is None:
        return [tr("headline.funnel.no_history")]
    if head.status == NO_DEALS:
        return [tr("headline.funnel.no_deals")]
    if head.status != OK:
        return [tr("headline.funnel.too_few", min=head.min_resolved, resolved=head.resolved)]
    main = tr(
        "headline.funnel.ok",
        from_stage=_safe(head.from_stage),
        to_stage=_safe(head.to_stage),
        rate=_pct(head.conversion),
        resolved=format_count(head.resolved),
    )
    if head.comparison == OK:
        return [main, tr("headline.funnel.previous.ok", previous=_pct(head.previous_conversion))]
    if head.comparison == TOO_FEW:
        return [main, tr("headline.funnel.previous.too_few")]
    return [main]


def cycle_sentences(head: CycleHeadline) -> list[str]:
    lang = current_lang()
    if head.deals == 0:
        first = tr("headline.cycle.no_deals")
    elif head.median_days is None:
        first = tr(
            "headline.cycle.median_not_reached",
            deals=format_count(head.deals),
            closed=format_count(head.closed),
        )
    else:
        first = tr(
            "headline.cycle.median",
            deals=format_count(head.deals),
            days=format_days(head.median_days, lang),
        )
    days = f"{head.silence_days:g}"
    if head.open_count == 0:
        second = tr("headline.cycle.nothing_open") if head.deals else ""
    elif head.silence_known == 0:
        second = tr("headline.cycle.silent_unknown")
    elif head.silent_count == 0:
        second = tr("headline.cycle.silent_none", open=format_count(head.open_count), days=days)
    else:
        key = "headline.cycle.silent_unpriced" if head.silent_unpriced else "headline.cycle.silent"
        second = tr(
            key,
            count=format_count(head.silent_count),
            value=_money(head.silent_value, head.currency),
            days=days,
            unpriced=format_count(head.silent_unpriced),
        )
    return [first, second]


def reps_sentences(head: RepsHeadline) -> list[str]:
    if head.status == NO_DEALS:
        return [tr("headline.reps.none", min=head.min_closed)]
    leader = dict(
        leader=_safe(head.leader),
        rate=_pct(head.leader_shrunk),
        won=format_count(head.leader_won),
        closed=format_count(head.leader_closed),
    )
    if head.status == ONE_RANKED:
        return [tr("headline.reps.one", min=head.min_closed, **leader)]
    first = tr(
        "headline.reps.ok",
        runner=_safe(head.runner_up),
        runner_rate=_pct(head.runner_shrunk),
        gap=f"{(head.leader_shrunk - head.runner_shrunk) * 100:.1f}",
        **leader,
    )
    second = tr(
        "headline.reps.separated" if head.separated else "headline.reps.overlap",
        low=_pct(head.leader_low),
        high=_pct(head.leader_high),
        runner_low=_pct(head.runner_low),
        runner_high=_pct(head.runner_high),
    )
    return [first, second]


def risk_facts(view: ViewContext, deals) -> RiskHeadline:
    """The risk facts of the scored deals (RiskScores.deals) that are in the view's filters."""
    shown = deals.loc[deals["opportunity_id"].isin(view.opportunities["opportunity_id"])]
    return risk_headline(shown, view.opportunities)


def risk_sentences(head: RiskHeadline) -> list[str]:
    if head.scored == 0:
        return [tr("headline.risk.none")]
    first = tr(
        "headline.risk.top",
        top=format_count(head.top),
        value=_money(head.top_expected_lost, head.currency),
        total=_money(head.total_expected_lost, head.currency),
        scored=format_count(head.scored),
    )
    second = tr("headline.risk.high", high=format_count(head.high))
    if head.unpriced:
        second += " " + tr("headline.risk.unpriced", count=format_count(head.unpriced))
    return [first, second]


def weekly_sentences(head: WeeklyHeadline, currency: str | None) -> list[str]:
    counts = dict(
        week=_safe(head.week),
        new=format_count(head.new_count),
        new_previous=format_count(head.new_previous),
    )
    if head.won_count is None:
        first = tr("headline.weekly.flow_undated", **counts)
    else:
        first = tr(
            "headline.weekly.flow",
            won=format_count(head.won_count),
            won_value=_money(head.won_value, currency),
            won_previous=format_count(head.won_previous),
            lost=format_count(head.lost_count),
            lost_previous=format_count(head.lost_previous),
            **counts,
        )
    if head.pipeline_value is None:
        return [first]
    value = _money(head.pipeline_value, currency)
    if head.pipeline_change is None:
        return [first, tr("headline.weekly.pipeline_only", value=value)]
    if round(head.pipeline_change) == 0:
        change = tr("headline.change.same")
    else:
        direction = "up" if head.pipeline_change > 0 else "down"
        change = tr(
            f"headline.amount_change.{direction}",
            amount=_money(abs(head.pipeline_change), currency),
        )
    return [first, tr("headline.weekly.pipeline", value=value, change=change)]
