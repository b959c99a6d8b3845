"""The entry points the CLI and the UI share: train-and-save, load-or-train, score a dataset,
and the model risk of a weekly report (loaded here, passed into the report)."""

from __future__ import annotations

import os

import pandas as pd

from dealscope.model import Dataset
from dealscope.risk import registry
from dealscope.risk.card import DatasetRef, ModelCard
from dealscope.risk.score import RiskScores, score_open_deals
from dealscope.risk.train import Progress, TrainedModel, train_risk_model

# Why a report has no model column (i18n keys weekly.risk.<code>).
RISK_NO_MODEL = "no_model"
RISK_UNAVAILABLE = "unavailable"
RISK_OK = "model"


def dataset_as_of(dataset: Dataset) -> pd.Timestamp:
    """The dataset's analysis date (Dataset.as_of), which the model is trained as of."""
    return dataset.as_of


def dataset_hash(dataset: Dataset, activities: pd.DataFrame | None = None) -> str:
    """SHA-256 of the dataset's canonical frames and its follow-up log (`activities`, from
    dealscope.activity.store.read_activities): a model is tied to exactly this data."""
    return registry.data_hash(
        dataset.opportunities, dataset.stage_events, dataset.stages, activities
    )


def train_and_save(
    dataset: Dataset,
    directory: str | os.PathLike | None = None,
    progress: Progress | None = None,
    data_hash: str | None = None,
    activities: pd.DataFrame | None = None,
) -> TrainedModel:
    """Train on a stored dataset (and its follow-up log, when given) and save model + card +
    manifest; raises InsufficientData."""
    hash_ = data_hash or dataset_hash(dataset, activities)
    trained = train_risk_model(
        dataset.opportunities,
        dataset.stage_events,
        dataset.stages,
        dataset_as_of(dataset),
        dataset=DatasetRef(dataset.id, dataset.name, hash_),
        progress=progress,
        activities=activities,
    )
    registry.save_model(trained.estimator, trained.card, directory)
    return trained


def load_or_train(
    dataset: Dataset,
    directory: str | os.PathLike | None = None,
    activities: pd.DataFrame | None = None,
) -> tuple[object, ModelCard, bool]:
    """(estimator, card, trained_now): the stored model, or a new one when missing/unusable."""
    hash_ = dataset_hash(dataset, activities)
    try:
        estimator, card = registry.load_model(dataset.id, hash_, directory)
        return estimator, card, False
    except (registry.ModelMissing, registry.ModelUnavailable):
        trained = train_and_save(dataset, directory, data_hash=hash_, activities=activities)
        return trained.estimator, trained.card, True


def score_dataset(
    dataset: Dataset,
    estimator,
    card: ModelCard,
    moment: pd.Timestamp | None = None,
    activities: pd.DataFrame | None = None,
) -> RiskScores:
    """score_open_deals on a stored dataset as of `moment` (default: its own analysis date);
    `activities`: its follow-up log (needed when the model uses it)."""
    return score_open_deals(
        estimator,
        card,
        dataset.opportunities,
        dataset.stage_events,
        dataset.stages,
        dataset_as_of(dataset) if moment is None else moment,
        activities=activities,
    )


def stored_model_risk(
    dataset: Dataset,
    moment: pd.Timestamp,
    directory: str | os.PathLike | None = None,
    activities: pd.DataFrame | None = None,
) -> tuple[RiskScores | None, str]:
    """The stored model's scores of the deals open at `moment`, or (None, reason code) when no
    model is stored for this exact data or it cannot be used. Never trains."""
    try:
        estimator, card = registry.load_model(
            dataset.id, dataset_hash(dataset, activities), directory
        )
    except registry.ModelMissing:
        return None, RISK_NO_MODEL
    except registry.ModelUnavailable:
        return None, RISK_UNAVAILABLE
    return score_dataset(dataset, estimator, card, moment, activities), RISK_OK
