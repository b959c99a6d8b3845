"""Risk page: a model without a button (after a save, or on opening a dataset), "training…" then
the backtest card; tiers in both languages; a tampered model retrains instead of crashing."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from dealscope import store
from dealscope.activity.store import read_activities
from dealscope.model import OPEN
from dealscope.risk import registry, service, train
from dealscope.risk.simulate import simulate_pipeline
from tests.app.visible_text import display_frame
from tests.unit.ingest_fixtures import csv_bytes

VIEW = "pages/risk.py"
TRAINING_WAIT_SECONDS = 600  # a generous bound on a loaded machine, not a speed assertion


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    directory = tmp_path / "models"
    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(directory))
    return directory


def _texts(at) -> str:
    return "\n".join(
        [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.text]
    )


def _open_count(dataset) -> int:
    return int((dataset.opportunities["status"] == OPEN).sum())


def _log(db_url: str, dataset) -> pd.DataFrame:
    """The dataset's follow-up log (the demo has one): part of what a model is tied to."""
    return read_activities(store.get_engine(db_url), dataset.id)


def wait_for_model(model_dir, dataset, previous: str | None = None, db_url=None) -> None:
    """Wait until the background thread has stored the dataset's model (a manifest other than
    `previous`)."""
    hash_ = service.dataset_hash(dataset, _log(db_url, dataset) if db_url else None)
    deadline = time.monotonic() + TRAINING_WAIT_SECONDS
    while registry.model_token(dataset.id, hash_, model_dir) in (None, "no-manifest", previous):
        assert time.monotonic() < deadline, "background training never stored a model"
        time.sleep(0.5)


def test_opening_a_dataset_trains_in_the_background_then_shows_the_card(
    open_app, demo_db_url, demo_dataset, model_dir
):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert "Training the risk model for this dataset in the background" in _texts(at)
    assert not at.button  # no train button: training is not a deliberate act any more
    wait_for_model(model_dir, demo_dataset, db_url=demo_db_url)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    open_count = _open_count(demo_dataset)
    assert metrics["Open deals scored"] == f"{open_count:,}"
    tiers = sum(int(metrics[k].replace(",", "")) for k in ("At risk", "Follow up", "Likely to win"))
    assert tiers == open_count
    scores = at.dataframe[0].value
    # The numbers stay 0–1 (sorting is numeric); the page shows them as percentages.
    assert len(scores) == open_count and scores["Risk of loss"].between(0, 1).all()
    shown = display_frame(at.dataframe[0])
    top = scores["Risk of loss"].iloc[0]
    assert shown["Risk of loss"].iloc[0] == f"{top * 100:.1f}%"
    folder = next(model_dir.iterdir())
    card = json.loads((folder / registry.CARD_FILE).read_text(encoding="utf-8"))
    assert metrics["ROC AUC"] == f"{card['metrics']['auc']:.3f}"
    assert card["validation"]["kind"] == "backtest"
    assert "Backtest: at" in _texts(at)
    # The demo has a follow-up log: its point-in-time activity features are in the model.
    assert card["spec"]["activity"] is True
    used = {r["feature"] for r in card["feature_availability"] if r["used"]}
    assert {"gap_ratio", "contact_changed", "touches_30d"} <= used

    # Chinese labels and the tier filter; English tier names carry no Chinese.
    assert set(scores["Tier"]) <= {"At risk", "Follow up", "Likely to win"}
    zh = open_app(demo_db_url, VIEW, query={"lang": "zh-CN"})
    high = int({m.label: m.value for m in zh.metric}["易流失"].replace(",", ""))
    zh.segmented_control(key="risk_tiers").set_value(["high"]).run()
    table = zh.dataframe[0].value
    assert len(table) == high and set(table["分级"]) <= {"易流失"}
    # Ordered by expected lost value on request.
    zh.radio(key="risk_order").set_value("expected_lost_value").run()
    value = zh.dataframe[0].value["预期流失金额"].dropna()
    assert value.is_monotonic_decreasing


