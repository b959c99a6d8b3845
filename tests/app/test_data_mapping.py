"""AppTest of the Data page's mapping step: a file whose outcome column is not recognised lands in
the mapping step (every column with samples, the missing role marked), and saves once it is set."""

from __future__ import annotations

from dealscope import store
from tests.unit.ingest_fixtures import csv_bytes

VIEW = "pages/data.py"
# "Verdict" is no known name for an outcome, and "Loss" no known outcome word: both must be chosen.
ROWS = [
    ["Opportunity ID", "Opportunity Name", "Rep", "Verdict", "Value"],
    ["D1", "Alpha", "Ann", "Won", "100"],
    ["D2", "Beta", "Ann", "Loss", "50"],
    ["D3", "Gamma", "Bob", "Won", "30"],
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
        roles.set_index("source").at["Verdict", "samples"] == "Won · Loss · Pending"
    )  # … with samples
    assert at.button(key="ingest_map_apply").disabled  # nothing to check until the role is set

    at.selectbox(key="ingest_step_pick_outcome_0").set_value("Verdict").run()
    assert not at.exception, [e.value for e in at.exception]
    won = at.multiselect(key="ingest_step_won_Verdict")
    assert won.value == ["Won"]  # detected; "Loss" is not a known word, so it is not preselected
    at.multiselect(key="ingest_step_lost_Verdict").set_value(["Loss"]).run()
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
