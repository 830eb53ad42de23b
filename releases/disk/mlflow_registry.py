"""Releases in MLflow's Model Registry, for those who run one (MLFLOW_TRACKING_URI).

Each type is the registered model `chargewatch-{type}`; each release a model version tagged
`chargewatch_version` with our version, its run's logged artifacts the skops file and the card
(never a pickle). The serving release carries the alias `champion`, a canary or shadow
`challenger`. A host that lacks a release downloads it from here into its registry, and the
artifact is then checked against the card's checksum like any other. The built-in registry
(releases.disk.registry) stays the source of what a worker loads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Final

from .cards import artifact_path, card_path
from .registry import Registry, Release, check_kind, check_version

EXPERIMENT: Final = "chargewatch"
TAG: Final = "chargewatch_version"
CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"


def model_name(kind: str) -> str:
    return f"chargewatch-{check_kind(kind)}"


class MlflowReleases:
    """Register, find, download releases and set the aliases, against one tracking server."""

    def __init__(self, tracking_uri: str) -> None:
        from mlflow import MlflowClient  # only where MLflow is used

        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri)

    def register(self, release: Release) -> str:
        """Log a release's artifact and card in a run and register them as a model version
        (the type's first becomes `champion`); the model version number. Idempotent."""
        found = self.find(release.kind, release.version)
        if found is not None:
            return str(found.version)
        name = model_name(release.kind)
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        experiment_id = (
            experiment.experiment_id if experiment else self.client.create_experiment(EXPERIMENT)
        )
        run = self.client.create_run(experiment_id, tags={TAG: release.version})
        for path in (
            artifact_path(release.folder, release.kind),
            card_path(release.folder, release.kind),
        ):
            self.client.log_artifact(run.info.run_id, str(path), release.kind)
        self.client.set_terminated(run.info.run_id)
        if not self.client.search_registered_models(f"name='{name}'"):
            self.client.create_registered_model(name)
        first = not self.client.search_model_versions(f"name='{name}'")
        version = self.client.create_model_version(
            name,
            f"{run.info.artifact_uri}/{release.kind}",
            run_id=run.info.run_id,
            tags={TAG: release.version},
        )
        if first:
            self.client.set_registered_model_alias(name, CHAMPION, version.version)
        return str(version.version)

    def find(self, kind: str, version: str) -> Any:
        """The model version of one release, or None."""
        found = self.client.search_model_versions(
            f"name='{model_name(kind)}' and tags.{TAG}='{check_version(version)}'"
        )
        return found[0] if found else None

    def alias(self, kind: str, alias: str) -> str | None:
        """Our version under an alias (`champion`, `challenger`), or None."""
        try:
            found = self.client.get_model_version_by_alias(model_name(kind), alias)
        except Exception:  # MLflow raises a RestException for an alias not set
            return None
        return str(found.tags.get(TAG)) if found.tags.get(TAG) else None

    def set_aliases(self, kind: str, champion: str, challenger: str | None) -> None:
        """Point `champion` (and `challenger`, or drop it) at these releases."""
        name = model_name(kind)
        for alias, version in ((CHAMPION, champion), (CHALLENGER, challenger)):
            found = None if version is None else self.find(kind, version)
            if found is not None:
                self.client.set_registered_model_alias(name, alias, found.version)
            elif alias == CHALLENGER and self.alias(kind, CHALLENGER) is not None:
                self.client.delete_registered_model_alias(name, CHALLENGER)

    def download(self, registry: Registry, kind: str, version: str) -> None:
        """Bring one release into the local registry (checked when it is loaded)."""
        from mlflow.artifacts import download_artifacts

        found = self.find(kind, version)
        if found is None:
            raise FileNotFoundError(f"{kind} release {version} is not in MLflow either")
        with tempfile.TemporaryDirectory(prefix="chargewatch-mlflow-") as folder:
            local = Path(
                download_artifacts(
                    artifact_uri=found.source, dst_path=folder, tracking_uri=self.tracking_uri
                )
            )
            registry.receive(kind, version, [artifact_path(local, kind), card_path(local, kind)])


def fetcher(tracking_uri: str | None) -> Any:
    """What a worker calls for a release it lacks (None without MLflow)."""
    if not tracking_uri:
        return None
    releases: list[MlflowReleases] = []

    def fetch(registry: Registry, kind: str, version: str) -> None:
        if not releases:
            releases.append(MlflowReleases(tracking_uri))
        releases[0].download(registry, kind, version)

    return fetch
