"""The summary of an image-quality batch: every image in one table, the worst ranked, the failures listed.

``microscope-qc image-quality FOLDER_or_FILES... --out DIR`` writes, besides each image's own
folder, into ``DIR``:

* ``image_quality_batch.csv``: one row per image checked (rating, failed checks, the main metrics);
* ``image_quality_worst.csv``: the images that failed a check, worst first (lowest rating; ties: more
  failed checks, then the name), with the checks that pulled each down;
* ``image_quality_failed.csv``: the files that could not be checked, with the error;
* ``image_quality_batch.html``: the three tables as one self-contained page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from microscope_qc.report.export import _CSS, ExportExistsError, _table_html
from microscope_qc.report.labels import display_unit, label

if TYPE_CHECKING:
    from microscope_qc.results import Result


class BatchItem(Protocol):
    """One job of a run (:class:`microscope_qc.measurements.command_line.BatchItem` fits)."""

    @property
    def label(self) -> str: ...  # noqa: D102

    @property
    def result(self) -> Result | None: ...  # noqa: D102

    @property
    def error(self) -> str | None: ...  # noqa: D102

    @property
    def out_dir(self) -> Path | None: ...  # noqa: D102


__all__ = ["BATCH_FILES", "batch_tables", "failed_checks_text", "write_batch"]

#: the files a batch summary writes into the output folder
BATCH_FILES = (
    "image_quality_batch.csv",
    "image_quality_worst.csv",
    "image_quality_failed.csv",
    "image_quality_batch.html",
)
_METRICS = (
    "quality_rating",
    "saturated_percent",
    "zero_clipped_percent",
    "dynamic_range_used_percent",
    "snr",
    "cnr",
    "noise_sd_counts",
    "focus_high_frequency_share",
    "pixel_over_nyquist",
    "noise_over_shot_noise",
    "bleached_percent",
)
_M = "image-quality"


def failed_checks_text(result: Result) -> str:
    """The failed checks of one result, each with its value and limit, e.g. ``saturation 0.04 % (≤ 0.01 %)``.

    Parameters
    ----------
    result : Result
        An image-quality result (its ``checks`` table).

    Returns
    -------
    str
        The failed checks joined by ``; ``, heaviest first; empty when all passed.
    """
    checks = result.tables.get("checks")
    if checks is None or checks.empty:
        return ""
    failed = checks[~checks["passed"].astype(bool)].sort_values("weight", ascending=False, kind="stable")
    parts = []
    for row in failed.itertuples(index=False):
        unit = display_unit(label(_M, str(row.metric)).unit)
        unit = f" {unit}" if unit else ""
        parts.append(f"{row.check} {row.value:.3g}{unit} ({row.comparison} {row.limit:g}{unit})")
    return "; ".join(parts)


def _value(result: Result, name: str) -> float:
    found = [m.value for m in result.metrics if m.name == name]
    return float(found[0]) if found else math.nan


def batch_tables(items: Sequence[BatchItem], out: Path | None = None) -> tuple[pd.DataFrame, ...]:
    """The batch's three tables: all images, the worst ranked, the files that failed.

    Parameters
    ----------
    items : sequence of BatchItem
        Every job of the run, analysed or failed.
    out : Path, optional
        The output folder (the results column is relative to it).

    Returns
    -------
    images, worst, failed : pandas.DataFrame
        See the module's description.
    """
    rows: list[dict[str, Any]] = []
    for it in items:
        r = it.result
        if r is None:
            continue
        regions = r.settings.get("snr_regions")
        results = ""
        if it.out_dir is not None:
            results = str(
                it.out_dir.relative_to(out)
                if out is not None and it.out_dir.is_relative_to(out)
                else it.out_dir
            )
        failed = failed_checks_text(r)
        rows.append(
            {
                "file": it.label,
                **{name: _value(r, name) for name in _METRICS},
                "failed_checks": failed,
                "snr_regions": "" if regions is None else str(regions.detail or regions.value),
                "results": results,
                "_n_failed": 0 if not failed else failed.count(";") + 1,
            }
        )
    images = pd.DataFrame(
        rows, columns=["file", *_METRICS, "failed_checks", "snr_regions", "results", "_n_failed"]
    )
    worst = images[images["failed_checks"] != ""].sort_values(
        ["quality_rating", "_n_failed", "file"], ascending=[True, False, True], kind="stable"
    )
    worst = worst[["file", "quality_rating", "failed_checks", "results"]].reset_index(drop=True)
    worst.insert(0, "rank", range(1, len(worst) + 1))
    images = images.drop(columns="_n_failed")
    failed_files = pd.DataFrame(
        [{"file": it.label, "error": it.error or ""} for it in items if it.result is None],
        columns=["file", "error"],
    )
    return images, worst, failed_files


def write_batch(
    items: Sequence[BatchItem], out: Path, overwrite: bool = False, show: int = 10
) -> tuple[dict[str, Path], list[str]]:
    """Write the batch summary into ``out`` and return the lines to print.

    Parameters
    ----------
    items : sequence of BatchItem
        Every job of the run.
    out : Path
        The output folder of the run.
    overwrite : bool
        Replace existing summary files; otherwise :class:`ExportExistsError` before anything is written.
    show : int
        How many of the worst images the printed lines list.

    Returns
    -------
    paths : dict of str to Path
        ``{"images", "worst", "failed", "html"}``.
    lines : list of str
        The printed summary: the worst images with their failed checks, and the failed files.

    Raises
    ------
    ExportExistsError
        A summary file exists and ``overwrite`` is False.
    """
    from microscope_qc.io import atomic_write

    targets = [out / name for name in BATCH_FILES]
    existing = [p.name for p in targets if p.exists()]
    if existing and not overwrite:
        raise ExportExistsError(
            f"{out} already holds {', '.join(existing)}; choose another output folder or allow overwriting "
            "explicitly ({overwrite})."
        )
    images, worst, failed = batch_tables(items, out)
    paths = dict(zip(("images", "worst", "failed", "html"), targets, strict=True))
    atomic_write(paths["images"], images.to_csv(index=False))
    atomic_write(paths["worst"], worst.to_csv(index=False))
    atomic_write(paths["failed"], failed.to_csv(index=False))
    atomic_write(paths["html"], _page(images, worst, failed))
    lines = [""]
    if worst.empty:
        lines.append(f"Every one of the {len(images)} images checked passed every check.")
    else:
        lines.append(
            f"Worst images ({min(show, len(worst))} of {len(worst)} that failed a check; rating, failed checks):"
        )
        for row in worst.head(show).itertuples(index=False):
            lines.append(f"  {row.rank:>3}. {row.file}  {row.quality_rating:.0f} %  {row.failed_checks}")
    if not failed.empty:
        lines.append(f"Could not be checked ({len(failed)}):")
        lines.extend(f"  {row.file}: {row.error}" for row in failed.itertuples(index=False))
    lines.append(f"Batch summary: {paths['html']} (and {', '.join(p.name for p in targets[:3])})")
    return paths, lines


def _page(images: pd.DataFrame, worst: pd.DataFrame, failed: pd.DataFrame) -> str:
    n = len(images) + len(failed)
    title = f"Image quality of {n} file{'s' if n != 1 else ''}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='muted'>{len(images)} checked, {len(worst)} failed a check, {len(failed)} could not be checked. "
        "Each image's own report is in its results folder.</p>",
        "<h2>Worst images</h2>",
    ]
    if worst.empty:
        parts.append("<p>Every image passed every check.</p>")
    else:
        parts.append(
            "<p class='muted'>Lowest rating first (ties: more failed checks first); the checks that pulled each "
            "image down, with value and limit.</p>"
        )
        parts.append(_table_html(worst, _M))
    if not failed.empty:
        parts.append("<h2>Files that could not be checked</h2>")
        parts.append(_table_html(failed, _M))
    parts.append("<h2>All images</h2><div class='scroll'>")
    parts.append(_table_html(images, _M))
    parts.append("</div></body></html>")
    return "".join(parts)
