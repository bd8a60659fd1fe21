"""Reports across a period of the QC history: for a publication's Methods, and for the facility.

One content, three renderings: a self-contained HTML page, a PDF (matplotlib, same sections), and
machine-readable JSON (schema ``napari-microscope-qc/qc-period/1``, documented in
docs/history.md), optionally also as key-value annotations in an OME companion file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import textwrap
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from microscope_qc import __version__
from microscope_qc.history.store import HistoryError, HistoryStore
from microscope_qc.history.trends import DriftResult, detect_drift
from microscope_qc.io import atomic_write
from microscope_qc.measurements import REGISTRY
from microscope_qc.report.figure_png import figure_to_png
from microscope_qc.report.labels import MEASUREMENT_LABELS, display_unit, has_label, label
from microscope_qc.report.verdicts import limit_text

__all__ = [
    "PeriodReport",
    "period_report",
    "period_report_paths",
    "draw_trend",
    "KEY_METRICS",
    "PERIOD_SCHEMA",
]

PERIOD_SCHEMA = "napari-microscope-qc/qc-period/1"

#: The metrics a period report summarises and plots, per measurement (others stay in the JSON).
KEY_METRICS: dict[str, tuple[str, ...]] = {m.name: m.history_metrics for m in REGISTRY}


def draw_trend(
    ax: Axes,
    series: pd.DataFrame,
    metric: str,
    thresholds: list[tuple[str, float]] | None = None,
    drift: DriftResult | None = None,
    measurement: str | None = None,
) -> None:
    """Values over time with uncertainty bars, tolerance lines, failed runs in red, the drift line.

    The y axis shows the metric's human label and unit (report.labels).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    series : pandas.DataFrame
        What :meth:`HistoryStore.metric_series` returns.
    metric : str
        The metric's name.
    thresholds : list of tuple of (str, float), optional
        (comparison, threshold) limits drawn as lines.
    drift : DriftResult, optional
        The drift test, drawn as its regression line.
    measurement : str, optional
        Picks the label table (None: any table that knows the metric).
    """
    if series.empty:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return
    t = series["time"].dt.tz_convert(None) if series["time"].dt.tz is not None else series["time"]
    ok = series["passed"].astype(bool).to_numpy()
    yerr = series["uncertainty"].to_numpy(float)
    yerr = np.where(np.isfinite(yerr), yerr, 0.0)
    ax.errorbar(
        t[ok], series["value"][ok], yerr=yerr[ok], fmt="o", color="#1b7837", ms=4, capsize=2, label="passed"
    )
    if (~ok).any():
        ax.errorbar(
            t[~ok],
            series["value"][~ok],
            yerr=yerr[~ok],
            fmt="s",
            color="#c51b7d",
            ms=5,
            capsize=2,
            label="failed",
        )
    for comparison, value in thresholds or []:
        ax.axhline(value, color="#999", ls="--", lw=1)
        # shade the failing side of the limit: the tolerance band is what stays white
        if comparison == "<=":
            ax.axhspan(
                value,
                max(value, float(np.nanmax(series["value"] + yerr))) * 1.05 + 1e-12,
                color="#c51b7d",
                alpha=0.06,
            )
        else:
            ax.axhspan(
                min(value, float(np.nanmin(series["value"] - yerr))) * 0.95,
                value,
                color="#c51b7d",
                alpha=0.06,
            )
        ax.text(
            t.iloc[0],
            value,
            f" limit {limit_text(measurement, metric, comparison, value)}",
            va="bottom",
            fontsize=7,
            color="#666",
        )
    if drift is not None and drift.n >= 3 and math.isfinite(drift.slope_per_day):
        tail = series.dropna(subset=["value"]).tail(drift.n)
        tt = tail["time"]
        days = (tt - tt.iloc[0]).dt.total_seconds() / 86400
        w = tail["value"].mean() - drift.slope_per_day * days.mean()
        tt_plot = tt.dt.tz_convert(None) if tt.dt.tz is not None else tt
        ax.plot(
            tt_plot,
            w + drift.slope_per_day * days,
            color="#d95f02" if drift.significant else "#bbb",
            lw=1.5,
            label="trend",
        )
    ax.set_ylabel(_axis_label(measurement, metric, series))
    ax.legend(fontsize=7)
    ax.figure.autofmt_xdate()


def _axis_label(measurement: str | None, metric: str, series: pd.DataFrame) -> str:
    """The metric's label with its unit; the stored unit is used for metrics no table knows."""
    lab = label(measurement, metric)
    if has_label(measurement, metric):
        return lab.heading
    stored = series["unit"].dropna() if "unit" in series else pd.Series(dtype=object)
    unit = display_unit(stored.iloc[0]) if len(stored) else lab.unit_text
    return f"{lab.text} ({unit})" if unit else lab.text


