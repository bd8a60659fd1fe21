"""``results.json``, the item-table CSVs and ``report.html``: the exports of every measurement (see the package)."""

from __future__ import annotations

import gc
import html
import json
import platform
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from microscope_qc import __version__
from microscope_qc.errors import QCError
from microscope_qc.findings import Finding, finding_record
from microscope_qc.io import atomic_write
from microscope_qc.report.labels import display_unit, label
from microscope_qc.report.verdicts import limit_text, unit_suffix, verdict_text
from microscope_qc.results import Result, _clean
from microscope_qc.tables import ColumnTable, table_columns, table_csv

if TYPE_CHECKING:
    import pandas as pd

_ResultT = TypeVar("_ResultT", bound=Result)

__all__ = [
    "InputInfo",
    "ExportExistsError",
    "Figure",
    "export_result",
    "planned_files",
    "refuse_overwrite",
    "write_json_export",
    "results_document",
    "render_html",
]


class ExportExistsError(QCError, FileExistsError):
    """An export would replace existing files; the message lists them.

    It is both a :class:`QCError` and a :class:`FileExistsError`.
    """


def refuse_overwrite(path: Path, overwrite: bool) -> None:
    """Raise :class:`ExportExistsError` if ``path`` exists and replacing it was not asked for.

    The message ends with ``{overwrite}``, which the CLI and the docks fill with their own words
    for allowing it (``--overwrite``, the dock's "Overwrite" box).
    """
    if path.exists() and not overwrite:
        raise ExportExistsError(
            f"{path} exists; choose another name or folder, or allow overwriting explicitly ({{overwrite}})."
        )


def write_json_export(path: str | Path, document: dict[str, Any], overwrite: bool = False) -> Path:
    """Write a JSON document as an export: never over an existing file unless asked, all at once.

    Parameters
    ----------
    path : str or Path
        The file to write (its folder is created).
    document : dict
        JSON-serialisable content.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportExistsError
        If the file exists and ``overwrite`` is False.
    """
    path = Path(path)
    refuse_overwrite(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(document, indent=2))


@dataclass(frozen=True)
class InputInfo:
    """The analysed input, for provenance: path (None for in-memory layers), checksum, shape, dtype."""

    path: str | None
    sha256: str | None
    shape: tuple[int, ...]
    dtype: str
    #: where each acquisition value came from (io.AcquisitionMetadata.as_dict)
    metadata: dict[str, Any] | None = None
    #: every input file when several were combined into one analysis
    combined_from: list[dict[str, Any]] | None = None
    #: the scene analysed, of a multi-scene file (None: the file's only one)
    scene: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the input's provenance as written to ``results.json``."""
        out: dict[str, Any] = {
            "path": self.path,
            "sha256": self.sha256,
            "shape": list(self.shape),
            "dtype": self.dtype,
        }
        if self.metadata is not None:
            out["file_metadata"] = _clean(self.metadata)
        if self.combined_from:
            out["combined_from"] = self.combined_from
        if self.scene is not None:
            out["scene"] = self.scene
        return out


@dataclass(frozen=True)
class Figure:
    """A report figure: title, the drawing as an SVG document (``report.svg.Plot.svg``) and a caption.

    The SVG is written inline into ``report.html``: vector, its text searchable, its images
    embedded, so the page stays one self-contained file.
    """

    title: str
    svg: str
    caption: str = ""


