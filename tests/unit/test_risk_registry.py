"""Model files: skops with a trusted list, a manifest, refusal of anything else (RELIABILITY F7/F8)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import threading
import warnings
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.preprocessing import FunctionTransformer

from dealscope.demo import generate_demo
from dealscope.metrics.kpis import infer_as_of
from dealscope.model import normalise_opportunities, normalise_stage_events
from dealscope.risk import features as F
from dealscope.risk import registry
from dealscope.risk.card import DatasetRef
from dealscope.risk.score import open_points
from dealscope.risk.train import train_risk_model

DATASET_ID = 7


class Canary:
    """A pickle payload: unpickling it creates the file at `path` (code execution)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture(scope="module")
def trained():
    opps, events, stages = generate_demo(n=1200)
    opps, events = normalise_opportunities(opps), normalise_stage_events(events)
    as_of = infer_as_of(opps, events)
    hash_ = registry.data_hash(opps, events, stages)
    model = train_risk_model(
        opps, events, stages, as_of, dataset=DatasetRef(DATASET_ID, "t", hash_)
    )
    spec = model.card.spec
    points = open_points(opps, as_of, undated=False)
    norms = F.compute_norms(opps, events, stages, as_of)
    X = F.model_matrix(F.features_at(points, opps, events, stages, spec, norms, as_of), spec)
    return model, hash_, X


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _forge_manifest(folder: Path) -> None:
    """What an attacker with write access could also do: make the hashes match."""
    manifest = json.loads((folder / registry.MANIFEST_FILE).read_text())
    for name in manifest["files"]:
        manifest["files"][name] = _sha(folder / name)
    (folder / registry.MANIFEST_FILE).write_text(json.dumps(manifest))


def test_round_trip_gives_the_same_probabilities(trained, tmp_path):
    model, hash_, X = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock", "card.json", "manifest.json", "model.skops"
    ]  # fmt: skip
    estimator, card = registry.load_model(DATASET_ID, hash_, tmp_path)
    assert card == model.card  # the dataclass card survives the JSON file
    assert (estimator.predict_proba(X) == model.estimator.predict_proba(X)).all()


def test_model_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(registry.MODEL_DIR_ENV, str(tmp_path / "m"))
    assert registry.model_dir() == tmp_path / "m"
    monkeypatch.delenv(registry.MODEL_DIR_ENV)
    assert registry.model_dir() == Path("models")


def test_the_canary_pickle_is_live(tmp_path):
    # Proves the payload below really executes code when unpickled (so its absence means something).
    target = tmp_path / "proof"
    pickle.loads(pickle.dumps(Canary(target)))
    assert target.exists()


@pytest.mark.parametrize("forge", [False, True], ids=["no-manifest-update", "forged-manifest"])
def test_a_malicious_pickle_in_place_of_the_model_is_refused(trained, tmp_path, forge):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    canary = tmp_path / "canary"
    (folder / registry.MODEL_FILE).write_bytes(pickle.dumps(Canary(canary)))
    if forge:
        _forge_manifest(folder)
    with pytest.raises(registry.ModelUnavailable, match="retrain"):
        registry.load_model(DATASET_ID, hash_, tmp_path)
    assert not canary.exists()


def test_a_pickle_without_any_manifest_is_refused(tmp_path):
    folder = registry.model_path(DATASET_ID, "f" * 64, tmp_path)
    folder.mkdir(parents=True)
    canary = tmp_path / "canary"
    (folder / registry.MODEL_FILE).write_bytes(pickle.dumps(Canary(canary)))
    with pytest.raises(registry.ModelUnavailable, match="manifest"):
        registry.load_model(DATASET_ID, "f" * 64, tmp_path)
    assert not canary.exists()


