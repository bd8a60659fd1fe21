"""Exports shared by every measurement: ``results.json``, the item table CSV and ``report.html``.

The CLI and the widgets both call :func:`export_result`, so they write exactly the same files
(the results contract of ``DESIGN.md``). Nothing is overwritten silently: an existing output
file raises :class:`ExportExistsError` unless ``overwrite=True``; files are written to a
temporary name and renamed, so an interrupted export never leaves half a file.

The names below load on first use (:mod:`microscope_qc._lazy`): the labels and the verdict wording
(``report.labels``, ``report.verdicts``) are imported without numpy, pandas or matplotlib. The
measurement reports' figures are SVG drawn by :mod:`microscope_qc.report.svg` (NumPy only);
``report.figure_png.figure_to_png`` (matplotlib) serves the QC-history period report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.report.export import (
        ExportExistsError,
        Figure,
        InputInfo,
        export_result,
        planned_files,
        refuse_overwrite,
        render_html,
        results_document,
        write_json_export,
    )

__all__ = [
    "InputInfo",
    "ExportExistsError",
    "Figure",
    "export_result",
    "planned_files",
    "refuse_overwrite",
    "results_document",
    "render_html",
    "write_json_export",
]

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "export"))