def _title(measurement: str, metric: str) -> str:
    return f"{MEASUREMENT_LABELS.get(measurement, measurement)}: {label(measurement, metric).text}"


@dataclass
class PeriodReport:
    """The content of a period report (render it with :meth:`write`)."""

    instrument: str
    start: str
    end: str
    runs: pd.DataFrame
    summary: dict[str, dict[str, dict[str, Any]]]
    series: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    thresholds: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=dict)
    drift: dict[tuple[str, str], DriftResult] = field(default_factory=dict)
    methods_text: str = ""
    store_metrics: dict[str, pd.DataFrame] = field(default_factory=dict)
    store_verdicts: dict[str, pd.DataFrame] = field(default_factory=dict)

    # ------------------------------------------------------------------ machine-readable
    def to_dict(self) -> dict[str, Any]:
        """Return the report as the JSON document (schema :data:`PERIOD_SCHEMA`).

        Returns
        -------
        dict
            The period, the summary per metric, the drift tests and every run with its metrics
            and verdicts; non-finite numbers become None.
        """
        runs = []
        for _, r in self.runs.iterrows():
            ms = self.store_metrics.get(r["uuid"])
            runs.append(
                {
                    "uuid": r["uuid"],
                    "measurement": r["measurement"],
                    "objective": r["objective"],
                    "channel": r["channel"],
                    "acquired_at": r["acquired_at"],
                    "analysed_at": r["analysed_at"],
                    "passed": bool(r["passed"]),
                    "input_sha256": r["input_sha256"],
                    "report_path": r["report_path"],
                    "metrics": [] if ms is None else [_clean_row(x) for x in ms.to_dict("records")],
                    "verdicts": [_clean_row(x) for x in self.store_verdicts[r["uuid"]].to_dict("records")]
                    if r["uuid"] in self.store_verdicts
                    else [],
                }
            )
        return {
            "schema": PERIOD_SCHEMA,
            "software": {"name": "napari-microscope-qc", "version": __version__},
            "generated": datetime.now(UTC).isoformat(timespec="seconds"),
            "instrument": self.instrument,
            "period": {"start": self.start, "end": self.end},
            "summary": self.summary,
            "drift": {
                f"{m}/{k}": {
                    "slope_per_day": _f(d.slope_per_day),
                    "se": _f(d.slope_se_per_day),
                    "p": _f(d.p_value),
                    "significant": d.significant,
                    "n": d.n,
                }
                for (m, k), d in self.drift.items()
            },
            "methods_text": self.methods_text,
            "runs": runs,
        }

    # ------------------------------------------------------------------ renderings
    def _trend_figure(self, measurement: str, metric: str, size: tuple[float, float]) -> Figure:
        """One metric's trend, as drawn in both the HTML page and the PDF."""
        fig = Figure(figsize=size)
        ax = fig.add_subplot()
        key = (measurement, metric)
        draw_trend(ax, self.series[key], metric, self.thresholds.get(key), self.drift.get(key), measurement)
        ax.set_title(_title(measurement, metric), fontsize=9)
        return fig

    def figures(self) -> list[tuple[str, bytes]]:
        """Draw one trend figure per key metric and channel.

        Returns
        -------
        list of tuple of (str, bytes)
            Each figure's title and PNG bytes.
        """
        return [
            (_title(m, k), figure_to_png(self._trend_figure(m, k, (7, 3)), dpi=80)) for m, k in self.series
        ]

    def html(self) -> str:
        """Render the report as a self-contained HTML page.

        Returns
        -------
        str
            The page, with the figures embedded.
        """
        e = html.escape
        p = [
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>QC {e(self.instrument)}</title>"
        ]
        p.append(
            "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:3px 6px}"
            "th{background:#f4f4f4}.fail{color:#b42318;font-weight:600}.pass{color:#17803d}"
            "code.name{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.78em;color:#777}"
            "blockquote{background:#f7f7f7;border-left:4px solid #888;padding:.6em 1em}</style></head><body>"
        )
        p.append(
            f"<h1>Instrument performance: {e(self.instrument)}</h1><p>{e(self.start)} to {e(self.end)} · {len(self.runs)} QC runs · "
            f"napari-microscope-qc {e(__version__)}</p>"
        )
        p.append(f"<h2>Materials and Methods text</h2><blockquote>{e(self.methods_text)}</blockquote>")
        p.append(
            "<h2>Summary over the period</h2><table><tr><th>measurement</th><th>quantity</th><th>median</th><th>min</th><th>max</th><th>latest</th><th>unit</th><th>runs</th><th>trend</th></tr>"
        )
        for measurement, ms in self.summary.items():
            for metric, s in ms.items():
                d = self.drift.get((measurement, metric))
                p.append(
                    f"<tr><td>{e(MEASUREMENT_LABELS.get(measurement, measurement))}</td>"
                    f"<td title='{e(metric)} in the QC history and results.json'>{e(label(measurement, metric).text)}"
                    f"<br><code class='name'>{e(metric)}</code></td><td>{_fmt(s['median'])}</td><td>{_fmt(s['min'])}</td>"
                    f"<td>{_fmt(s['max'])}</td><td>{_fmt(s['latest'])}</td><td>{e(display_unit(s['unit']))}</td><td>{s['n']}</td>"
                    f"<td>{e(d.text) if d else ''}</td></tr>"
                )
        p.append("</table>")
        for title, png in self.figures():
            p.append(
                f"<h3>{e(title)}</h3><img alt='{e(title)}' style='max-width:100%' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
            )
        p.append(
            "<h2>Runs</h2><table><tr><th>date</th><th>measurement</th><th>objective</th><th>channel</th><th>result</th><th>report</th></tr>"
        )
        for _, r in self.runs.iterrows():
            cls = "pass" if r["passed"] else "fail"
            rep = (
                f"<a href='{e(Path(r['report_path']).as_uri())}'>report</a>"
                if isinstance(r["report_path"], str) and r["report_path"]
                else ""
            )
            p.append(
                f"<tr><td>{e(str(r['acquired_at'] or r['analysed_at']))}</td>"
                f"<td>{e(MEASUREMENT_LABELS.get(r['measurement'], r['measurement']))}</td><td>{e(r['objective'])}</td>"
                f"<td>{e(r['channel'])}</td><td class='{cls}'>{'pass' if r['passed'] else 'FAIL'}</td><td>{rep}</td></tr>"
            )
        p.append("</table></body></html>")
        return "".join(p)

    def pdf(self, path: Path | BinaryIO) -> None:
        """Write the same sections as the HTML page as a PDF: a text page, then one page per trend.

        Parameters
        ----------
        path : Path or binary file object
            Where to write the PDF.
        """
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(path) as pdf:
            fig = Figure(figsize=(8.27, 11.69))
            fig.text(0.08, 0.95, f"Instrument performance: {self.instrument}", fontsize=15, weight="bold")
            fig.text(
                0.08,
                0.925,
                f"{self.start} to {self.end} · {len(self.runs)} QC runs · napari-microscope-qc {__version__}",
                fontsize=9,
            )
            y = 0.89
            fig.text(0.08, y, "Materials and Methods text", fontsize=11, weight="bold")
            for line in textwrap.wrap(self.methods_text, 100):
                y -= 0.018
                fig.text(0.08, y, line, fontsize=8)
            y -= 0.04
            fig.text(
                0.08, y, "Summary over the period (median [min – max], runs)", fontsize=11, weight="bold"
            )
            for measurement, ms in self.summary.items():
                for metric, s in ms.items():
                    y -= 0.018
                    if y < 0.05:
                        break
                    fig.text(
                        0.08,
                        y,
                        f"{_title(measurement, metric)} ({metric}): {_fmt(s['median'])} "
                        f"[{_fmt(s['min'])} – {_fmt(s['max'])}] {display_unit(s['unit'])}, n = {s['n']}",
                        fontsize=8,
                    )
            pdf.savefig(fig)
            for measurement, metric in self.series:
                fig = self._trend_figure(measurement, metric, (8.27, 4))
                pdf.savefig(fig)

    def write(
        self,
        folder: str | Path,
        stem: str = "qc_period_report",
        overwrite: bool = False,
        ome_companion: bool = False,
    ) -> dict[str, Path]:
        """Write ``<stem>.html``, ``<stem>.pdf``, ``<stem>.json`` (and ``<stem>.companion.ome``).

        Never overwrites silently: :func:`period_report_paths` names the files beforehand.

        Parameters
        ----------
        folder : str or Path
            The output folder.
        stem : str
            The files' common name.
        overwrite : bool
            Replace existing files.
        ome_companion : bool
            Also write the summary as an OME companion file.

        Returns
        -------
        dict of str to Path
            The files written, by kind.

        Raises
        ------
        FileExistsError
            If any of the files exists and ``overwrite`` is False (nothing is written).
        """
        folder = Path(folder)
        paths = period_report_paths(folder, stem, ome_companion)
        existing = [p.name for p in paths.values() if p.exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"{folder} already holds {', '.join(existing)}; choose another folder or allow overwriting."
            )
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(paths["html"], self.html())
        pdf = io.BytesIO()
        self.pdf(pdf)
        atomic_write(paths["pdf"], pdf.getvalue())
        atomic_write(paths["json"], json.dumps(self.to_dict(), indent=2))
        if ome_companion:
            atomic_write(paths["ome"], self.ome_xml())
        return paths

    def ome_xml(self) -> str:
        """Render the summary as an OME companion.

        Returns
        -------
        str
            OME-XML with one MapAnnotation of key-value pairs (namespace of the schema).
        """
        from ome_types import model as om

        pairs = [
            ("instrument", self.instrument),
            ("period_start", self.start),
            ("period_end", self.end),
            ("n_runs", str(len(self.runs))),
        ]
        for measurement, ms in self.summary.items():
            for metric, s in ms.items():
                pairs.append(
                    (f"{measurement}.{metric}.median", f"{s['median']:.6g} {s['unit'] or ''}".strip())
                )
        ann = om.MapAnnotation(
            id="Annotation:0",
            namespace=PERIOD_SCHEMA,
            value=om.Map(ms=[om.Map.M(k=k, value=v) for k, v in pairs]),
        )
        return om.OME(
            structured_annotations=om.StructuredAnnotations(map_annotations=[ann]),
            creator=f"napari-microscope-qc {__version__}",
        ).to_xml()


