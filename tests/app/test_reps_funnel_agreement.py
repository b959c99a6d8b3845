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


def test_deals_without_owner_are_a_counted_line_not_a_ranked_owner(open_app, tmp_path):
    from dealscope import store
    from dealscope.demo import write_demo

    url = f"sqlite:///{tmp_path / 'unowned.db'}"
    engine = store.get_engine(url)
    demo = store.read_dataset(engine, write_demo(engine))
    opps = demo.opportunities.copy()
    unowned = opps["owner"].eq(OWNER)
    opps.loc[unowned, "owner"] = None
    store.write_dataset(engine, "unowned", opps, demo.stage_events, demo.stages)
    engine.dispose()
    at = open_app(url, VIEW_REPS, query={"lang": "en", "dataset": "unowned"})
    board = at.dataframe[0].value
    assert "—" not in set(board["Owner"]) and OWNER not in set(board["Owner"])
    assert len(board) == 35 and board["Rank"].tolist() == list(range(1, 36))
    # Every one of her deals is open at the end or closed in the (whole-history) period.
    captions = " ".join(c.value for c in at.caption)
    assert f"No owner: {int(unowned.sum()):,} deals, shown apart and not ranked." in captions
    assert "—" not in at.selectbox(key="reps_owner").options
