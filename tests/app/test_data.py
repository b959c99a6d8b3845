"""AppTest of the Data page: the stored datasets with source files, counts and import time."""

VIEW = "pages/data.py"


def test_lists_the_stored_demo_dataset(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert row["Name"] == "demo" and row["Version"] == 1
    assert row["Opportunities"] == 6000 and row["Loaded"] == 6000
    assert row["Source files"] == "demo generator"
    assert row["Stage events"] > 6000


def test_language_switch_translates_the_table(open_app, demo_db_url):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    at.sidebar.radio(key="lang").set_value("zh-CN").run()
    assert "商机数" in at.dataframe[0].value.columns
    assert at.header[0].value == "数据"


def test_empty_database(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    assert any("No datasets yet" in i.value for i in at.info)
