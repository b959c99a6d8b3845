"""The model card: a named contract (dataclasses), stored as JSON beside the model.

The headline figures (`metrics`) are the backtest's: for each past cut-off, a model trained only on
what was known then scores the deals open at that cut-off and is measured on the outcomes that
arrived after it. Undated datasets are validated by cross-validation instead (`validation`
says which). `closed_split` is the older, secondary figure: snapshots of deals that closed in the
latest quarter, which is not the population the model scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dealscope.risk.availability import AvailabilityRow
from dealscope.risk.features import FeatureSpec

CARD_FORMAT = "dealscope-risk-card/2"
BACKTEST, CROSS_VALIDATION = "backtest", "cross-validation"


@dataclass(frozen=True)
class ReliabilityBin:
    bin: int
    mean_predicted: float
    observed: float
    weight: float


@dataclass(frozen=True)
class Metrics:
    """Figures of a probability forecast against outcomes (None where undefined)."""

    auc: float | None
    pr_auc: float | None
    brier: float
    lift_top_decile: float | None
    base_rate: float
    n: int
    reliability: tuple[ReliabilityBin, ...] = ()


@dataclass(frozen=True)
class CutoffResult:
    """One backtest cut-off: deals open then, how many resolved by the export, and the figures."""

    cutoff: str
    training_rows: int
    open_deals: int
    resolved: int
    unresolved: int
    auc: float | None
    brier: float | None


@dataclass(frozen=True)
class Validation:
    """How the headline figures were obtained.

    kind: BACKTEST or CROSS_VALIDATION. horizon_days: how long before a cut-off a training
    snapshot must lie (so most of its deals have resolved by the cut-off). unresolved_share: share
    of the deals open at the cut-offs still unresolved at the export date — left out of the
    figures because their outcome is unknown (unresolved_policy says so).
    """

    kind: str
    horizon_days: float | None
    cutoffs: tuple[CutoffResult, ...]
    unresolved: int
    unresolved_share: float | None
    unresolved_policy: str
    folds: int | None = None


@dataclass(frozen=True)
class DatasetRef:
    id: int | None
    name: str | None
    data_hash: str | None


@dataclass(frozen=True)
class Thresholds:
    high: float
    low: float


@dataclass(frozen=True)
class Calibration:
    """Platt scaling on the model's raw log-odds: logit(p) = slope · raw + intercept."""

    slope: float
    intercept: float


@dataclass(frozen=True)
class ModelCard:
    format: str
    dataset: DatasetRef
    as_of: str
    trained_at: str
    sklearn_version: str
    python_version: str
    spec: FeatureSpec
    calibration: Calibration
    reference: dict[str, float | None]
    thresholds: Thresholds
    metrics: Metrics
    baseline: Metrics
    validation: Validation
    closed_split: Metrics | None
    beats_baseline: bool
    rows: dict[str, int]
    feature_availability: tuple[AvailabilityRow, ...]
    norms: dict = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return self.spec.mode

    def to_json(self) -> dict:
        data = asdict(self)
        data["spec"] = self.spec.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict) -> ModelCard:
        def metrics(d: dict | None) -> Metrics | None:
            if d is None:
                return None
            bins = tuple(ReliabilityBin(**b) for b in d.get("reliability", ()))
            return Metrics(**{**d, "reliability": bins})

        v = data["validation"]
        return cls(
            format=data["format"],
            dataset=DatasetRef(**data["dataset"]),
            as_of=data["as_of"],
            trained_at=data["trained_at"],
            sklearn_version=data["sklearn_version"],
            python_version=data["python_version"],
            spec=FeatureSpec.from_json(data["spec"]),
            calibration=Calibration(**data["calibration"]),
            reference=dict(data["reference"]),
            thresholds=Thresholds(**data["thresholds"]),
            metrics=metrics(data["metrics"]),
            baseline=metrics(data["baseline"]),
            validation=Validation(
                **{**v, "cutoffs": tuple(CutoffResult(**c) for c in v["cutoffs"])}
            ),
            closed_split=metrics(data.get("closed_split")),
            beats_baseline=bool(data["beats_baseline"]),
            rows={k: int(x) for k, x in data["rows"].items()},
            feature_availability=tuple(AvailabilityRow(**r) for r in data["feature_availability"]),
            norms=dict(data.get("norms", {})),
        )
