"""AppTest of the Data page's mapping step: a file whose outcome column is not recognised lands in
the mapping step (every column with samples, the missing role marked), and saves once it is set."""

from __future__ import annotations

from dealscope import store
from tests.unit.ingest_fixtures import csv_bytes

VIEW = "pages/data.py"
# "Verdict" is no known name for an outcome, and its values are no known outcome words (the
# ingest finds outcome columns by their values too): the column and its won / lost values must be
# chosen.
ROWS = [
    ["Opportunity ID", "Opportunity Name", "Rep", "Verdict", "Value"],
    ["D1", "Alpha", "Ann", "Closed A", "100"],
    ["D2", "Beta", "Ann", "Closed B", "50"],
    ["D3", "Gamma", "Bob", "Closed A", "30"],
    ["D4", "Delta", "Bob", "Pending", "70"],
]


def test_missing_role_opens_the_mapping_step_and_saves_after_it_is_set(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    at.file_uploader(key="ingest_upload").set_value([("deals.csv", csv_bytes(ROWS), "text/csv")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "Map the columns" for h in at.subheader)
    assert any("Missing role: outcome" in e.value for e in at.error)
    roles = at.data_editor(key="ingest_step_roles_0").value
    assert roles["source"].tolist() == ROWS[0]  # every column is listed …
    assert (
        roles.set_index("source").at["Verdict", "samples"] == "Closed A · Closed B · Pending"
    )  # … with samples
    assert at.button(key="ingest_map_apply").disabled  # nothing to check until the role is set

    at.selectbox(key="ingest_step_pick_outcome_0").set_value("Verdict").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="ingest_step_won_Verdict").value == []  # no known word: none guessed
    at.multiselect(key="ingest_step_won_Verdict").set_value(["Closed A"]).run()
    at.multiselect(key="ingest_step_lost_Verdict").set_value(["Closed B"]).run()
    at.button(key="ingest_map_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(h.value == "Map the columns" for h in at.subheader)  # the check passed

    at.text_input(key="ingest_name").set_value("mapped").run()
    at.button(key="ingest_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    engine = store.get_engine(empty_db_url)
    dataset = store.read_dataset(engine, "mapped")
    engine.dispose()
    opportunities = dataset.opportunities
    status = dict(zip(opportunities["opportunity_id"], opportunities["status"], strict=True))
    assert status == {"D1": "won", "D2": "lost", "D3": "won", "D4": "open"}


def test_after_saving_the_app_switches_to_the_new_dataset(open_app, demo_db_url, tmp_path):
    import shutil

    url = f"sqlite:///{tmp_path / 'copy.db'}"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), tmp_path / "copy.db")
    at = open_app(url, VIEW, query={"lang": "en"})
    assert at.sidebar.selectbox(key="flt_dataset").value == 1  # the demo
    rows = [["Opportunity ID", "Owner", "Amount", "Stage"], ["N1", "Ann", "5", "Closed Won"]]
    at.file_uploader(key="ingest_upload").set_value([("new.csv", csv_bytes(rows), "text/csv")])
    at.run()
    at.text_input(key="ingest_name").set_value("fresh").run()
    at.button(key="ingest_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="flt_dataset").value == 2
    assert at.query_params["dataset"] == "2"
    assert any("Saved dataset fresh" in s.value for s in at.success)


def test_rename_and_delete_on_the_data_page_need_confirmation(open_app, tmp_path):
    from tests.app.undated_fixtures import CLOSED_ONLY_ROWS, UNDATED_ROWS, write_rows

    url = f"sqlite:///{tmp_path / 'manage.db'}"
    write_rows(url, "undated", UNDATED_ROWS)
    write_rows(url, "closed", CLOSED_ONLY_ROWS)
    at = open_app(url, VIEW, query={"lang": "en"})
    at.selectbox(key="data_manage_dataset").set_value("undated").run()
    at.text_input(key="data_rename_to").set_value("no dates").run()
    at.button(key="data_rename").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Renamed undated to no dates" in s.value for s in at.success)
    assert sorted(at.dataframe[-1].value["Name"]) == ["closed", "no dates"]
    at.selectbox(key="data_manage_dataset").set_value("closed").run()
    assert at.button(key="data_delete").disabled  # not before the box is ticked
    at.checkbox(key="data_delete_confirm").check().run()
    at.button(key="data_delete").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe[-1].value["Name"].tolist() == ["no dates"]
    engine = store.get_engine(url)
    assert store.list_datasets(engine)["name"].tolist() == ["no dates"]
    engine.dispose()


def test_only_the_roles_the_pipeline_refused_are_required():
    from ui.ingest_mapping import complained_roles

    roles = {"Deal": None, "Phase": None}
    both = "deals.csv: required columns missing: opportunity id (e.g. …); stage (e.g. …). Map …"
    assert complained_roles("deals.csv", roles, both) == ["outcome", "id"]
    stage_only = "deals.csv: required columns missing: stage (e.g. 商机阶段 / Stage). Map …"
    assert complained_roles("deals.csv", roles, stage_only) == ["outcome"]
    # Another file of the same upload (e.g. a stage history) is not asked for anything.
    assert complained_roles("history.csv", roles, stage_only) == []
    assert complained_roles("deals.csv", {"Deal": "name", "Phase": "stage"}, both) == []
