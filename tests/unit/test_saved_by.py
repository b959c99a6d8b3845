"""Issue 16 item 2: each dataset version records who saved it; a database an older release created
gains the nullable `saved_by` column through store's additive upgrade."""

from __future__ import annotations

import sqlalchemy as sa

from dealscope import store


def test_old_database_gains_saved_by_and_records_the_user(tmp_path, demo_dataset):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = store.get_engine(url)
    opps, events, stages = (
        demo_dataset.opportunities,
        demo_dataset.stage_events,
        demo_dataset.stages,
    )
    store.write_dataset(engine, "before", opps.head(3), events.iloc[0:0], stages)
    with engine.begin() as conn:  # what an older release's schema looked like
        conn.exec_driver_sql("ALTER TABLE datasets DROP COLUMN saved_by")
    engine.dispose()

    engine = store.get_engine(url)  # the upgrade runs on first use
    columns = {c["name"] for c in sa.inspect(engine).get_columns("datasets")}
    assert "saved_by" in columns
    store.write_dataset(engine, "after", opps.head(3), events.iloc[0:0], stages,
                        saved_by="ana@example.com")  # fmt: skip
    listed = store.list_datasets(engine).set_index("name")["saved_by"].to_dict()
    assert listed == {"after": "ana@example.com", "before": None}
    engine.dispose()
