"""The release registry on disk: every trained model kept under its version, never overwritten
and never deployed by training.

    MODEL_DIR/releases/<type>/<version>/<type>.skops, <type>.card.json, report.html
    MODEL_DIR/releases/<type>/first          the version of the type's first release

Which release serves (champion, canary, shadow) is not decided here: that alias state lives in
Redis (releases.live.store), so every worker on every host agrees. Without it a type's first release
is its champion. Opening a registry reads nothing and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from models.errors import ModelNotFound
from releases.errors import UnknownRelease
from vocabulary import ID_REGEX, TYPE_NAMES

from .cards import artifact_path, file_sha256, read_card

if TYPE_CHECKING:
    from models.core.predictor import Predictor

RELEASES: Final = "releases"
FIRST: Final = "first"


@dataclass(frozen=True, slots=True)
class Release:
    """One registered release: its type, version, folder and card."""

    kind: str
    version: str
    folder: Path
    card: dict[str, Any]

    @property
    def registered_at(self) -> str:
        return str(self.card.get("registered_at") or self.card.get("created_at") or "")

    @property
    def artifact_sha256(self) -> str:
        return str(self.card.get("artifact_sha256", ""))


def check_version(version: object) -> str:
    """A version safe in a path and a key (the id pattern), or ValueError naming it."""
    if isinstance(version, str) and ID_REGEX.fullmatch(version):
        return version
    raise ValueError(
        f"model version {str(version)[:70]!r} is invalid: expected 1-64 of A-Z a-z 0-9 _ . -"
    )


def check_kind(kind: object) -> str:
    if kind in TYPE_NAMES:
        return str(kind)
    raise ValueError(
        f"prediction type {kind!r} is invalid: expected one of {', '.join(TYPE_NAMES)}"
    )


class Registry:
    """The releases under one MODEL_DIR."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = Path(model_dir)
        self.root = self.model_dir / RELEASES

    def folder(self, kind: str, version: str) -> Path:
        return self.root / check_kind(kind) / check_version(version)

    def releases(self, kind: str) -> list[Release]:
        """The type's releases, oldest first."""
        base = self.root / check_kind(kind)
        found = []
        for folder in base.iterdir() if base.is_dir() else ():
            card = (
                read_card(folder, kind)
                if folder.is_dir() and ID_REGEX.fullmatch(folder.name)
                else None
            )
            if card is not None and card.get("version") == folder.name:
                found.append(Release(kind, folder.name, folder, card))
        return sorted(found, key=lambda r: (r.registered_at, r.version))

    def find(self, kind: str, version: str) -> Release | None:
        folder = self.folder(kind, version)
        card = read_card(folder, kind)
        return (
            Release(kind, version, folder, card)
            if card and card.get("version") == version
            else None
        )

    def get(self, kind: str, version: str) -> Release:
        """The release, or UnknownRelease naming the type's versions (and another type's)."""
        found = self.find(kind, check_version(version))
        if found is not None:
            return found
        others = [k for k in TYPE_NAMES if k != kind and self.find(k, version) is not None]
        if others:
            raise UnknownRelease(f"{version} is a release of {others[0]}, not of {kind}")
        known = ", ".join(r.version for r in self.releases(kind)) or "none"
        raise UnknownRelease(f"{version} is not a release of {kind} (releases: {known})")

    def first(self, kind: str) -> str | None:
        """The type's first release: its champion until someone moves it."""
        try:
            return check_version((self.root / check_kind(kind) / FIRST).read_text().strip())
        except (OSError, ValueError):
            return None

    def problem(self, kind: str, version: str) -> str | None:
        """Why this host cannot serve a release (missing, no card, checksum differs), or None.
        Reads bytes and a card only: no model is loaded."""
        try:
            release = self.get(kind, version)
        except (UnknownRelease, ValueError) as exc:
            return f"not on this host: {exc}"
        path = artifact_path(release.folder, kind)
        if not path.exists():
            return f"{path} is missing"
        if file_sha256(path) != release.artifact_sha256:
            return f"{path} is not the artifact its card describes (checksum differs)"
        return None

    def predictor(self, versions: Mapping[str, str] | None = None) -> Predictor:
        """The releases named by `versions` (type -> version), each type's first release where
        none is named, behind one Predictor."""
        from models.core.predictor import Predictor  # scikit-learn only where models load

        chosen = {kind: (versions or {}).get(kind) or self.first(kind) for kind in TYPE_NAMES}
        loaded = {}
        for kind, version in chosen.items():
            if version is None:
                raise ModelNotFound(f"no {kind} model in {self.root}: run `chargewatch train`")
            loaded[kind] = self.load(kind, version)
        return Predictor(
            loaded["failure"][0],
            loaded["maintenance"][0],
            loaded["anomaly"][0],
            {kind: card["version"] for kind, (_, card) in loaded.items()},
            {kind: card for kind, (_, card) in loaded.items()},
        )

    def load(self, kind: str, version: str) -> tuple[Any, dict[str, Any]]:
        """A release's model and card, its artifact checked against the card's checksum."""
        from . import artifacts  # scikit-learn and skops only where a model is loaded

        return artifacts.load(self.get(kind, version).folder, kind)

    def register(
        self,
        models: dict[str, tuple[Any, str, dict[str, Any]]],
        extra: dict[str, str] | None = None,
    ) -> dict[str, bool]:
        """Write each (model, version, card) as a release with the `extra` files beside it;
        a release already registered is kept as it is. Type -> whether it was new."""
        added = {}
        for kind, (model, version, card) in models.items():
            stamped = {**card, "registered_at": _now()}
            fill = partial(_write_release, kind=kind, model=model, version=version, card=stamped)
            added[kind] = self._publish(kind, version, partial(fill, extra=extra or {}))
            self._claim_first(kind, version)
        return added

    def receive(self, kind: str, version: str, files: Collection[Path]) -> bool:
        """A release's files from elsewhere (MLflow) copied in whole; checked when loaded."""
        return self._publish(
            kind, version, lambda folder: [shutil.copy2(f, folder / f.name) for f in files]
        )

    def prune(self, kind: str, keep: int, protected: Collection[str] = ()) -> list[str]:
        """Delete releases older than the newest `keep`, never the first nor a `protected` one
        (the releases the alias state names); the versions deleted."""
        spared = {self.first(kind), *protected}
        releases = self.releases(kind)
        doomed = [r for r in releases[: max(0, len(releases) - keep)] if r.version not in spared]
        for release in doomed:
            shutil.rmtree(release.folder, ignore_errors=True)
        return [r.version for r in doomed]

    def _claim_first(self, kind: str, version: str) -> None:
        try:
            fd = os.open(self.root / kind / FIRST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as out:
            out.write(version + "\n")

    def _publish(self, kind: str, version: str, fill: Callable[[Path], object]) -> bool:
        """Fill a staging folder beside the release's folder, then rename it into place: a
        release appears whole or not at all. False when it was there already (or another
        process was first)."""
        target = self.folder(kind, version)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
        try:
            fill(staging)
            return _move_in(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def firsts(self) -> dict[str, str]:
        """Type -> its first release (types without one left out): what serves until the alias
        state in Redis says otherwise. Loads no model."""
        return {kind: v for kind in TYPE_NAMES if (v := self.first(kind)) is not None}


def _write_release(
    folder: Path,
    *,
    kind: str,
    model: Any,
    version: str,
    card: dict[str, Any],
    extra: dict[str, str],
) -> None:
    from . import artifacts  # scikit-learn and skops only where a model is written

    artifacts.write(folder, kind, model, version, card)
    for name, text in extra.items():
        (folder / name).write_text(text)


def _move_in(staging: Path, target: Path) -> bool:
    """Rename a finished staging folder into place; False when another process was first."""
    try:
        staging.rename(target)
    except OSError:
        if target.exists():
            return False
        raise
    return True


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
