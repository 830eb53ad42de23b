"""The JavaScript client celery-node, from the npm registry (tests/clients/js)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def celery_node() -> Path:
    """The script that sends tasks by name with celery-node (installed if missing)."""
    if shutil.which("node") is None:
        pytest.skip("no Node.js on this machine")
    if not (JS / "node_modules" / "celery-node").exists():
        # `.ci/run` installs it; a fresh checkout gets it here from the npm registry.
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, timeout=300)
    return JS / "send_by_name.js"
