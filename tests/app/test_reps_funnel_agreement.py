"""The Reps drill-down and the Funnel page show one stage conversion for one owner (issue 13)."""

VIEW_REPS = "pages/reps.py"
VIEW_FUNNEL = "pages/funnel.py"
OWNER = "何娜"


def test_drilldown_and_funnel_pages_show_the_same_conversion(open_app, demo_db_url):
    funnel = open_app(demo_db_url, VIEW_FUNNEL, query={"lang": "en", "owner": OWNER})
    table = next(d.value for d in funnel.dataframe if "Stage conversion (95% CI)" in d.value)
    shown = dict(zip(table["Stage"], table["Stage conversion (95% CI)"], strict=True))
    reps = open_app(demo_db_url, VIEW_REPS, query={"lang": "en"})
    reps.selectbox(key="reps_owner").set_value(OWNER).run()
    assert not reps.exception, [e.value for e in reps.exception]
    drill = next(d.value for d in reps.dataframe if "Owner conversion" in d.value.columns)
    assert len(drill) == 5
    for stage, rate in zip(drill["Stage"], drill["Owner conversion"], strict=True):
        # The Funnel's text starts with the rate to one decimal: "66.3% (58.6–73.1%)".
        assert shown[stage].startswith(f"{rate * 100:.1f}%"), (stage, rate, shown[stage])
    # The figure: 106 of 160 at 线索 on both pages.
    first = drill.iloc[0]
    assert (first["Owner advanced"], first["Owner resolved"]) == (106, 160)
