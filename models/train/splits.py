"""Which readings train and which judge.

A time split where the history allows one: the held-out window is the last fifth of the span
whose future is known, the training readings end one horizon before it (no training reading's
label looks into the window, as in the Azure predictive-maintenance playbook), and a fifth of
the chargers is held out before that gap. A history too short for that (about three horizons)
is judged on held-out chargers alone, over the whole span, and the split says so. Negatives
within one horizon of the data's end are never used: their future is unknown. Held-out chargers
are drawn from those with and without a failure alike, so both sides hold failures when the
history has two failing chargers or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from models.telemetry.times import day_of

from .datasets import History

DAY: Final = 86_400.0
TEST_SHARE: Final = 0.2  # of the chargers (by-charger split) and of the known span (time split)
MIN_TRAINING_HORIZONS: Final = 0.5  # a time split needs at least this much training period
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Splits:
    """Masks over the history's readings, and what was done, in words."""

    train: Mask
    by_charger: Mask
    window: Mask | None  # None: no time window (a short history)
    cut: float | None  # where the window starts
    held_chargers: int
    note: str

    @property
    def judged(self) -> Mask:
        """The readings the quality gate judges on: the window, else the held-out chargers."""
        return self.window if self.window is not None else self.by_charger


def split(history: History, horizon_days: float, seed: int) -> Splits:
    """The time split when the history allows one, else held-out chargers alone."""
    t, horizon = history.time, horizon_days * DAY
    start, settled = float(t.min()), float(t.max()) - horizon
    known = history.label | (t <= settled)
    held = np.isin(history.charger, _held_chargers(history, seed))
    cut = start + (1 - TEST_SHARE) * (settled - start)
    train = known & (t < cut - horizon) & ~held
    long_enough = cut - horizon - start >= MIN_TRAINING_HORIZONS * horizon
    if long_enough and history.label[train].any():
        return Splits(
            train=train,
            by_charger=known & (t < cut - horizon) & held,
            window=known & (t >= cut),
            cut=cut,
            held_chargers=len(np.unique(history.charger[held])),
            note=f"time split: the held-out window from {day_of(cut)}, after a "
            f"{horizon_days:g}-day gap; held-out chargers before the gap",
        )
    span_days = (float(t.max()) - start) / DAY
    why = (
        f"the history spans {span_days:.0f} days, too short for a time split with a "
        f"{horizon_days:g}-day horizon (a training period, a {horizon_days:g}-day gap and a "
        f"held-out window need about {3 * horizon_days:g})"
        if not long_enough
        else "no failure before the held-out window's gap"
    )
    return Splits(
        train=known & ~held,
        by_charger=known & held,
        window=None,
        cut=None,
        held_chargers=len(np.unique(history.charger[held])),
        note=f"{why}: judged on held-out chargers over the whole history instead",
    )


def _held_chargers(history: History, seed: int) -> npt.NDArray[np.intp]:
    """A fifth of the chargers, drawn apart among those with and without a failure."""
    rng = np.random.default_rng(seed)
    failing = np.zeros(len(history.charger_ids), dtype=bool)
    failing[np.unique(history.charger[history.label])] = True
    held: list[npt.NDArray[np.intp]] = []
    for group in (np.flatnonzero(failing), np.flatnonzero(~failing)):
        # A lone failing charger trains: a model needs a failure more than a judge does.
        count = max(1, round(len(group) * TEST_SHARE)) if len(group) > 1 else 0
        held.append(rng.choice(group, size=count, replace=False))
    chosen = np.concatenate(held)
    if not len(chosen):  # a tiny fleet: one charger judges all the same
        chosen = rng.choice(len(history.charger_ids), size=1, replace=False)
    return chosen
