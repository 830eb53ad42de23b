"""`python -m models.train [--data DIR]`: train the three models from a fleet history (the
contract's "Fleet history" format), or from the simulator's fleet written in that format and
read back, and register them as releases in MODEL_DIR (and in MLflow with --mlflow). The same
run as `chargewatch train`: both build TrainingOptions and call `models.train.run.train`.

Exit status (the top-level `errors` table): 0 registered; 1 the model does not beat the rule
baseline (nothing written; `--force` writes it and says so in the card); 2 the dataset breaks
the format (one line per problem) or an option is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from cachepolicy.settings import load_settings
from errors import ChargewatchError, meaning_of
from releases.settings import ReleaseSettings

from .options import TrainingOptions
from .run import Trained, train


def options_of(argv: list[str] | None) -> TrainingOptions:
    """The options of a command line, the host's settings where it is silent."""
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__)
    parser.add_argument("--model-dir", type=Path, help="default: MODEL_DIR")
    parser.add_argument("--data", type=Path, help="a fleet-history directory (default: simulated)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--chargers", type=int, help="simulated fleet size")
    parser.add_argument("--days", type=int, help="simulated days")
    parser.add_argument("--horizon-days", type=float)
    parser.add_argument("--max-bad-rows", type=float, help="share, 0.001 = 0.1 %%")
    parser.add_argument("--force", action="store_true", help="write a model the gate refuses")
    parser.add_argument("--keep", type=int, help="releases kept per type (MODEL_RETENTION)")
    parser.add_argument("--protect", action="append", help="a release retention must keep")
    parser.add_argument("--mlflow", help="also register in this MLflow (MLFLOW_TRACKING_URI)")
    given = vars(parser.parse_args(argv))
    given["protected"] = tuple(given.pop("protect") or ())
    given["force"] = given["force"] or None
    return TrainingOptions.of(load_settings(ReleaseSettings), **given)


def register_in_mlflow(trained: Trained, options: TrainingOptions) -> Iterator[str]:
    """Each release also in MLflow's Model Registry; a line per model version."""
    from releases.disk.mlflow_registry import MlflowReleases
    from releases.disk.registry import Registry

    if not options.mlflow:
        return
    mlflow, registry = MlflowReleases(options.mlflow), Registry(options.model_dir)
    for kind, card in trained.cards.items():
        number = mlflow.register(registry.get(kind, card["version"]))
        yield f"  {kind}: MLflow model chargewatch-{kind} version {number}"


def summary(trained: Trained, model_dir: Path) -> Iterator[str]:
    """What an operator reads after a training: the verdict, the figures, where things are."""
    f = trained.cards["failure"]
    judged, held, lead = f["held_out_judged"], f["held_out"], f["lead_time"]
    field = f["field_scenarios"]
    yield (
        f"trained in {trained.seconds}s, registered as releases in {model_dir}/releases "
        "(none deployed but a type's first: `chargewatch models canary|promote`)"
    )
    yield f"  split: {trained.split}"
    yield f"  {f['quality_gate']['verdict']}"
    yield f"judged set: {_figures(judged)}"
    if len(f["evaluation"]) > 1:  # a time split judges held-out chargers too
        yield f"held-out chargers: {_figures(held)}"
    median = lead["median_lead_days"]
    yield (
        f"lead time: {lead['warned']} of {lead['failures_judged']} failures warned"
        + (f", median {median:.1f} days ahead" if median is not None else "")
    )
    yield (
        f"field scenarios: failure ROC AUC {field['failure_roc_auc']:.3f} (target 0.97), "
        f"mean sick {field['failure_mean_sick']:.2f} / healthy {field['failure_mean_healthy']:.3f}"
    )
    for kind, card in trained.cards.items():
        yield f"  {kind}: {card['version']}"
    if trained.warnings:
        yield f"  {len(trained.warnings)} library warning(s) while training: in the report"
    yield f"report: {trained.report}"


def _figures(metrics: dict[str, float]) -> str:
    if "note" in metrics:
        return f"{metrics['rows']:,} readings, {metrics['positives']:,} positive: {metrics['note']}"
    return (
        f"ROC AUC {metrics['roc_auc']:.3f}, PR AUC {metrics['pr_auc']:.3f}, "
        f"Brier {metrics['brier']:.4f}, calibration error {metrics['calibration_error']:.4f}"
    )


def main(argv: list[str] | None = None) -> int:
    try:
        options = options_of(argv)
        trained = train(options)
        lines = [*summary(trained, options.model_dir), *register_in_mlflow(trained, options)]
    except ChargewatchError as exc:
        print(exc, file=sys.stderr)  # its message names what is wrong
        return meaning_of(exc).exit_code
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
