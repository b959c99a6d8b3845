"""The two candidate models the training compares on the calibration slice (fixed random state).

- `hgb`: HistGradientBoosting with native categorical features (ordinal codes, unknown levels as
  missing), shallow trees and L2 regularisation: captures thresholds such as "stalled past N days".
- `logistic`: L2-regularised logistic regression on one-hot categoricals and standardised numbers:
  smooth, hard to overfit on small datasets.
"""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from dealscope.risk.features import FeatureSpec

RANDOM_STATE = 0


def candidate_models(spec: FeatureSpec) -> dict[str, Pipeline]:
    """The two unfitted candidate pipelines over spec's categorical + numeric columns."""
    cats, nums = list(spec.categorical), list(spec.numeric)
    hgb = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        (
                            "cat",
                            OrdinalEncoder(
                                handle_unknown="use_encoded_value",
                                unknown_value=np.nan,
                                encoded_missing_value=np.nan,
                            ),
                            cats,
                        ),
                        ("num", "passthrough", nums),
                    ]
                ),
            ),
            (
                "model",
                HistGradientBoostingClassifier(
                    categorical_features=[True] * len(cats) + [False] * len(nums),
                    learning_rate=0.06,
                    max_iter=200,
                    max_leaf_nodes=15,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=RANDOM_STATE,
                ),
            ),
        ]
    )
    logistic = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
                        (
                            "num",
                            Pipeline(
                                [
                                    ("impute", SimpleImputer(strategy="median")),
                                    ("scale", StandardScaler()),
                                ]
                            ),
                            nums,
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(C=0.3, max_iter=2000)),
        ]
    )
    return {"hgb": hgb, "logistic": logistic}
