"""Safe persistence of risk models: skops with an explicit trusted-type list, a JSON model card and
a SHA-256 manifest written by DealScope (RELIABILITY S2, F7, F8).

Layout: `<model dir>/<dataset id>-<data hash[:16]>/{model.skops, card.json, manifest.json}`; the
model dir is $DEALSCOPE_MODEL_DIR, else `models/` (git-ignored). Loading checks, in order: the
manifest exists and was written by DealScope; both files match their SHA-256; the card belongs to
the requested dataset and data hash; the card's sklearn version is the running one; the model file
is a skops zip whose every non-default type is on TRUSTED_TYPES. Any failure means "retrain",
never a crash, and no file is ever unpickled (pickle/joblib are never called on a model file).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import sklearn
import skops.io as sio
from sklearn.exceptions import InconsistentVersionWarning

from dealscope.activity.model import ACTIVITY_COLUMNS
from dealscope.errors import DealScopeError
from dealscope.model import OPPORTUNITY_COLUMNS, STAGE_COLUMNS, STAGE_EVENT_COLUMNS
from dealscope.risk.card import ModelCard

MODEL_DIR_ENV = "DEALSCOPE_MODEL_DIR"
DEFAULT_MODEL_DIR = "models"
MODEL_FILE, CARD_FILE, MANIFEST_FILE = "model.skops", "card.json", "manifest.json"
MANIFEST_WRITER = "DealScope"
MANIFEST_FORMAT = "dealscope-risk-model/1"
# The only types beyond skops' defaults a DealScope risk model contains (found with
# skops.io.get_untrusted_types on the fitted additive HistGradientBoostingClassifier). Never trusted=True.
TRUSTED_TYPES = (
    "functools.partial",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
)


class ModelMissing(DealScopeError):
    """No model has been trained for this dataset version yet."""


class ModelUnavailable(DealScopeError):
    """A stored model cannot be used (tampered, corrupt, other sklearn version): retrain it."""


def model_dir(directory: str | os.PathLike | None = None) -> Path:
    """Where models live: `directory`, else $DEALSCOPE_MODEL_DIR, else ./models."""
    return Path(directory or os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)


# `probability` is never read by the model (DESIGN §5): it does not change what a model learns,
# and leaving it out keeps the hashes (so the models) of datasets stored before the column existed.
# A current-stage entry date is an export-date fact the model never reads (and adding the column
# must not retrain every stored model).
NOT_HASHED = ("probability", "stage_entered_at")


def data_hash(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    activities: pd.DataFrame | None = None,
) -> str:
    """SHA-256 over the canonical columns of the three frames (names, values, order), and of
    the follow-up log when it has rows (a dataset without a log hashes as before; loading a log
    makes a new model, which uses it).

    Only canonical columns count: the UI may hold derived ones beside them
    and the CLI does not, and both must find the same model. Columns the model never reads
    (NOT_HASHED) do not count either.
    """
    digest = hashlib.sha256()
    for frame, canonical in (
        (opportunities, OPPORTUNITY_COLUMNS),
        (stage_events, STAGE_EVENT_COLUMNS),
        (stages, STAGE_COLUMNS),
        *(((activities, ACTIVITY_COLUMNS),) if activities is not None and len(activities) else ()),
    ):
        frame = frame.loc[:, [c for c in canonical if c in frame.columns and c not in NOT_HASHED]]
        digest.update(json.dumps([str(c) for c in frame.columns]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def model_path(dataset_id: int, hash_: str, directory: str | os.PathLike | None = None) -> Path:
    """The folder of the model tied to one dataset version and its data hash."""
    return model_dir(directory) / f"{int(dataset_id)}-{hash_[:16]}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# One lock per process for the threads of the app, plus an flock for other processes (the CLI).
_SAVE_LOCK = threading.Lock()
LOCK_FILE = ".lock"


class ModelFolderError(DealScopeError):
    """The model folder cannot be written safely (a symlink or a directory is in the way)."""


def _safe_folder(folder: Path) -> Path:
    """Create the folder; refuse a symlink anywhere we write (the folder or its parent)."""
    for path in (folder.parent, folder):
        if path.is_symlink():
            raise ModelFolderError(key="errors.risk.folder_symlink", path=str(path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_temp(folder: Path, suffix: str, write) -> Path:
    """A new uniquely named temp file in `folder` filled by write(path); returns its path."""
    handle, name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(handle)
    try:
        write(Path(name))
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _replace(tmp: Path, target: Path) -> None:
    """Rename atomically over `target`; a symlink there is replaced (never followed), a
    directory in the way is a clear error."""
    if target.is_dir() and not target.is_symlink():
        tmp.unlink(missing_ok=True)
        raise ModelFolderError(key="errors.risk.directory_in_the_way", path=str(target))
    os.replace(tmp, target)


def save_model(
    estimator: object, card: ModelCard, directory: str | os.PathLike | None = None
) -> Path:
    """Write model.skops, card.json and the manifest for card.dataset {id, data_hash}.

    Each file is written to a unique temp name and renamed over the old one (os.replace, which
    replaces a symlink rather than following it); the renames of one save happen under a lock,
    so concurrent saves never fail and the manifest always matches the files it names.
    """
    folder = _safe_folder(model_path(card.dataset.id, card.dataset.data_hash, directory))
    model_tmp = _write_temp(folder, ".skops", lambda p: sio.dump(estimator, p))
    untrusted = set(sio.get_untrusted_types(file=model_tmp)) - set(TRUSTED_TYPES)
    if untrusted:  # a new sklearn internals type: refuse to write what we could not load
        model_tmp.unlink()
        raise ModelUnavailable(key="errors.risk.untrusted_on_save", types=sorted(untrusted))
    text = json.dumps(card.to_json(), ensure_ascii=False, indent=2, default=str)
    card_tmp = _write_temp(folder, ".json", lambda p: p.write_text(text, encoding="utf-8"))
    manifest = {
        "writer": MANIFEST_WRITER,
        "format": MANIFEST_FORMAT,
        "files": {MODEL_FILE: _sha256(model_tmp), CARD_FILE: _sha256(card_tmp)},
    }
    manifest_tmp = _write_temp(
        folder, ".json", lambda p: p.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    )
    lock_path = folder / LOCK_FILE
    try:
        with _SAVE_LOCK:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                _replace(model_tmp, folder / MODEL_FILE)
                _replace(card_tmp, folder / CARD_FILE)
                _replace(manifest_tmp, folder / MANIFEST_FILE)
            finally:
                os.close(fd)
    finally:
        for tmp in (model_tmp, card_tmp, manifest_tmp):
            tmp.unlink(missing_ok=True)
    return folder


def model_token(
    dataset_id: int, hash_: str, directory: str | os.PathLike | None = None
) -> str | None:
    """SHA-256 of the stored manifest (changes with every save), or None when nothing is stored."""
    manifest = model_path(dataset_id, hash_, directory) / MANIFEST_FILE
    folder_exists = manifest.parent.exists()
    if not folder_exists:
        return None
    return _sha256(manifest) if manifest.is_file() else "no-manifest"


def _verified_card(folder: Path, dataset_id: int, hash_: str) -> ModelCard:
    manifest_path = folder / MANIFEST_FILE
    if not folder.exists():
        raise ModelMissing(key="errors.risk.missing")
    if not manifest_path.is_file():
        raise ModelUnavailable(key="errors.risk.no_manifest")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        ok = manifest.get("writer") == MANIFEST_WRITER and manifest.get("format") == MANIFEST_FORMAT
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(key="errors.risk.manifest_unreadable") from exc
    if not ok:
        raise ModelUnavailable(key="errors.risk.foreign_writer")
    for name in (MODEL_FILE, CARD_FILE):
        path = folder / name
        if not path.is_file() or _sha256(path) != files.get(name):
            raise ModelUnavailable(key="errors.risk.hash_mismatch", file=name)
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
        owner = (int(card["dataset"]["id"]), card["dataset"]["data_hash"])
        version = card["sklearn_version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(key="errors.risk.card_unreadable") from exc
    if owner != (int(dataset_id), hash_):
        raise ModelUnavailable(key="errors.risk.other_data")
    if version != sklearn.__version__:
        raise ModelUnavailable(
            key="errors.risk.sklearn_version", trained=version, running=sklearn.__version__
        )
    try:
        return ModelCard.from_json(card)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailable(key="errors.risk.card_format") from exc


def load_card(dataset_id: int, hash_: str, directory: str | os.PathLike | None = None) -> ModelCard:
    """The verified model card of a dataset version (raises ModelMissing / ModelUnavailable)."""
    return _verified_card(model_path(dataset_id, hash_, directory), dataset_id, hash_)


def load_model(
    dataset_id: int, hash_: str, directory: str | os.PathLike | None = None
) -> tuple[object, ModelCard]:
    """(estimator, card) of a dataset version, verified and loaded with the trusted list only."""
    folder = model_path(dataset_id, hash_, directory)
    card = _verified_card(folder, dataset_id, hash_)
    path = folder / MODEL_FILE
    if path.is_symlink():
        raise ModelUnavailable(key="errors.risk.model_symlink")
    if not zipfile.is_zipfile(path):
        raise ModelUnavailable(key="errors.risk.not_skops")
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelUnavailable(key="errors.risk.untrusted_on_load", types=sorted(untrusted))
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            estimator = sio.load(path, trusted=list(TRUSTED_TYPES))
    except ModelUnavailable:
        raise
    except InconsistentVersionWarning as exc:
        raise ModelUnavailable(key="errors.risk.saved_by_other_version") from exc
    except Exception as exc:  # a corrupt archive can fail in many ways; all mean "retrain"
        raise ModelUnavailable(
            key="errors.risk.model_unreadable", error_type=type(exc).__name__
        ) from exc
    return estimator, card
