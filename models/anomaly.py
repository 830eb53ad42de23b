"""Anomaly detector trained on normal behaviour, per regime (AC/DC x idle/charging).

Two views of "unusual", both learned from normal rows only: an IsolationForest over the
z-scores (odd combinations) and the largest single z-score (one sensor far out of range, which
an IsolationForest cannot rank beyond its most extreme training row). The score is the higher
of the two percentiles among normal training rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_is_fitted

from .features import FEATURE_INDEX

# Sensor plausibility, not wear: error counts and slow drift belong to the failure model.
ANOMALY_FEATURES = (
    "log_power_ratio",
    "temperature_c",
    "connector_temp_rise_c",
    "fan_rpm_ratio",
    "grid_voltage_deviation",
    "log_energy_kwh",
)
_COLUMNS = [FEATURE_INDEX[name] for name in ANOMALY_FEATURES]
_Z = {name: i for i, name in enumerate(ANOMALY_FEATURES)}


def regime(X: np.ndarray) -> np.ndarray:
    """0..3: (AC|DC) x (idle|charging); normal telemetry differs a lot between them."""
    return (X[:, FEATURE_INDEX["is_dc"]] > 0).astype(int) * 2 + (
        X[:, FEATURE_INDEX["is_charging"]] > 0
    ).astype(int)


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Score 0..100 = how unusual a row is among normal rows of its regime."""

    def __init__(
        self, n_estimators: int = 100, threshold: float = 99.8, random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> AnomalyDetector:
        X = np.asarray(X, dtype=float)
        regimes = regime(X)
        values = X[:, _COLUMNS]
        self.mean_ = np.zeros((4, len(_COLUMNS)))
        self.std_ = np.ones((4, len(_COLUMNS)))
        for r in range(4):
            rows = values[regimes == r]
            if len(rows) > 1:
                self.mean_[r] = rows.mean(axis=0)
                self.std_[r] = np.maximum(rows.std(axis=0), 1e-3)
        z = self._z(X)
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=self.random_state
        ).fit(z)
        self.forest_scores_ = np.sort(-self.forest_.score_samples(z))
        self.extreme_scores_ = np.sort(np.abs(z).max(axis=1))
        self.n_features_in_ = X.shape[1]
        return self

    def _z(self, X: np.ndarray) -> np.ndarray:
        r = regime(X)
        return (X[:, _COLUMNS] - self.mean_[r]) / self.std_[r]

    def zscores(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "forest_")
        return self._z(np.asarray(X, dtype=float))

    def score(self, X: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """0..100: share of normal training rows less unusual than each row."""
        check_is_fitted(self, "forest_")
        z = self._z(np.asarray(X, dtype=float))
        forest = _percentile(self.forest_scores_, -self.forest_.score_samples(z))
        extreme = _percentile(self.extreme_scores_, np.abs(z).max(axis=1))
        return np.maximum(forest, extreme)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 for anomalies, 0 for normal rows (not scikit-learn's -1/1: JSON reads better)."""
        return (self.score(X) >= self.threshold).astype(int)

    @staticmethod
    def classify(z: np.ndarray, X: np.ndarray, is_anomaly: np.ndarray) -> list[str]:
        """Name each anomaly from its deviations: which sensor pattern explains it."""
        charging = X[:, FEATURE_INDEX["is_charging"]] > 0
        names = []
        for row, flagged, on in zip(z, is_anomaly, charging, strict=True):
            names.append(_kind(row, on) if flagged else "none")
        return names


def _percentile(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    return 100.0 * np.searchsorted(reference, values, side="right") / len(reference)


def _kind(z: np.ndarray, charging: bool) -> str:
    if charging and z[_Z["log_power_ratio"]] < -3:
        return "power_drop"
    if charging and z[_Z["log_energy_kwh"]] < -3:
        return "stuck_meter"
    if z[_Z["temperature_c"]] > 3 and z[_Z["connector_temp_rise_c"]] > 3:
        return "thermal_runaway"
    return "sensor_spike"
