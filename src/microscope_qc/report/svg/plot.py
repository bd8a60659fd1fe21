"""A figure: panels in a grid, laid out so that every label fits, written as one SVG document."""

from __future__ import annotations

import itertools

from microscope_qc.report.svg.axes import Axes
from microscope_qc.report.svg.marks import Frame, esc, num

__all__ = ["Plot"]

#: a figure's element ids (clip paths) are unique on a page holding many figures
_IDS = itertools.count(1)
_FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"


class Plot:
    """A figure of ``rows`` × ``cols`` panels (small multiples), ``width`` × ``height`` pixels.

    Panels in a column share their left and right margins, panels in a row their top and bottom
    margins, so that their boxes line up; a panel keeping its aspect (an image) is centred in
    its cell.

    Parameters
    ----------
    width, height : float
        Size of the figure in pixels (CSS pixels; the SVG scales).
    rows, cols : int
        The grid.
    """

    def __init__(self, width: float, height: float, rows: int = 1, cols: int = 1) -> None:
        self.width, self.height, self.rows, self.cols = float(width), float(height), rows, cols
        self._axes: dict[tuple[int, int], Axes] = {}

    def axes(self, row: int = 0, col: int = 0) -> Axes:
        """The panel in grid cell (row, col), created on first use."""
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise IndexError(f"no cell ({row}, {col}) in a {self.rows} × {self.cols} grid")
        return self._axes.setdefault((row, col), Axes())

    def _frames(self) -> dict[tuple[int, int], Frame]:
        cw, ch = self.width / self.cols, self.height / self.rows
        margins = {rc: ax.margins(cw * 0.7, ch * 0.7) for rc, ax in self._axes.items()}
        left = [
            max((m[0] for (r, c), m in margins.items() if c == col), default=0) for col in range(self.cols)
        ]
        right = [
            max((m[1] for (r, c), m in margins.items() if c == col), default=0) for col in range(self.cols)
        ]
        top = [
            max((m[2] for (r, c), m in margins.items() if r == row), default=0) for row in range(self.rows)
        ]
        bottom = [
            max((m[3] for (r, c), m in margins.items() if r == row), default=0) for row in range(self.rows)
        ]
        frames = {}
        for (r, c), ax in self._axes.items():
            x0, y0 = c * cw + left[c], r * ch + top[r]
            w, h = max(cw - left[c] - right[c], 10.0), max(ch - top[r] - bottom[r], 10.0)
            ratio = ax.aspect()
            if ratio is not None:  # keep the data's aspect: shrink one side, centre the box
                if h / w > ratio:
                    y0, h = y0 + (h - w * ratio) / 2, w * ratio
                else:
                    x0, w = x0 + (w - h / ratio) / 2, h / ratio
            xlim, ylim = ax.limits()
            frames[(r, c)] = Frame(x0, y0, w, h, xlim, ylim, ax.y_down, ax.xlog, ax.ylog)
        return frames

    def svg(self, title: str = "") -> str:
        """The figure as an SVG document (no XML declaration: it can be written inline in HTML).

        Parameters
        ----------
        title : str
            The figure's accessible name (its ``<title>``).

        Returns
        -------
        str
            ``<svg ...>...</svg>``.
        """
        fid = f"qcfig{next(_IDS)}"
        w, h = num(self.width), num(self.height)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'version="1.1" class="qc-figure" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'font-family="{_FONT}" role="img">'
        ]
        if title:
            parts.append(f"<title>{esc(title)}</title>")
        parts.append(f'<rect width="{w}" height="{h}" fill="#ffffff"/>')
        for k, (rc, frame) in enumerate(sorted(self._frames().items())):
            parts.append(self._axes[rc].svg(frame, f"{fid}-clip{k}"))
        parts.append("</svg>")
        return "".join(parts)
