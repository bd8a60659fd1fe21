"""Report figures are drawn once each, by the non-interactive Agg renderer."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def psf_result():
    from tests.conftest import microscope_for

    from microscope_qc.analysis.psf import PSFSettings, analyze_psf
    from microscope_qc.samples import psf_beads_sample

    sample = psf_beads_sample()
    return analyze_psf(sample.data, PSFSettings(microscope=microscope_for(sample)))


def test_each_report_figure_is_drawn_once_with_agg(psf_result, monkeypatch):
    """The former tight-bounding-box pass drew every figure twice (once to measure it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from microscope_qc.report.psf import psf_figures

    draws: list[str] = []
    real = Figure.draw

    def counting(self, renderer):
        draws.append(type(self.canvas).__name__)
        return real(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    figures = psf_figures(psf_result)
    assert len(figures) == 5
    assert draws == [FigureCanvasAgg.__name__] * len(figures)
    assert all(f.png.startswith(b"\x89PNG") for f in figures)


def test_labels_stay_inside_the_figure(psf_result):
    """Without the tight bounding box, the tight layout must keep every axis label inside the canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from microscope_qc.report import figure_to_png

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1e5], [0, 1e5])
    ax.set_xlabel("a long x label (µm)")
    ax.set_ylabel("a long y label (µm)")
    figure_to_png(fig)
    renderer = FigureCanvasAgg(fig).get_renderer()
    inside, outer = fig.bbox, ax.get_tightbbox(renderer)  # the axes with its labels and tick labels
    assert inside.x0 - 1 <= outer.x0 and outer.x1 <= inside.x1 + 1
    assert inside.y0 - 1 <= outer.y0 and outer.y1 <= inside.y1 + 1