def period_report_paths(
    folder: str | Path, stem: str = "qc_period_report", ome_companion: bool = False
) -> dict[str, Path]:
    """Return the files :meth:`PeriodReport.write` writes into ``folder`` (to look for existing ones first).

    Parameters
    ----------
    folder : str or Path
        The output folder.
    stem : str
        The files' common name.
    ome_companion : bool
        Include the OME companion file.

    Returns
    -------
    dict of str to Path
        The paths by kind (html, pdf, json and ome).
    """
    folder = Path(folder)
    paths = {
        "html": folder / f"{stem}.html",
        "pdf": folder / f"{stem}.pdf",
        "json": folder / f"{stem}.json",
    }
    if ome_companion:
        paths["ome"] = folder / f"{stem}.companion.ome"
    return paths


def _f(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def _fmt(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4g}"


def _clean_row(d: Mapping[Hashable, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif hasattr(v, "item"):
            v = v.item()
        out[str(k)] = v
    return out


def period_report(
    store: HistoryStore, instrument: str, start: str, end: str, last_n: int = 10
) -> PeriodReport:
    """Gather every run of ``instrument`` acquired between ``start`` and ``end`` (ISO dates, inclusive).

    Parameters
    ----------
    store : HistoryStore
        The history.
    instrument : str
        The instrument's name.
    start, end : str
        The period, ISO dates, inclusive.
    last_n : int
        The number of most recent runs in each drift test.

    Returns
    -------
    PeriodReport
        The report, ready to write.

    Raises
    ------
    HistoryError
        If the period starts after it ends, or the instrument has no runs in the history.
    """
    if start > end:
        raise HistoryError(f"The period starts ({start}) after it ends ({end}).")
    runs = store.runs(instrument, start=start, end=end)
    rep = PeriodReport(instrument, start, end, runs, summary={})
    for uuid_ in runs["uuid"]:
        run = store.run(uuid_)
        rep.store_metrics[uuid_] = run["metrics"]
        rep.store_verdicts[uuid_] = run["verdicts"]
    for measurement in sorted(runs["measurement"].unique()):
        names = KEY_METRICS.get(measurement) or tuple(store.metric_names(instrument))
        sub = runs[runs.measurement == measurement]
        rep.summary[measurement] = {}
        for metric in names:
            series = store.metric_series(instrument, metric, measurement=measurement)
            series = series[series["uuid"].isin(sub["uuid"])]
            if series.empty:
                continue
            vals = series["value"].dropna()
            rep.summary[measurement][metric] = {
                "median": float(vals.median()) if len(vals) else math.nan,
                "min": float(vals.min()) if len(vals) else math.nan,
                "max": float(vals.max()) if len(vals) else math.nan,
                "latest": float(vals.iloc[-1]) if len(vals) else math.nan,
                "unit": series["unit"].dropna().iloc[0] if series["unit"].notna().any() else None,
                "n": int(len(vals)),
            }
            rep.series[(measurement, metric)] = series
            rep.drift[(measurement, metric)] = detect_drift(series, last_n)
            rep.thresholds[(measurement, metric)] = store.thresholds(instrument, metric)
    rep.methods_text = _methods_text(rep, store)
    return rep


def _methods_text(rep: PeriodReport, store: HistoryStore) -> str:
    runs = rep.runs
    if runs.empty:
        return f"No QC measurements of {rep.instrument} are recorded between {rep.start} and {rep.end}."
    objectives = sorted({o for o in runs["objective"] if o})
    na = set()
    for s in runs["settings_json"]:
        v = json.loads(s or "{}").get("na", {}).get("value")
        if v:
            na.add(float(v))
    dates = pd.to_datetime(runs["acquired_at"].fillna(runs["analysed_at"]), utc=True, format="ISO8601")
    parts = [
        f"The performance of the {rep.instrument} microscope"
        + (
            f" ({', '.join(objectives)} objective{'s' if len(objectives) > 1 else ''}"
            + (f", NA {', '.join(f'{v:g}' for v in sorted(na))})" if na else ")")
            if objectives
            else ""
        )
        + (
            f" was checked once, on {dates.min():%Y-%m-%d},"
            if len(runs) == 1
            else f" was checked {len(runs)} times between {dates.min():%Y-%m-%d} and {dates.max():%Y-%m-%d}"
        )
        + f" with napari-microscope-qc {__version__}."
    ]
    for m in REGISTRY:  # one sentence per measurement with runs, from its registry entry
        if m.name in rep.summary and m.methods_sentence is not None:
            sentence = m.methods_sentence(rep.summary[m.name])
            if sentence:
                parts.append(sentence)
    failed = int((~runs["passed"].astype(bool)).sum())
    parts.append(
        "All checks passed their tolerances."
        if failed == 0
        else f"{failed} of {len(runs)} runs failed at least one tolerance."
    )
    return " ".join(parts)
