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

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.linear_model import LogisticRegression
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils.validation import check_is_fitted

from .features import FAILURE_FEATURE_NAMES, FAILURE_FEATURES, Array

# A contributing factor must raise the odds of failure by at least 5 %.
MIN_FACTOR_LOG_ODDS = 0.05


class FailureModel(ClassifierMixin, BaseEstimator):
    """Monotone gradient-boosted trees, calibrated on chargers the trees never saw.

    Every prediction walks each row down every tree once (compiled, to the leaf's node id); the
    leaves give the log-odds and, through each leaf's path vector, `contributions`: each split's
    change of the expected log-odds credited to the split's feature (Saabas path attribution),
    per-row factors that add up exactly to the model's own decision value. A row's result never
    depends on the other rows of its batch.
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

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> FailureModel:
        """Fit the trees on most chargers and calibrate on the rest (`groups`: each row's
        charger); `sample_weight`: a sampled history's weights (models.train.datasets)."""
        X, y = np.asarray(X, dtype=float), np.asarray(y).astype(int)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
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
        ).fit(X[~calibrate], y[~calibrate], sample_weight=w[~calibrate])
        self.node_values_ = [_expected_values(tree[0].nodes) for tree in self.booster_._predictors]
        # Chargers the trees never saw; all rows when those hold a single class (a small fleet).
        held = calibrate if len(np.unique(y[calibrate])) == 2 else np.ones(len(y), dtype=bool)
        raw = self.decision_function(X[held]).reshape(-1, 1)
        self.calibrator_ = LogisticRegression(C=1e6).fit(raw, y[held], sample_weight=w[held])
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_forest_cache", None)  # derived from the trees; rebuilt on first use
        return state

    def predict_proba(self, X: Array) -> Array:
        """[P(no failure), P(failure)] per row."""
        p = _in_chunks(X, lambda part: self._calibrated(self._raw(self._leaves(part))))
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def decision_function(self, X: Array) -> Array:
        """Uncalibrated log-odds of the trees."""
        return _in_chunks(X, lambda part: self._raw(self._leaves(part)))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """(per-row, per-feature log-odds contributions, bias); they sum to decision_function."""
        return _in_chunks(X, lambda part: self._contributions(self._leaves(part))), self._bias()

    def top_factors(self, X: np.ndarray, k: int = 3) -> list[list[str]]:
        """Per row, up to k features that push its failure risk up the most."""
        return _strongest(self._contributions(self._leaves(X)), k)

    def assess(self, X: Array, k: int = 3) -> tuple[Array, list[list[str]]]:
        """predict_proba's P(failure) and top_factors from one walk down the trees."""
        leaves = self._leaves(X)
        return self._calibrated(self._raw(leaves)), _strongest(self._contributions(leaves), k)

    def _leaves(self, X: Array) -> npt.NDArray[np.intp]:
        """Each row's leaf in every tree: (rows, trees) indices into the forest's node arrays."""
        check_is_fitted(self, "booster_")
        X = np.asarray(X, dtype=np.float64)
        forest = self._forest()
        threads = _openmp_effective_n_threads()  # as many as the booster would use
        leaves = np.empty((len(X), len(forest.locators)), dtype=np.intp)
        for tree, locator in enumerate(forest.locators):
            # The compiled tree walk returns each row's leaf (leaf values replaced by node ids).
            leaves[:, tree] = locator.predict(X, *forest.categories, n_threads=threads)
        return leaves

    def _raw(self, leaves: npt.NDArray[np.intp]) -> Array:
        values: Array = self._forest().leaf_values[leaves].sum(axis=1)
        return values + float(np.ravel(self.booster_._baseline_prediction)[0])

    def _calibrated(self, raw: Array) -> Array:
        p: Array = self.calibrator_.predict_proba(raw.reshape(-1, 1))[:, 1]
        return p

    def _contributions(self, leaves: npt.NDArray[np.intp]) -> Array:
        """Sum of every row's leaves' path vectors: one sparse (rows x nodes) product."""
        forest = self._forest()
        rows, trees = leaves.shape
        visits = sparse.csr_matrix(
            (np.ones(rows * trees), leaves.ravel(), np.arange(0, rows * trees + 1, trees)),
            shape=(rows, len(forest.paths)),
        )
        result: Array = np.asarray(visits @ forest.paths)
        return result

    def _bias(self) -> float:
        root = sum(float(values[0]) for values in self.node_values_)
        return float(np.ravel(self.booster_._baseline_prediction)[0]) + root

    def _forest(self) -> _Forest:
        """All trees as one node array: leaf locators, leaf values and path vectors (cached)."""
        cached: _Forest | None = getattr(self, "_forest_cache", None)
        if cached is None:
            cached = self._forest_cache = _build_forest(self.booster_, self.node_values_)
        return cached


