"""Widget tests need a display with OpenGL (napari draws with vispy): run them under ``xvfb-run -a``.

Without one they are skipped with that advice instead of crashing the interpreter.
"""

from __future__ import annotations

import os
import sys

import pytest

HAS_DISPLAY = not sys.platform.startswith("linux") or bool(
    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
)


def pytest_collection_modifyitems(config, items):
    if HAS_DISPLAY:
        return
    skip = pytest.mark.skip(reason="no display: run the widget tests under `xvfb-run -a` (see README)")
    for item in items:
        if "tests/widgets/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)
