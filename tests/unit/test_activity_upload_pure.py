"""The pure pieces the Data page's follow-up-log upload shares with the CLI: required roles, mapping
overrides, the dataset's time zone, the upload limit, the log's provenance record and its token
(which must change when a log is replaced by another of the same length)."""

from __future__ import annotations

import pandas as pd
import pytest

import dealscope.activity.ingest as activity_ingest
from dealscope import store
from dealscope.activity.contacts import contact_changes
from dealscope.activity.ingest import (
    dataset_timezone,
    ingest_activity_files,
    missing_roles,
    read_activity_file,
    source_files,
)
from dealscope.activity.layouts import map_headers
from dealscope.activity.model import normalise_activities
from dealscope.activity.store import (
    activity_count,
    log_token,
    read_log_record,
    write_activities,
)
from dealscope.demo import generate_demo
from dealscope.ingest.errors import LimitExceeded
from tests.unit.ingest_fixtures import csv_bytes

DEALS = pd.DataFrame(
    {
        "opportunity_id": pd.Series(["D1", "D2"], dtype="string"),
        "name": pd.Series(["Alpha", "Beta"], dtype="string"),
        "owner": pd.Series(["Ann", "Bob"], dtype="string"),
    }
)


def _log(rows):
    frame = pd.DataFrame(
        rows, columns=["opportunity_id", "occurred_at", "activity_type", "contact"]
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    frame["owner"] = "Ann"
    frame["subject"] = None
    return normalise_activities(frame)


def test_missing_roles_need_a_time_and_a_deal_link():
    assert missing_roles(map_headers(["Deal ID", "When", "Type"]).columns) == ["date"]
    assert missing_roles(map_headers(["Account", "Date"]).columns) == ["deal"]
    assert missing_roles(map_headers(["商机名称", "跟进时间"]).columns) == []  # a name is enough
    assert missing_roles({}) == ["date", "deal"]


def test_a_mapping_override_per_file_loads_an_unrecognised_time_column():
    rows = [
        ["Deal ID", "When", "Type"],
        ["D1", "2026-01-05", "Call"],
        ["D2", "2026-01-07", "Visit"],
    ]
    sources = [("a.csv", csv_bytes(rows))]
    with pytest.raises(activity_ingest.MappingError, match="no activity date column"):
        ingest_activity_files(sources, DEALS)
    result = ingest_activity_files(sources, DEALS, mappings={"a.csv": {"occurred_at": "When"}})
    assert result.counts == {"rows_in": 2, "rows_loaded": 2, "rows_rejected": 0, "rows_excluded": 0}
    assert result.activities["occurred_at"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-05",
        "2026-01-07",
    ]
    assert result.activities["activity_type"].tolist() == ["call", "meeting"]
    assert result.link_counts == {"linked_by_id": 2, "linked_by_name": 0, "name_lookups": 0}
    (record,) = source_files(sources, result)
    assert record["name"] == "a.csv" and record["rows_loaded"] == 2 and len(record["sha256"]) == 64


def test_clearing_a_role_in_the_override_unsets_it():
    mapping = map_headers(["Deal ID", "Date", "Owner"], {"owner": None})
    assert mapping.column("owner") is None and mapping.column("occurred_at") == "Date"


def test_time_zone_is_the_override_then_the_dataset_then_the_default():
    assert dataset_timezone({"timezone": "Europe/Paris"}, "UTC") == "UTC"
    assert dataset_timezone({"timezone": "Europe/Paris"}) == "Europe/Paris"
    assert dataset_timezone(None) == "Asia/Shanghai"


def test_a_file_above_the_upload_limit_is_refused_with_the_limit(monkeypatch):
    monkeypatch.setattr(activity_ingest, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(LimitExceeded, match="big.csv: The file size"):
        read_activity_file(b"Deal ID,Date\nD1,2026-01-01\n", "big.csv")


def test_contact_changes_on_a_log_that_names_no_contact_are_none():
    # A log without a contact column (every contact null) used to raise IndexError.
    log = _log([("D1", "2026-01-01", "call", None), ("D1", "2026-01-03", "call", None)])
    assert contact_changes(log).empty


def test_token_changes_when_a_log_is_replaced_by_one_of_the_same_length(store_url):
    engine = store.get_engine(store_url)
    opps, events, stages = generate_demo(n=50)
    dataset_id = store.write_dataset(engine, "tiny", opps, events, stages)
    deal = str(opps["opportunity_id"].iloc[0])
    assert log_token(engine, dataset_id) == "rows:0" and read_log_record(engine, dataset_id) is None
    first = _log([(deal, "2026-01-01", "call", "Zhang")])
    second = _log([(deal, "2026-01-02", "call", "Zhang")])
    write_activities(engine, dataset_id, first, saved_by="ann@example.com",
                     source_files=[{"name": "a.csv"}])  # fmt: skip
    token_first = log_token(engine, dataset_id)
    record = read_log_record(engine, dataset_id)
    assert record.rows == 1 and record.saved_by == "ann@example.com"
    assert record.source_files == ({"name": "a.csv"},)
    write_activities(engine, dataset_id, second)
    assert activity_count(engine, dataset_id) == 1
    assert log_token(engine, dataset_id) != token_first  # same length, other content
    write_activities(engine, dataset_id, first)
    assert log_token(engine, dataset_id) == token_first  # the token is the content's
    store.delete_dataset(engine, "tiny")
    assert read_log_record(engine, dataset_id) is None  # deleted with its dataset
    engine.dispose()


def test_a_feature_column_with_no_known_value_is_ignored_not_fatal():
    # An uploaded log that touches none of the training deals leaves its feature columns empty;
    # sklearn's binner refused that, so the retrain after the upload failed.
    import numpy as np

    from dealscope.risk.estimator import fit
    from dealscope.risk.features import FeatureSpec

    spec = FeatureSpec("dated", (), True, activity=True)
    columns = spec.columns
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(columns)))
    empty = columns.index("gap_ratio")
    X[:, empty] = np.nan
    y = (X[:, 0] > 0).astype(int)
    model = fit(spec, X, y)
    probe = X[:5].copy()
    a, b = probe.copy(), probe.copy()
    a[:, empty], b[:, empty] = 0.5, 50.0
    assert np.array_equal(model.decision_function(a), model.decision_function(b))
