"""matplotlib figures as PNG (the QC-history period report): drawn once, labels inside the figure."""

from __future__ import annotations


def test_labels_stay_inside_the_figure_and_it_is_drawn_once(monkeypatch):
    """Without the tight bounding box, the tight layout must keep every axis label inside the canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from microscope_qc.report.figure_png import figure_to_png

    draws: list[str] = []
    real = Figure.draw

    def counting(self, renderer):
        draws.append(type(self.canvas).__name__)
        return real(self, renderer)

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1e5], [0, 1e5])
    ax.set_xlabel("a long x label (µm)")
    ax.set_ylabel("a long y label (µm)")
    monkeypatch.setattr(Figure, "draw", counting)
    png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG") and draws == [FigureCanvasAgg.__name__]
    monkeypatch.undo()
    renderer = FigureCanvasAgg(fig).get_renderer()
    inside, outer = fig.bbox, ax.get_tightbbox(renderer)  # the axes with its labels and tick labels
    assert inside.x0 - 1 <= outer.x0 and outer.x1 <= inside.x1 + 1
    assert inside.y0 - 1 <= outer.y0 and outer.y1 <= inside.y1 + 1