def test_a_skops_file_with_untrusted_types_is_refused(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    sio.dump(FunctionTransformer(func=os.system), folder / registry.MODEL_FILE)
    _forge_manifest(folder)
    with pytest.raises(registry.ModelUnavailable, match="untrusted types"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


@pytest.mark.parametrize("forge", [False, True], ids=["hash-mismatch", "truncated-zip"])
def test_a_truncated_model_means_retrain(trained, tmp_path, forge):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    path = folder / registry.MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    if forge:
        _forge_manifest(folder)
    with pytest.raises(registry.ModelUnavailable, match="retrain"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_a_corrupt_archive_with_valid_zip_header_means_retrain(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    path = folder / registry.MODEL_FILE
    data = bytearray(path.read_bytes())
    data[200:400] = b"\0" * 200  # damage inside the archive, the central directory intact
    path.write_bytes(bytes(data))
    _forge_manifest(folder)
    with pytest.raises(registry.ModelUnavailable, match="retrain"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_another_sklearn_version_in_the_card_means_retrain(trained, tmp_path):
    model, hash_, _ = trained
    card = dataclasses.replace(model.card, sklearn_version="0.24.2")
    registry.save_model(model.estimator, card, tmp_path)
    with pytest.raises(registry.ModelUnavailable, match=r"scikit-learn 0\.24\.2.*retrain"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_an_inconsistent_version_warning_means_retrain(trained, tmp_path, monkeypatch):
    model, hash_, _ = trained
    registry.save_model(model.estimator, model.card, tmp_path)

    def load_from_other_version(*args, **kwargs):
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name="Pipeline",
                current_sklearn_version="1.9.1",
                original_sklearn_version="1.2.0",
            ),
            stacklevel=1,
        )
        return object()

    monkeypatch.setattr(registry.sio, "load", load_from_other_version)
    with pytest.raises(registry.ModelUnavailable, match="another scikit-learn version"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_a_model_is_tied_to_its_dataset(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    with pytest.raises(registry.ModelMissing):
        registry.load_model(DATASET_ID, "0" * 64, tmp_path)  # other data: no model yet
    # A card of another dataset copied into this dataset's folder is refused.
    card = json.loads((folder / registry.CARD_FILE).read_text())
    card["dataset"]["id"] = DATASET_ID + 1
    (folder / registry.CARD_FILE).write_text(json.dumps(card))
    _forge_manifest(folder)
    with pytest.raises(registry.ModelUnavailable, match="other data"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_a_manifest_not_written_by_dealscope_is_refused(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.save_model(model.estimator, model.card, tmp_path)
    manifest = json.loads((folder / registry.MANIFEST_FILE).read_text())
    manifest["writer"] = "someone else"
    (folder / registry.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(registry.ModelUnavailable, match="not written by DealScope"):
        registry.load_model(DATASET_ID, hash_, tmp_path)


def test_the_data_hash_changes_with_the_data(trained):
    opps, events, stages = generate_demo(n=300)
    first = registry.data_hash(opps, events, stages)
    assert first == registry.data_hash(opps.copy(), events, stages)
    changed = opps.copy()
    changed.loc[0, "amount"] += 1
    assert registry.data_hash(changed, events, stages) != first


def test_thirty_concurrent_saves_all_succeed_and_leave_a_valid_model(trained, tmp_path):
    model, hash_, X = trained
    errors: list[BaseException] = []
    start = threading.Barrier(30)

    def save() -> None:
        try:
            start.wait()
            registry.save_model(model.estimator, model.card, tmp_path)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    estimator, card = registry.load_model(DATASET_ID, hash_, tmp_path)
    assert (estimator.predict_proba(X) == model.estimator.predict_proba(X)).all()
    folder = registry.model_path(DATASET_ID, hash_, tmp_path)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_a_symlinked_model_file_is_replaced_never_followed(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.model_path(DATASET_ID, hash_, tmp_path / "models")
    folder.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (folder / registry.MODEL_FILE).symlink_to(outside)
    (folder / registry.CARD_FILE).symlink_to(outside)
    registry.save_model(model.estimator, model.card, tmp_path / "models")
    assert outside.read_text() == "keep me"
    assert not (folder / registry.MODEL_FILE).is_symlink()
    registry.load_model(DATASET_ID, hash_, tmp_path / "models")


def test_a_symlinked_model_folder_is_refused(trained, tmp_path):
    model, hash_, _ = trained
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = registry.model_path(DATASET_ID, hash_, tmp_path / "models")
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(registry.ModelFolderError, match="symbolic link"):
        registry.save_model(model.estimator, model.card, tmp_path / "models")
    assert list(elsewhere.iterdir()) == []


def test_a_directory_named_like_the_model_file_is_a_clear_error(trained, tmp_path):
    model, hash_, _ = trained
    folder = registry.model_path(DATASET_ID, hash_, tmp_path)
    (folder / registry.MODEL_FILE).mkdir(parents=True)
    with pytest.raises(registry.ModelFolderError, match="is a directory"):
        registry.save_model(model.estimator, model.card, tmp_path)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]
