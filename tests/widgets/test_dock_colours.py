"""The docks' colours come from the reports' colour tables: matplotlib's, without importing matplotlib
(an import on the GUI thread at a session's first result cost about 0.2 s)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


def test_opening_the_measurement_docks_imports_no_matplotlib():
    code = (
        "import sys, napari\n"
        "import microscope_qc.widgets.field, microscope_qc.widgets.psf, microscope_qc.widgets.coregistration\n"
        "from microscope_qc.widgets._field_layers import legend_html\n"
        "from microscope_qc.widgets._views import montage_rgba\n"
        "legend_html(10.0, True)\n"
        "montage_rgba(__import__('numpy').ones((5, 9, 9), 'float32'), (0.2, 0.1, 0.1))\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("step", [5.0, 10.0, 20.0, 25.0])
def test_iso_class_colours_are_matplotlibs_turbo(step):
    matplotlib = pytest.importorskip("matplotlib")
    from microscope_qc.widgets._field_layers import iso_colours

    ours = np.array(iso_colours(step))
    n = len(ours)
    theirs = matplotlib.colormaps["turbo"](np.arange(n) / (n - 1))
    assert np.abs(ours - theirs).max() <= 1 / 255 + 1e-9


def test_bead_view_colours_are_matplotlibs_magma():
    matplotlib = pytest.importorskip("matplotlib")
    from microscope_qc.widgets._views import _lut

    theirs = np.round(matplotlib.colormaps["magma"](np.linspace(0, 1, 256)) * 255)
    assert np.abs(_lut().astype(int) - theirs).max() <= 1