def results_document(
    result: Result, info: InputInfo, findings: Sequence[Finding] | None = None
) -> dict[str, Any]:
    """Build the ``results.json`` content (results contract).

    Parameters
    ----------
    result : Result
        The analysis result.
    info : InputInfo
        Provenance of the input.
    findings : sequence of Finding, optional
        What the measurement's rule table says about the instrument (its registry entry's
        ``findings(result)``); None when the measurement has no rule table.

    Returns
    -------
    dict
        The document: measurement, software, input, settings, metrics, verdicts, overall
        verdict, warnings and findings (``null`` without a rule table, else a list of
        :func:`~microscope_qc.findings.finding_record`).
    """
    doc = result.to_dict()
    return {
        "measurement": doc["measurement"],
        "software": {"name": "napari-microscope-qc", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "input": info.to_dict(),
        "settings": doc["settings"],
        "metrics": doc["metrics"],
        "verdicts": doc["verdicts"],
        "passed": doc["passed"],
        "warnings": doc["warnings"],
        "findings": None if findings is None else [_clean(finding_record(f)) for f in findings],
    }


def planned_files(out_dir: str | Path, result: Result) -> list[Path]:
    """List the files :func:`export_result` would write for ``result``.

    Parameters
    ----------
    out_dir : str or Path
        The output folder.
    result : Result
        The analysis result (its tables decide the CSV files).

    Returns
    -------
    list of Path
        ``results.json``, one CSV per table and ``report.html``.
    """
    out = Path(out_dir)
    return [out / "results.json", *[out / f"{name}.csv" for name in result.tables], out / "report.html"]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the export runs; it resumes afterwards.

    The export allocates many small objects (figures, table cells) in a process that holds an
    analysis' libraries: each full collection walks their hundreds of thousands of long-lived
    objects, 0.1–0.2 s a report in all, and finds nothing of the export's to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def export_result(
    result: _ResultT,
    out_dir: str | Path,
    info: InputInfo,
    figures: Callable[[_ResultT], Sequence[Figure]] | None = None,
    title: str | None = None,
    overwrite: bool = False,
    optional_files: Iterable[str] = (),
    findings: Sequence[Finding] | None = None,
) -> dict[str, Path]:
    """Write ``results.json``, one CSV per table and ``report.html`` into ``out_dir``.

    Parameters
    ----------
    result : Result
        What an ``analyze_<stem>`` function returned.
    out_dir : str or Path
        Folder for this input (created if needed).
    info : InputInfo
        Provenance of the input.
    figures : callable, optional
        Measurement-specific figure builder for the HTML report; it accepts ``result``'s type.
    title : str, optional
        The report's title.
    overwrite : bool
        Replace existing files; otherwise :class:`ExportExistsError` is raised before anything is written.
    optional_files : iterable of str
        Files the measurement writes only when asked (e.g. ``flat_field.tif``): when overwriting,
        those of an earlier export are removed, so that none is left looking like part of this one.
    findings : sequence of Finding, optional
        The result's findings (the registry entry's ``findings(result)``): written to
        ``results.json`` and shown near the top of the report; None when the measurement has none.

    Returns
    -------
    dict
        ``{"json": path, "<table>": path, ..., "html": path}``.

    Raises
    ------
    ExportExistsError
        If any of the files exists and ``overwrite`` is False (nothing is written).
    """
    out = Path(out_dir)
    targets = planned_files(out, result)
    existing = [p for p in targets if p.exists()]
    existing += [out / n for n in optional_files if (out / n).exists() and out / n not in existing]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        raise ExportExistsError(
            f"{out} already holds {names}; choose another output folder or allow overwriting explicitly "
            "({overwrite})."
        )
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for name in optional_files:
            (out / name).unlink(missing_ok=True)
    with _collector_paused():
        doc = results_document(result, info, findings)
        paths: dict[str, Path] = {}
        atomic_write(out / "results.json", json.dumps(doc, indent=2, allow_nan=False).encode())
        paths["json"] = out / "results.json"
        for name in result.tables:  # a table kept as columns is written without pandas
            atomic_write(out / f"{name}.csv", table_csv(table_columns(result.tables, name)).encode())
            paths[name] = out / f"{name}.csv"
        figs = list(figures(result)) if figures is not None else []
        page = render_html(doc, result, figs, title or f"{result.measurement} QC report")
        atomic_write(out / "report.html", page.encode())
        paths["html"] = out / "report.html"
    return paths


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
.pass{color:#17803d;font-weight:600} .fail{color:#b42318;font-weight:600} .muted{color:#666;font-size:.85em}
.warn{background:#fff7e0;border-left:4px solid #f0b400;padding:.4em .8em;margin:.3em 0}
figure{margin:1em 0} figcaption{color:#555;font-size:.85em} img{max-width:100%} figure svg{max-width:100%;height:auto}
.finding{margin:.25em 0;padding:.3em .7em;border-left:4px solid #17803d} .finding.note{border-color:#f0b400;background:#fff7e0}
.finding.fault{border-color:#b42318;background:#fdecea} .sev{font-weight:600;font-size:.8em;text-transform:uppercase;margin-right:.5em}
.finding .evidence{color:#555;font-size:.82em}
.scroll{max-height:480px;overflow:auto;border:1px solid #eee}
code.name{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.78em;color:#777;font-weight:normal}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "—"
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return html.escape(str(value))


def _uncertainty_cell(value: float | None, kind: str) -> str:
    """The ± cell: the number; "not estimable" (with the reason on hover) when it is NaN; "—" when there is none."""
    if value is not None and not np.isfinite(float(value)):
        return f"<td title='{html.escape(kind)}'>not estimable</td>"
    return f"<td>{_fmt(None if value is None else float(value))}</td>"


def _voxel_line(setting: dict[str, Any] | None) -> str:
    """The header line with the voxel size the analysis used and where it came from (empty without one)."""
    if not setting or not setting.get("value"):
        return ""
    size = " × ".join("?" if v is None else f"{v:g}" for v in setting["value"])
    detail = f", {setting['detail']}" if setting.get("detail") else ""
    return f"Voxel size used (z × y × x): {html.escape(size)} µm (source: {html.escape(str(setting.get('source')))}{html.escape(detail)})<br>"


def _name_cell(measurement: str, name: str, tag: str = "td") -> str:
    """A table cell with the human label on top and the file name (results.json key, CSV column) below it."""
    e = html.escape
    return (
        f"<{tag} title='{e(name)} in results.json and the CSV files'>{e(label(measurement, name).text)}"
        f"<br><code class='name'>{e(name)}</code></{tag}>"
    )


def render_html(doc: dict[str, Any], result: Result, figures: Sequence[Figure], title: str) -> str:
    """A self-contained HTML report (figures written inline as SVG).

    Metrics and table columns are shown by their human labels (report.labels) with units; the
    name used in results.json and the CSV files is shown beside each in small monospace.

    Parameters
    ----------
    doc : dict
        What :func:`results_document` returns.
    result : Result
        The analysis result (its tables).
    figures : sequence of Figure
        The measurement's figures.
    title : str
        The page title.

    Returns
    -------
    str
        The HTML page.
    """
    e = html.escape
    meas = result.measurement
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"]
    parts.append(f"<style>{_CSS}</style></head><body>")
    parts.append(f"<h1>{e(title)}</h1>")
    inp = doc["input"]
    parts.append(
        f"<p class='muted'>Input: {e(str(inp.get('path') or 'in-memory layer'))} · shape {e(str(inp['shape']))} · "
        f"{e(inp['dtype'])} · sha256 {e(str(inp.get('sha256') or '—'))}<br>"
        f"{_voxel_line(doc['settings'].get('voxel_size_um'))}"
        f"{e(doc['software']['name'])} {e(doc['software']['version'])} · {e(doc['created'])}</p>"
    )
    parts.append(findings_html(doc.get("findings")))
    overall = "pass" if doc["passed"] else "fail"
    parts.append(f"<h2>Verdicts — <span class='{overall}'>{'PASS' if doc['passed'] else 'FAIL'}</span></h2>")
    if doc["verdicts"]:
        parts.append(
            "<table><tr><th>quantity</th><th>channel</th><th>value</th><th>limit</th><th>source</th><th>result</th></tr>"
        )
        for v in doc["verdicts"]:
            cls = "pass" if v["passed"] else "fail"
            unit = e(unit_suffix(meas, v["metric"]))
            parts.append(
                f"<tr title='{e(verdict_text(meas, v))}'>{_name_cell(meas, v['metric'])}<td>{_fmt(v['channel'])}</td>"
                f"<td>{_fmt(v['value'])}{unit if v['value'] is not None else ''}</td>"
                f"<td>{e(limit_text(meas, v['metric'], v['comparison'], v['threshold']))}</td><td>{e(v['source'])}</td>"
                f"<td class='{cls}'>{'pass' if v['passed'] else 'FAIL'}</td></tr>"
            )
        parts.append("</table>")
    else:
        why = " (the warnings below name what is missing)" if doc["warnings"] else ""
        parts.append(f"<p class='muted'>No verdicts: no metric could be compared with a threshold{why}.</p>")
    for w in doc["warnings"]:
        parts.append(f"<div class='warn'>{e(w)}</div>")
    parts.append(
        "<h2>Summary</h2><table><tr><th>quantity</th><th>channel</th><th>value</th><th>± uncertainty</th><th>unit</th><th>meaning</th></tr>"
    )
    for m in result.metrics:
        parts.append(
            f"<tr>{_name_cell(meas, m.name)}<td>{_fmt(m.channel)}</td><td>{_fmt(float(m.value))}</td>"
            f"{_uncertainty_cell(m.uncertainty, m.uncertainty_kind)}<td>{e(display_unit(m.unit))}</td>"
            f"<td style='text-align:left'>{e(m.description)}</td></tr>"
        )
    parts.append("</table>")
    for fig in figures:
        parts.append(
            f"<h2>{e(fig.title)}</h2><figure>{fig.svg}<figcaption>{e(fig.caption)}</figcaption></figure>"
        )
    parts.append(
        "<h2>Settings and where they came from</h2><table><tr><th>setting</th><th>value</th><th>unit</th><th>source</th><th>detail</th></tr>"
    )
    for name, s in doc["settings"].items():
        parts.append(
            f"<tr><td>{e(name)}</td><td>{_fmt(s.get('value'))}</td><td>{e(display_unit(s.get('unit')))}</td>"
            f"<td>{e(str(s.get('source')))}</td><td style='text-align:left'>{e(str(s.get('detail') or ''))}</td></tr>"
        )
    parts.append("</table>")
    for name in result.tables:
        table = table_columns(result.tables, name)
        parts.append(f"<h2>Per-item table: {e(name)}.csv ({len(table)} rows)</h2><div class='scroll'>")
        parts.append(_table_html(table, meas))
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


_SEVERITY_ORDER = {"fault": 0, "note": 1, "ok": 2}


def _evidence_text(ev: dict[str, Any]) -> str:
    value = _fmt(ev["value"])
    if ev.get("uncertainty") is not None:
        value += f" ± {_fmt(ev['uncertainty'])}"
    unit = display_unit(ev.get("unit")) if ev.get("unit") else ""
    limit = f" (limit {ev['limit']})" if ev.get("limit") else ""
    return f"{ev['label']}: {value}{' ' + unit if unit else ''}{limit}"


def findings_html(records: Sequence[dict[str, Any]] | None) -> str:
    """The report's "Findings" section: each finding's text, marked by severity, with its evidence.

    Parameters
    ----------
    records : sequence of dict, or None
        ``results.json``'s ``findings`` (:func:`~microscope_qc.findings.finding_record` each);
        None when the measurement has no rule table (nothing is shown).

    Returns
    -------
    str
        HTML (faults first, then notes, then the checks that found nothing).
    """
    if records is None:
        return ""
    e = html.escape
    if not records:
        return "<h2>Findings</h2><p class='muted'>No rule of this measurement could be checked.</p>"
    n_fault = sum(r["severity"] == "fault" for r in records)
    head = f"{n_fault} fault{'s' if n_fault != 1 else ''}" if n_fault else "no fault"
    parts = [f"<h2>Findings — {head}</h2>"]
    for r in sorted(records, key=lambda r: _SEVERITY_ORDER.get(r["severity"], 3)):
        sev = r["severity"]
        channel = f" [{e(str(r['channel']))}]" if r.get("channel") else ""
        evidence = "; ".join(_evidence_text(ev) for ev in r.get("evidence", []))
        parts.append(
            f"<div class='finding {e(sev)}' data-fault='{e(r['fault'])}'><span class='sev'>{e(sev)}</span>"
            f"{e(r['text'])}{channel}"
            + (f"<div class='evidence'>{e(evidence)}</div>" if evidence else "")
            + "</div>"
        )
    return "".join(parts)


def _table_html(table: pd.DataFrame | ColumnTable, measurement: str) -> str:
    """An item table with labelled headers (label with unit, then the CSV column name)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "—" if not np.isfinite(v) else f"{v:.4g}"
        return html.escape(str(v))

    def th(c: Any) -> str:
        name = html.escape(str(c))
        return (
            f"<th title='CSV column {name}'>{html.escape(label(measurement, str(c)).heading)}"
            f"<br><code class='name'>{name}</code></th>"
        )

    def column(values: pd.Series | np.ndarray) -> list[str]:
        """The cells of one column, formatted a column at a time (tables may have 10 000 rows)."""
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
            return [str(v) for v in values.tolist()]  # plain numbers: nothing to escape
        if values.dtype.kind != "f":
            items = values.tolist()
            memo: dict[tuple[type, Any], str] = {}
            try:  # names repeat down a column: format each distinct value once
                for v in items:
                    if (type(v), v) not in memo:
                        memo[type(v), v] = fmt(v)
            except TypeError:  # unhashable cells
                return [fmt(v) for v in items]
            return [memo[type(v), v] for v in items]
        numbers = np.asarray(values, dtype=np.float64)
        cells = [f"{v:.4g}" for v in numbers.tolist()]
        for k in np.flatnonzero(~np.isfinite(numbers)).tolist():
            cells[k] = "—"
        return cells

    head = "".join(th(c) for c in table.columns)
    if isinstance(table, ColumnTable):
        columns = [column(table[c]) for c in table.columns]
    else:
        columns = [column(table.iloc[:, k]) for k in range(table.shape[1])]
    rows = ["<tr><td>" + "</td><td>".join(cells) + "</td></tr>" for cells in zip(*columns, strict=True)]
    if not columns:
        rows = ["<tr></tr>"] * len(table)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"
