"""The package is typed: mypy --strict (configured in pyproject.toml) finds nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_strict_clean(monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy not installed")
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] (files, exclude, overrides) from ./pyproject.toml
    # no incremental cache: a stale cache from another checkout must not hide an error
    stdout, stderr, status = api.run(
        ["--config-file", os.fspath(ROOT / "pyproject.toml"), "--no-incremental"]
    )
    if status != 0:
        print(stdout)
        print(stderr)
    assert status == 0, f"mypy found errors:\n{stdout[-6000:]}{stderr[-2000:]}"
