"""The release registry on disk: training registers and never overwrites nor deploys, the first
release stays the default champion, versions are checked by type, retention spares the first
and the protected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models import UntrustedArtifact
from releases.disk.artifacts import artifact_path
from releases.disk.registry import Registry
from releases.errors import UnknownRelease
from vocabulary import TYPE_NAMES


@pytest.fixture
def two(two_releases: Path) -> Path:
    """The session's model set and a second training (another seed) in one MODEL_DIR."""
    return two_releases


def test_a_second_training_registers_beside_the_first_and_deploys_nothing(
    two: Path, trained: tuple[Path, dict]
) -> None:
    registry = Registry(two)
    for name in TYPE_NAMES:
        releases = registry.releases(name)
        assert len(releases) == 2
        assert registry.first(name) == trained[1][name]["version"] == releases[0].version
        assert releases[0].registered_at < releases[1].registered_at
    # Without an alias state the first release of each type serves.
    assert Registry(two).predictor().versions == {n: trained[1][n]["version"] for n in TYPE_NAMES}
    newer = {n: registry.releases(n)[1].version for n in TYPE_NAMES}
    assert Registry(two).predictor(newer).versions == newer


def test_registering_a_version_again_keeps_the_release_as_it_is(two: Path) -> None:
    registry = Registry(two)
    release = registry.releases("failure")[0]
    before = artifact_path(release.folder, "failure").read_bytes()
    model, card = registry.load("failure", release.version)
    added = registry.register({"failure": (model, release.version, card)})
    assert added == {"failure": False}
    assert artifact_path(release.folder, "failure").read_bytes() == before


def test_unknown_versions_and_versions_of_another_type_are_named(two: Path) -> None:
    registry = Registry(two)
    failure = registry.first("failure")
    with pytest.raises(UnknownRelease, match=f"{failure} is a release of failure, not of anomaly"):
        registry.get("anomaly", str(failure))
    with pytest.raises(UnknownRelease, match=r"failure-9\.nothing is not a release of failure"):
        registry.get("failure", "failure-9.nothing")
    with pytest.raises(ValueError, match=r"model version '\.\./etc' is invalid"):
        registry.get("failure", "../etc")


def test_a_tampered_release_is_refused(two: Path, tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(two, copy)
    registry = Registry(copy)
    release = registry.releases("anomaly")[1]
    with artifact_path(release.folder, "anomaly").open("ab") as damaged:
        damaged.write(b"tampered")
    with pytest.raises(UntrustedArtifact, match="not the artifact its card describes"):
        registry.load("anomaly", release.version)


def test_retention_keeps_the_newest_the_first_and_the_protected(two: Path, tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(two, copy)
    registry = Registry(copy)
    model, card = registry.load("failure", str(registry.first("failure")))
    for n in range(3):
        registry.register({"failure": (model, f"failure-test.{n}", card)})
    versions = [r.version for r in registry.releases("failure")]
    assert len(versions) == 5
    first, protected = versions[0], versions[1]
    removed = registry.prune("failure", keep=2, protected=[protected])
    kept = [r.version for r in registry.releases("failure")]
    assert kept == [first, protected, *versions[-2:]]
    assert removed == [versions[2]]
