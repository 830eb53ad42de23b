"""The house's imports flow one way: `tasks/` in rooms, each room importing only the rooms below
it, and the API and CLI importing no worker app (they enqueue and read). Pure logic: the
imports are read from the source, nothing is run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GROUND = {
    "tasks",
    "tasks.settings",
    "tasks.errors",
    "tasks.config",
    "tasks.sending",
    "tasks.hit_rule",
    "tasks.wire",
}
# Room -> the rooms it may import (besides itself, cachepolicy, models and vocabulary).
ALLOWED = {
    "ground": {"ground"},
    "tasks.state": {"ground"},
    "tasks.observe": {"ground", "tasks.state", "tasks.releases"},
    "tasks.releases": {"ground"},
    "tasks.worker": {"ground", "tasks.state", "tasks.observe", "tasks.releases"},
    "tasks.celery": {"ground", "tasks.observe", "tasks.worker"},
    "tasks.jobs": {
        "ground",
        "tasks.state",
        "tasks.observe",
        "tasks.worker",
        "tasks.celery",
        "tasks.releases",
    },
    "tasks.client": {"ground", "tasks.state", "tasks.releases"},
    "tasks.flower": {"ground", "tasks.observe", "tasks.celery"},
    "tasks.local": {"ground"},
    "api": {
        "ground",
        "tasks.client",
        "tasks.observe",
        "tasks.state",
        "tasks.local",
        "tasks.releases",
    },
    "gateway": {"ground", "tasks.client"},
    "cli": {
        "ground",
        "tasks.client",
        "tasks.observe",
        "tasks.state",
        "tasks.local",
        "tasks.releases",
        "gateway",
    },
}
WORKER_APP = {"tasks.celery", "tasks.worker", "tasks.jobs"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str | None:
    if module in GROUND:
        return "ground"
    for room in sorted(ALLOWED, key=len, reverse=True):
        if module == room or module.startswith(room + "."):
            return room
    return None


def imported(path: Path) -> set[str]:
    """Every project module `path` imports, at the top or inside a function."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("tasks", "api", "cli", "gateway")}


SOURCES = sorted(
    path
    for folder in ("tasks", "api", "cli", "gateway")
    for path in (ROOT / folder).rglob("*.py")
    if "__pycache__" not in path.parts
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_room_imports_only_the_rooms_below_it(path: Path) -> None:
    room = room_of(module_name(path))
    assert room is not None, f"{path} belongs to no room of the house"
    wrong = {
        module for module in imported(path) if room_of(module) not in (room, *ALLOWED[room], None)
    }
    assert not wrong, f"{room} imports {sorted(wrong)}"


@pytest.mark.parametrize("folder", ["api", "cli", "gateway"])
def test_the_api_the_cli_and_the_gateway_import_no_worker_app(folder: str) -> None:
    for path in (ROOT / folder).rglob("*.py"):
        reached = {m for m in imported(path) if room_of(m) in WORKER_APP}
        assert not reached, f"{path} imports {sorted(reached)}"
