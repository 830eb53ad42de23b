"""Every setting is documented where a user looks for it: `.env.example` and the README's
configuration table (pure text, no services)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent


def configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


@pytest.mark.parametrize("name", sorted(AppSettings.model_fields))
def test_every_setting_is_in_env_example_and_the_readme(name: str) -> None:
    variable = name.upper()
    example = (ROOT / ".env.example").read_text()
    assert re.search(rf"^{variable}=", example, re.MULTILINE), f"{variable} not in .env.example"
    assert f"`{variable}`" in configuration_table(), f"{variable} not in the README's table"
