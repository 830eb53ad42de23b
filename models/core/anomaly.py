"""Anomaly detector: is a reading plausible for a charger of its class in its regime?

Three views of "unusual", each scaled so that 1.0 is its threshold:
- the largest robust z-score of one reading against normal rows of the same regime (AC or DC,
  delivering power or not): one sensor far out of range;
- an IsolationForest over those z-scores: an odd combination of readings that are each fine
  (measured from the median normal row, so a typical row is 0 on this view);
- physical plausibility, no learning needed: power above the charger's rating, more energy in
  24 h than the rating allows, a cabinet above 100 degC or below -40 degC, no power while the
  status says Charging, power flowing with no energy metered.
Thresholds for the two learned views are the THRESHOLD_QUANTILE of normal training rows. The
surprise s is the largest of the three, and the score is 100 * s / (1 + s): 0..100, **50 is the
threshold** (is_anomaly), a normal charger typically scores 15-35, and twice the threshold
scores 67.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_is_fitted

from .features import ANOMALY_FEATURES, ANOMALY_REGIME, Array

THRESHOLD_SCORE: Final = 50.0
_Z = {name: i for i, name in enumerate(ANOMALY_FEATURES)}
_R = len(ANOMALY_REGIME)
# Physical limits (independent of any training data).
MAX_POWER_RATIO: Final = 1.1
MAX_ENERGY_RATIO: Final = 1.0
TEMPERATURE_RANGE_C: Final = (-40.0, 100.0)
MIN_DELIVERING_RATIO: Final = 0.02


def regime(X: Array) -> npt.NDArray[np.intp]:
    """0..3: (AC|DC) x (idle|delivering power); normal readings differ a lot between them."""
    result: npt.NDArray[np.intp] = (X[:, 0] > 0).astype(np.intp) * 2 + (X[:, 1] > 0)
    return result


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """`score(X)` 0..100 with the threshold at 50; `predict(X)` 1 for anomalies."""

    def __init__(
        self, n_estimators: int = 100, threshold_quantile: float = 0.995, random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.threshold_quantile = threshold_quantile
        self.random_state = random_state

    def fit(self, X: Array, y: object = None) -> AnomalyDetector:
        """Learn normal behaviour from rows assumed normal (the simulator's, before injection)."""
        X = np.asarray(X, dtype=float)
        regimes, values = regime(X), X[:, _R:]
        self.center_ = np.zeros((4, values.shape[1]))
        self.scale_ = np.ones((4, values.shape[1]))
        for r in range(4):
            rows = values[regimes == r]
            if len(rows) > 1:
                self.center_[r] = np.median(rows, axis=0)
                iqr = np.subtract(*np.percentile(rows, [75, 25], axis=0))
                self.scale_[r] = np.maximum(iqr / 1.349, 1e-3)
        z = self._z(X)
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, random_state=self.random_state
        ).fit(z)
        q = self.threshold_quantile
        self.z_threshold_ = float(np.quantile(np.abs(z).max(axis=1), q))
        forest = -self.forest_.score_samples(z)
        # Isolation scores of normal rows crowd together: measure from their median up.
        self.forest_median_ = float(np.median(forest))
        self.forest_threshold_ = float(np.quantile(forest, q))
        self.n_features_in_ = X.shape[1]
        return self

    def _z(self, X: Array) -> Array:
        r = regime(X)
        z: Array = (X[:, _R:] - self.center_[r]) / self.scale_[r]
        return z

    def zscores(self, X: Array) -> Array:
        check_is_fitted(self, "forest_")
        return self._z(np.asarray(X, dtype=float))

    def surprise(self, X: Array) -> Array:
        """The largest of the three views, each 1.0 at its threshold."""
        check_is_fitted(self, "forest_")
        X = np.asarray(X, dtype=float)
        z = self._z(X)
        extreme = np.abs(z).max(axis=1) / self.z_threshold_
        forest = np.maximum(-self.forest_.score_samples(z) - self.forest_median_, 0) / (
            self.forest_threshold_ - self.forest_median_
        )
        result: Array = np.maximum.reduce([extreme, forest, physical_violation(X)])
        return result

    def score(self, X: Array) -> Array:
        """0..100; 50 is the threshold."""
        s = self.surprise(X)
        result: Array = 100.0 * s / (1.0 + s)
        return result

    def predict(self, X: Array) -> npt.NDArray[np.int_]:
        """1 for anomalies, 0 for normal rows (not scikit-learn's -1/1: JSON reads better)."""
        return (self.score(X) >= THRESHOLD_SCORE).astype(int)

    @staticmethod
    def classify(z: Array, X: Array, is_anomaly: npt.NDArray[np.bool_]) -> list[str]:
        """Name each anomaly by the readings that explain it."""
        return [
            _kind(zr, xr) if flagged else "none"
            for zr, xr, flagged in zip(z, X, is_anomaly, strict=True)
        ]


def _ratios(X: Array) -> tuple[Array, Array]:
    power = 10 ** X[:, _R + _Z["log_power_ratio"]] - 0.01
    energy = 10 ** X[:, _R + _Z["log_energy_ratio"]] - 0.001
    return power, energy


def physical_violation(X: Array) -> Array:
    """How far readings break physics, 1.0 at the limit and growing beyond it; 0 if none."""
    power, energy = _ratios(X)
    temperature = X[:, _R + _Z["temperature_c"]]
    low, high = TEMPERATURE_RANGE_C
    delivering = X[:, 1] > 0
    views = [
        np.where(power > MAX_POWER_RATIO, 1 + (power - MAX_POWER_RATIO) * 5, 0),
        np.where(energy > MAX_ENERGY_RATIO, 1 + (energy - MAX_ENERGY_RATIO) * 5, 0),
        np.where(temperature > high, 1 + (temperature - high) / 10, 0),
        np.where(temperature < low, 1 + (low - temperature) / 10, 0),
        np.where(delivering & (power < MIN_DELIVERING_RATIO), 1.5, 0),
        # Power flowing now, yet not a single watt-hour in the last 24 h: a stuck meter.
        np.where(delivering & (power >= MIN_DELIVERING_RATIO) & (energy < 1e-4), 1.5, 0),
    ]
    result: Array = np.maximum.reduce(views)
    return result


def _kind(z: Array, x: Array) -> str:
    power, energy = _ratios(x[None, :])
    delivering = x[1] > 0
    if power[0] > MAX_POWER_RATIO:
        return "over_rating"
    if energy[0] > MAX_ENERGY_RATIO:
        return "impossible_energy"
    if delivering and (power[0] < MIN_DELIVERING_RATIO or z[_Z["log_power_ratio"]] < -3):
        return "power_drop"
    if delivering and z[_Z["log_energy_ratio"]] < -3:
        return "stuck_meter"
    if z[_Z["temperature_c"]] > 3 and z[_Z["connector_temp_rise_c"]] > 3:
        return "thermal_runaway"
    if abs(z[_Z["grid_voltage_ratio"]]) > 3:
        return "voltage_excursion"
    if z[_Z["fan_rpm_ratio"]] < -3:
        return "fan_failure"
    return "sensor_spike"
