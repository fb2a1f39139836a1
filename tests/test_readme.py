"""The README's promises that can rot: every notebook and exercise linked, the Binder badge opening
the first notebook, every CLI sub-command it shows existing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kafkalab.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_every_notebook_and_exercise_is_linked():
    for folder in ("notebooks", "exercises"):
        for nb in sorted((REPO / folder).glob("*.ipynb")):
            assert f"]({folder}/{nb.name})" in README, f"README does not link {folder}/{nb.name}"
    for link in re.findall(r"\]\(((?:notebooks|exercises|solutions)/[^)]+)\)", README):
        assert (REPO / link).is_file(), f"README links a missing file: {link}"


def test_binder_badge_opens_the_first_notebook():
    assert "?urlpath=lab/tree/notebooks/00_start_here.ipynb" in README


def test_cli_commands_in_the_readme_exist(capsys):
    shown = sorted(set(re.findall(r"^python -m kafkalab (\S+)", README, re.M)))
    assert len(shown) >= 5, shown
    for command in shown:
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0, f"README shows `python -m kafkalab {command}`: {capsys.readouterr()}"
