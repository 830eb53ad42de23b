"""Failure model: calibrated probability that a charger is, or within 30 days will be, out of
service from a failure, with per-row contributing factors.

Gradient-boosted trees with monotonic constraints where the physics is clear (a fault status,
an error code, heat, age, use or overdue service never lowers the risk; see
features.FAILURE_FEATURES), so values beyond the training range never lower it either (the
trees hold their last value). The trees' log-odds are calibrated with a logistic fit (Platt
scaling) on chargers the trees never saw: strictly increasing, so every signal the trees learned
moves the probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .features import FAILURE_FEATURE_NAMES, FAILURE_FEATURES, Array

# A contributing factor must raise the odds of failure by at least 5 %.
MIN_FACTOR_LOG_ODDS = 0.05


class FailureModel(ClassifierMixin, BaseEstimator):
    """Monotone gradient-boosted trees, calibrated on chargers the trees never saw.

    `contributions` follows each row down every tree and credits each split's change of the
    expected log-odds to the split's feature (Saabas path attribution): per-row factors that
    add up exactly to the model's own decision value.
    """

    def __init__(
        self,
        max_iter: int = 150,
        learning_rate: float = 0.08,
        max_leaf_nodes: int = 15,
        calibration_fraction: float = 0.3,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> FailureModel:
        X, y = np.asarray(X, dtype=float), np.asarray(y).astype(int)
        groups = np.arange(len(X)) if groups is None else np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        unique = np.unique(groups)
        held = rng.choice(
            unique, size=max(1, int(len(unique) * self.calibration_fraction)), replace=False
        )
        calibrate = np.isin(groups, held)
        self.monotonic_cst_ = [FAILURE_FEATURES[name] for name in FAILURE_FEATURE_NAMES]
        self.booster_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            monotonic_cst=self.monotonic_cst_,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X[~calibrate], y[~calibrate])
        raw = self.booster_.decision_function(X[calibrate]).reshape(-1, 1)
        self.calibrator_ = LogisticRegression(C=1e6).fit(raw, y[calibrate])
        self.node_values_ = [_expected_values(tree[0].nodes) for tree in self.booster_._predictors]
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_path_cache", None)  # derived from the trees; rebuilt on first use
        return state

    def predict_proba(self, X: Array) -> Array:
        """[P(no failure), P(failure)] per row."""
        check_is_fitted(self, "booster_")
        raw = self.booster_.decision_function(np.asarray(X, dtype=float)).reshape(-1, 1)
        p: Array = self.calibrator_.predict_proba(raw)[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def decision_function(self, X: Array) -> Array:
        """Uncalibrated log-odds of the trees."""
        check_is_fitted(self, "booster_")
        result: Array = self.booster_.decision_function(np.asarray(X, dtype=float))
        return result

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """(per-row, per-feature log-odds contributions, bias); they sum to decision_function."""
        check_is_fitted(self, "booster_")
        X = np.asarray(X, dtype=np.float64)
        paths = self._paths()
        known, f_idx_map = self.booster_._bin_mapper.make_known_categories_bitsets()
        contrib = np.zeros_like(X)
        for locator, path in paths:
            # The compiled tree walk returns each row's leaf index (leaf values replaced by ids).
            leaf = locator.predict(X, known, f_idx_map, n_threads=1).astype(np.intp)
            contrib += path[leaf]
        return contrib, self._bias()

    def _bias(self) -> float:
        root = sum(float(values[0]) for values in self.node_values_)
        return float(np.ravel(self.booster_._baseline_prediction)[0]) + root

    def _paths(self) -> list[tuple[TreePredictor, np.ndarray]]:
        """Per tree: a leaf locator and each node's accumulated contribution vector (cached)."""
        cached: list[tuple[TreePredictor, Array]] | None = getattr(self, "_path_cache", None)
        if cached is not None:
            return cached
        d = self.n_features_in_
        paths = []
        for (predictor,), expected in zip(
            self.booster_._predictors, self.node_values_, strict=True
        ):
            nodes = predictor.nodes
            accumulated = np.zeros((len(nodes), d))
            for i in range(len(nodes)):  # parents come before their children
                if not nodes["is_leaf"][i]:
                    for child in (nodes["left"][i], nodes["right"][i]):
                        accumulated[child] = accumulated[i]
                        accumulated[child, nodes["feature_idx"][i]] += expected[child] - expected[i]
            ids = nodes.copy()
            ids["value"] = np.arange(len(nodes))
            locator = TreePredictor(
                ids, predictor.binned_left_cat_bitsets, predictor.raw_left_cat_bitsets
            )
            paths.append((locator, accumulated))
        self._path_cache = paths
        return paths

    def top_factors(self, X: np.ndarray, k: int = 3) -> list[list[str]]:
        """Per row, up to k features that push its failure risk up the most."""
        contrib, _ = self.contributions(X)
        order = np.argsort(-contrib, axis=1)[:, :k]
        return [
            [FAILURE_FEATURE_NAMES[j] for j in row if contrib[i, j] > MIN_FACTOR_LOG_ODDS]
            for i, row in enumerate(order)
        ]


def _expected_values(nodes: np.ndarray) -> np.ndarray:
    """Count-weighted mean leaf value under every node (children follow parents in order)."""
    values = nodes["value"].astype(float)
    counts = nodes["count"].astype(float)
    for i in range(len(nodes) - 1, -1, -1):
        if not nodes["is_leaf"][i]:
            left, right = nodes["left"][i], nodes["right"][i]
            values[i] = (values[left] * counts[left] + values[right] * counts[right]) / (
                counts[left] + counts[right]
            )
    return values
