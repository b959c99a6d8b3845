"""Risk page: renders without a model, trains on click, shows every open deal and the card's AUC."""

from __future__ import annotations

import json

import pytest

from dealscope.model import OPEN
from dealscope.risk import registry, train

VIEW = "pages/risk.py"


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


def test_page_without_model_offers_training_then_scores_every_open_deal(
    open_app, demo_db_url, demo_dataset, model_dir
):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert "No risk model has been trained" in _texts(at)
    assert not at.dataframe  # nothing scored before a model exists
    at.button(key="risk_train").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert "No risk model has been trained" not in _texts(at)
    assert "does not beat the stage-only baseline" not in _texts(at)
    assert at.button(key="risk_retrain")

    metrics = {m.label: m.value for m in at.metric}
    open_count = _open_count(demo_dataset)
    assert metrics["Open deals scored"] == f"{open_count:,}"
    tiers = sum(int(metrics[k].replace(",", "")) for k in ("At risk", "Follow up", "Likely to win"))
    assert tiers == open_count
    scores = at.dataframe[0].value
    assert len(scores) == open_count
    assert scores["Risk of loss"].between(0, 100).all()

    folder = next(model_dir.iterdir())
    card = json.loads((folder / registry.CARD_FILE).read_text(encoding="utf-8"))
    assert metrics["ROC AUC"] == f"{card['metrics']['auc']:.3f}"
    assert card["metrics"]["auc"] > card["baseline"]["auc"]
    assert card["dataset"]["id"] == demo_dataset.id


def test_tier_filter_and_chinese_labels(open_app, demo_db_url, demo_dataset, model_dir):
    at = open_app(demo_db_url, VIEW, query={"lang": "zh-CN"})
    at.button(key="risk_train").click().run(timeout=120)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    high = int(metrics["易流失"].replace(",", ""))
    at.segmented_control(key="risk_tiers").set_value(["high"]).run()
    table = at.dataframe[0].value
    assert len(table) == high
    assert set(table["分级"]) == {"易流失"}

    # A new session (caches cleared) loads the saved model: scores at once, a retrain button.
    again = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert len(again.dataframe[0].value) == _open_count(demo_dataset)
    assert again.button(key="risk_retrain")


def test_too_little_history_explains_instead_of_training(
    open_app, tmp_path, model_dir, monkeypatch
):
    monkeypatch.setattr(train, "MIN_CLOSED_PER_CLASS", 100_000)
    monkeypatch.setattr("ui.risk.MIN_CLOSED_PER_CLASS", 100_000)
    from dealscope import store
    from dealscope.demo import write_demo

    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = store.get_engine(url)
    write_demo(engine, n=300)
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en"})
    assert "Too little history for a risk model" in _texts(at)
    assert not at.button  # nothing to train


def test_a_tampered_model_shows_retrain_not_a_crash(open_app, demo_db_url, demo_dataset, model_dir):
    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    at.button(key="risk_train").click().run(timeout=120)
    folder = next(model_dir.iterdir())
    canary = model_dir.parent / "canary"
    # A pickle whose unpickling would create the canary file, in place of the model.
    payload = b"c__builtin__\nopen\n(" + f"S'{canary}'\nS'w'\ntR.".encode()
    (folder / registry.MODEL_FILE).write_bytes(payload)

    at = open_app(demo_db_url, VIEW, query={"lang": "en"})
    assert "The stored model cannot be used" in _texts(at)
    assert "does not match its recorded hash" in _texts(at)  # the reason, as plain text
    assert not at.dataframe
    assert not canary.exists()
    at.button(key="risk_train_again").click().run(timeout=120)
    assert not at.exception
    assert len(at.dataframe[0].value) == _open_count(demo_dataset)


def test_without_stage_history_the_page_says_it_falls_back(
    open_app, demo_dataset, tmp_path, model_dir
):
    from dealscope import store

    url = f"sqlite:///{tmp_path / 'nohistory.db'}"
    engine = store.get_engine(url)
    no_events = demo_dataset.stage_events.iloc[0:0]
    store.write_dataset(
        engine, "export", demo_dataset.opportunities, no_events, demo_dataset.stages
    )
    engine.dispose()
    at = open_app(url, VIEW, query={"lang": "en"})
    at.button(key="risk_train").click().run(timeout=120)
    assert not at.exception
    assert "has no stage history" in _texts(at)
    assert len(at.dataframe[0].value) == _open_count(demo_dataset)
    card = json.loads((next(model_dir.iterdir()) / registry.CARD_FILE).read_text(encoding="utf-8"))
    assert card["mode"] == "fallback"
    assert "stage" not in card["features"]
