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
    for item in items:  # widget tests drive a real napari window: slow for a quick `-m "not slow"` run
        if "tests/widgets/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.slow)
    if HAS_DISPLAY:
        return
    skip = pytest.mark.skip(reason="no display: run the widget tests under `xvfb-run -a` (see README)")
    for item in items:
        if "tests/widgets/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


PLUGIN = "napari-microscope-qc"


def open_dock(viewer, display_name: str):
    """Open a widget the way users do (Layers ▸ Measure / Plugins): napari builds it and hands it a
    proxy of the viewer, not the viewer itself."""
    from npe2 import PluginManager

    pm = PluginManager.instance()
    if PLUGIN not in pm:
        pm.discover()
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, display_name)
    assert type(widget.viewer).__name__ == "PublicOnlyProxy"  # the situation users meet
    return dock, widget


def click(qtbot, button) -> None:
    """Press a real button with the mouse."""
    from qtpy.QtCore import Qt

    assert button.isEnabled(), f"'{button.text()}' is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_idle(qtbot, widget, timeout: int = 90000) -> None:
    """Until the widget has finished computing and drawing."""
    qtbot.waitUntil(lambda: not widget.busy, timeout=timeout)


class Heartbeat:
    """A 20 ms timer in the running event loop: the longest gap between its ticks is the longest stall."""

    def __init__(self):
        import time

        from qtpy.QtCore import QTimer

        self._clock = time.perf_counter
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.ticks.append(self._clock()))

    def __enter__(self):
        self.ticks = [self._clock()]
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()
        self.ticks.append(self._clock())

    @property
    def longest_stall_ms(self) -> float:
        import numpy as np

        return float(np.diff(self.ticks).max() * 1000) if len(self.ticks) > 1 else 0.0


@pytest.fixture
def ui():
    """Helpers for driving widgets as a user: ``ui.open_dock``, ``ui.click``, ``ui.wait_idle``, ``ui.Heartbeat``."""
    import types

    return types.SimpleNamespace(open_dock=open_dock, click=click, wait_idle=wait_idle, Heartbeat=Heartbeat)