# Rows walked down the trees at once: the leaves of a chunk are rows x trees indices (8 bytes
# each), so a chunk of 65,536 rows and 200 trees holds 100 MB, whatever the rows asked.
CHUNK_ROWS = 65_536


def _in_chunks(X: Array, walk: Callable[[Array], Array]) -> Array:
    X = np.asarray(X)
    if len(X) <= CHUNK_ROWS:
        return walk(X)
    return np.concatenate([walk(X[i : i + CHUNK_ROWS]) for i in range(0, len(X), CHUNK_ROWS)])


class _Forest(NamedTuple):
    locators: list[TreePredictor]  # per tree; "predicts" global node ids
    leaf_values: Array  # per node: the tree's output at that node (leaves only matter)
    paths: Array  # per node: the log-odds each feature added on the way down to it
    categories: tuple[Any, Any]  # the booster's known-category bitsets, as predict wants them


def _build_forest(booster: HistGradientBoostingClassifier, expected: list[Array]) -> _Forest:
    d = booster.n_features_in_
    locators, leaf_values, paths, offset = [], [], [], 0
    for (predictor,), means in zip(booster._predictors, expected, strict=True):
        nodes = predictor.nodes
        accumulated = np.zeros((len(nodes), d))
        for i in range(len(nodes)):  # parents come before their children
            if not nodes["is_leaf"][i]:
                for child in (nodes["left"][i], nodes["right"][i]):
                    accumulated[child] = accumulated[i]
                    accumulated[child, nodes["feature_idx"][i]] += means[child] - means[i]
        ids = nodes.copy()
        ids["value"] = np.arange(len(nodes)) + offset
        locators.append(
            TreePredictor(ids, predictor.binned_left_cat_bitsets, predictor.raw_left_cat_bitsets)
        )
        leaf_values.append(nodes["value"].astype(np.float64))
        paths.append(accumulated)
        offset += len(nodes)
    categories = booster._bin_mapper.make_known_categories_bitsets()
    return _Forest(locators, np.concatenate(leaf_values), np.vstack(paths), categories)


def _strongest(contributions: Array, k: int) -> list[list[str]]:
    """Per row, the names of up to k largest contributions above MIN_FACTOR_LOG_ODDS."""
    order = np.argsort(-contributions, axis=1)[:, :k]
    kept = np.take_along_axis(contributions, order, axis=1) > MIN_FACTOR_LOG_ODDS
    # A fleet shares few distinct answers: name each once. An answer is coded as one number,
    # digit i (base: features + 1) being its i-th feature + 1, or 0 when not kept.
    base = len(FAILURE_FEATURE_NAMES) + 1
    codes = np.where(kept, order + 1, 0) @ (base ** np.arange(order.shape[1]))
    answers, row_answer = np.unique(codes, return_inverse=True)
    names = [_decoded(int(code), base) for code in answers.tolist()]
    return [list(names[i]) for i in row_answer.tolist()]


def _decoded(code: int, base: int) -> tuple[str, ...]:
    names = []
    while code:
        code, digit = divmod(code, base)
        if digit:
            names.append(FAILURE_FEATURE_NAMES[digit - 1])
    return tuple(names)


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