def test_a_saved_dataset_gets_a_model_without_pressing_a_button(open_app, empty_db_url, model_dir):
    sim = simulate_pipeline(n=1500, days=900, seed=5)
    o = sim.opportunities
    rows = [["Opportunity ID", "Owner", "Region", "Amount", "Stage", "Created Date", "Close Date"]]
    rows += [
        [
            i,
            owner,
            region,
            "" if amount != amount else f"{amount:.0f}",
            stage,
            created.strftime("%Y-%m-%d"),
            "" if closed != closed else closed.strftime("%Y-%m-%d"),
        ]
        for i, owner, region, amount, stage, created, closed in zip(
            o["opportunity_id"], o["owner"], o["region"], o["amount"], o["stage"],
            o["created_at"], o["closed_at"], strict=True,
        )
    ]  # fmt: skip
    at = open_app(empty_db_url, "pages/data.py", query={"lang": "en"})
    at.file_uploader(key="ingest_upload").set_value(
        [("pipeline.csv", csv_bytes(rows), "text/csv")]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="ingest_name").set_value("simulated").run()
    at.button(key="ingest_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved dataset simulated" in s.value for s in at.success)
    engine = store.get_engine(empty_db_url)
    dataset = store.read_dataset(engine, "simulated")
    engine.dispose()
    # Nobody opens the Risk page or presses anything: the save itself started the training.
    wait_for_model(model_dir, dataset)
    estimator, card = registry.load_model(dataset.id, service.dataset_hash(dataset), model_dir)
    assert card.dataset.id == dataset.id and card.metrics.auc is not None
    risk = open_app(empty_db_url, VIEW, query={"lang": "en", "dataset": str(dataset.id)})
    assert not risk.exception
    assert len(risk.dataframe[0].value) == _open_count(dataset)


def test_too_little_history_explains_instead_of_training(
    open_app, tmp_path, model_dir, monkeypatch
):
    monkeypatch.setattr(train, "MIN_CLOSED_PER_CLASS", 100_000)
    monkeypatch.setattr("ui.risk.MIN_CLOSED_PER_CLASS", 100_000)
    from dealscope.demo import write_demo

    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = store.get_engine(url)
    write_demo(engine, n=300)
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en"})
    assert "Too little history for a risk model" in _texts(at)
    assert not at.button and not model_dir.exists()


def test_a_tampered_model_retrains_instead_of_crashing(
    open_app, demo_db_url, demo_dataset, model_dir
):
    log = _log(demo_db_url, demo_dataset)
    service.train_and_save(demo_dataset, model_dir, activities=log)
    folder = next(model_dir.iterdir())
    canary = model_dir.parent / "canary"
    # A pickle whose unpickling would create the canary file, in place of the model.
    payload = b"c__builtin__\nopen\n(" + f"S'{canary}'\nS'w'\ntR.".encode()
    (folder / registry.MODEL_FILE).write_bytes(payload)
    tampered = registry.model_token(
        demo_dataset.id, service.dataset_hash(demo_dataset, log), model_dir
    )
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert not at.exception
    assert "Training the risk model" in _texts(at)
    wait_for_model(model_dir, demo_dataset, previous=tampered, db_url=demo_db_url)
    at.run()
    assert not canary.exists()
    assert len(at.dataframe[0].value) == _open_count(demo_dataset)


@pytest.mark.parametrize("kind", ["undated", "no-history"])
def test_undated_and_history_free_datasets_get_a_model_and_say_how_it_was_validated(
    open_app, tmp_path, model_dir, kind
):
    sim = simulate_pipeline(n=2000, days=900, seed=4)
    opps = sim.opportunities
    if kind == "undated":
        opps = opps.assign(created_at=pd.NaT, closed_at=pd.NaT)
    url = f"sqlite:///{tmp_path / 'd.db'}"
    engine = store.get_engine(url)
    store.write_dataset(engine, kind, opps, sim.stage_events.iloc[0:0], sim.stages)
    dataset = store.read_dataset(engine, kind)
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en"})
    assert not at.exception
    wait_for_model(model_dir, dataset)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = _texts(at)
    if kind == "undated":
        assert "5-fold stratified cross-validation" in texts
    else:
        assert "has no stage history" in texts and "Backtest: at" in texts
    assert len(at.dataframe[0].value) == _open_count(dataset)


def test_background_training_uses_the_settled_data_the_pages_score(tmp_path, model_dir):
    """A dataset with a close date after its export date: the thread trains on the settled data
    (as the pages and the CLI read it), so the page finds the model instead of retraining forever."""
    from ui.training import TrainingJob, _run

    sim = simulate_pipeline(n=1500, days=700, seed=5)
    opps = sim.opportunities.copy()
    won = opps.index[opps["status"].eq("won")][0]
    opps.loc[won, "closed_at"] = opps["created_at"].max() + pd.Timedelta(days=90)  # a late close
    url = f"sqlite:///{tmp_path / 'late.db'}"
    engine = store.get_engine(url)
    store.write_dataset(engine, "late", opps, sim.stage_events, sim.stages)
    stored = store.read_dataset(engine, "late")
    engine.dispose()
    settled = stored.settled()
    assert settled.late_closes == 1  # the fixture does what it says
    job = TrainingJob()
    _run(job, url, stored.id, str(model_dir))
    assert job.state == "done", job.error
    assert registry.model_token(stored.id, service.dataset_hash(settled), model_dir) is not None
