"""Report figures as inline SVG, with NumPy and the standard library only.

Vector marks, searchable text and crisp lines at any zoom; images (colour-mapped arrays) are
embedded as palette PNGs in ``data:`` URIs, so a report stays one self-contained file. A series
of any length is one SVG path (``data-count`` holds its number of points), so a figure's size
and drawing time grow with its series, not with its beads.

    plot = Plot(900, 280, cols=3)
    ax = plot.axes(0, 1)
    ax.markers(x, y, "o", colour="#333", label="data")
    ax.line(xf, yf, "#d95f02", label="fit")
    ax.set(title="...", xlabel="Position x (µm)", ylabel="Intensity (counts)")
    ax.legend()
    svg = plot.svg("Profiles")

Modules: ``plot`` (the grid and the document), ``axes`` (a panel), ``artists`` (the marks),
``marks`` (path data, escaping), ``ticks`` (ranges, ticks, labels), ``colours`` (colour maps),
``png`` (the PNG encoder).
"""

from microscope_qc.report.svg.axes import Axes
from microscope_qc.report.svg.colours import ColourScale, colour_table
from microscope_qc.report.svg.plot import Plot
from microscope_qc.report.svg.png import encode_png, png_data_uri
from microscope_qc.report.svg.ticks import nice_ticks, tick_labels

__all__ = [
    "Plot",
    "Axes",
    "ColourScale",
    "colour_table",
    "encode_png",
    "png_data_uri",
    "nice_ticks",
    "tick_labels",
]
