"""Maintenance planner: urgency, a date in a low-usage window, downtime and cost/benefit.

Fitted on a fleet history: two regressors learn how long preventive service and corrective
repair take from the telemetry, and the hourly usage profile of each charger type gives the
quietest window. The failure probability comes from the failure model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .features import FAILURE_FEATURE_NAMES, Array
from .policy import levels_of

IS_DC = FAILURE_FEATURE_NAMES.index("is_dc")
# Below this many events with their downtime, the typical hours stand in for learnt ones.
MIN_EVENTS = 10
TYPICAL_SERVICE_HOURS, TYPICAL_REPAIR_HOURS = 2.0, 8.0
ENERGY_RATIO = FAILURE_FEATURE_NAMES.index("energy_per_day_ratio")


@dataclass
class Plan:
    """Vectorised planner output, one entry per row."""

    urgency: list[str]
    lead_days: Array
    window_start_hour: Array
    downtime_hours: Array
    repair_hours: Array
    preventive_cost: Array
    expected_failure_cost: Array


class MaintenancePlanner(BaseEstimator):
    """Costs in the operator's currency: a technician visit, and revenue lost per down hour."""

    def __init__(
        self,
        visit_cost: float = 250.0,
        corrective_visit_cost: float = 900.0,
        price_per_kwh: float = 0.45,
        window_hours: int = 4,
        random_state: int = 0,
    ) -> None:
        self.visit_cost = visit_cost
        self.corrective_visit_cost = corrective_visit_cost
        self.price_per_kwh = price_per_kwh
        self.window_hours = window_hours
        self.random_state = random_state

    def fit(
        self,
        X: Array,
        service_hours: Array,
        repair_hours: Array,
        hourly_sessions: dict[str, Array],
    ) -> MaintenancePlanner:
        X = np.asarray(X, dtype=float)
        self.typical_hours_used_ = False
        self.service_model_ = self._regressor(X, service_hours, TYPICAL_SERVICE_HOURS)
        self.repair_model_ = self._regressor(X, repair_hours, TYPICAL_REPAIR_HOURS)
        self.usage_profile_ = {k: v / v.sum() for k, v in hourly_sessions.items()}
        self.quiet_hour_ = {k: self._quietest(p) for k, p in self.usage_profile_.items()}
        self.quiet_share_ = {
            k: float(p[(self.quiet_hour_[k] + np.arange(self.window_hours)) % 24].sum())
            for k, p in self.usage_profile_.items()
        }
        self.n_features_in_ = X.shape[1]
        return self

    def _regressor(self, X: Array, target: Array, typical: float) -> Any:
        """Hours learnt from the history's events; a history without enough of them gets the
        typical hours (a constant), said in the card by `typical_hours_used_`."""
        seen = np.isfinite(target) & (target > 0)
        if seen.sum() < MIN_EVENTS:
            self.typical_hours_used_ = True
            return DummyRegressor(strategy="constant", constant=np.log(typical)).fit(X[:1], [0.0])
        return HistGradientBoostingRegressor(
            max_iter=100, max_leaf_nodes=15, random_state=self.random_state
        ).fit(X[seen], np.log(target[seen]))

    def _quietest(self, profile: Array) -> int:
        """Start hour of the window with the fewest sessions (wrapping past midnight)."""
        wrapped = np.concatenate([profile, profile[: self.window_hours]])
        sums = np.convolve(wrapped, np.ones(self.window_hours), mode="valid")[:24]
        return int(np.argmin(sums))

    def plan(self, X: Array, failure_probability: Array, rated_kw: Array) -> Plan:
        """Urgency and date from the failure probability (models.core.policy), downtime from the
        regressors, costs from the charger's own energy throughput."""
        check_is_fitted(self, "service_model_")
        X = np.asarray(X, dtype=float)
        p = np.asarray(failure_probability, dtype=float)
        is_dc = X[:, IS_DC] > 0
        downtime = np.exp(self.service_model_.predict(X))
        repair = np.exp(self.repair_model_.predict(X))
        per_hour = X[:, ENERGY_RATIO] * rated_kw * self.price_per_kwh
        hours = np.where(is_dc, self.quiet_hour_["DC"], self.quiet_hour_["AC"])
        window_share = np.where(is_dc, self.quiet_share_["DC"], self.quiet_share_["AC"])
        # Preventive work in the quiet window loses only that window's share of revenue.
        preventive = self.visit_cost + downtime * per_hour * 24 * window_share / self.window_hours
        corrective = self.corrective_visit_cost + repair * per_hour
        levels = levels_of(p)
        return Plan(
            urgency=[level.urgency for level in levels],
            lead_days=np.array([level.lead_days for level in levels], dtype=float),
            window_start_hour=hours.astype(float),
            downtime_hours=downtime,
            repair_hours=repair,
            preventive_cost=preventive,
            expected_failure_cost=p * corrective,
        )
