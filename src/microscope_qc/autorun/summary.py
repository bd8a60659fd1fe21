"""The summary of an automatic run: ``summary.json`` and a self-contained ``summary.html``.

JSON schema ``napari-microscope-qc/qc-run/1`` (docs/automatic-runs.md)::

    {"schema", "software": {"name", "version"}, "started", "finished", "config", "folders",
     "executor", "history", "run_dir",
     "counts": {"files", "analysed", "passed", "failed", "errors", "skipped", "unmatched"},
     "instruments": {NAME: {"status": "pass"|"fail"|"nothing new", "passed", "failed", "errors", "skipped"}},
     "files": [{"path", "rule", "measurement", "instrument", "status", "error", "note", "sha256",
                "out_dir", "report", "run_uuid", "seconds", "failed_verdicts", "warnings", "metrics"}],
     "unmatched": [path, ...]}
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from microscope_qc import __version__
from microscope_qc.autorun.batch import Outcome

__all__ = ["SCHEMA", "summary_document", "write_summary"]

SCHEMA = "napari-microscope-qc/qc-run/1"


def _number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _file_entry(o: Outcome, run_dir: Path) -> dict[str, Any]:
    from microscope_qc.measurements import get_measurement

    job = o.job
    entry: dict[str, Any] = {
        "path": str(job.path),
        "scene": job.scene,
        "rule": job.rule or None,
        "measurement": job.measurement or None,
        "instrument": job.instrument or None,
        "status": o.status,
        "error": o.error,
        "note": o.note,
        "sha256": job.sha256 or None,
        "out_dir": None,
        "report": None,
        "run_uuid": o.run_uuid,
        "seconds": round(o.seconds, 3) if o.seconds else None,
        "failed_verdicts": [],
        "warnings": [],
        "metrics": [],
    }
    if o.analysed is not None:
        result = o.analysed.result
        entry["out_dir"] = os.path.relpath(job.out_dir, run_dir)
        entry["report"] = os.path.relpath(o.analysed.written["html"], run_dir)
        entry["failed_verdicts"] = [
            {
                "metric": v.metric,
                "channel": v.channel,
                "value": _number(v.value),
                "threshold": _number(v.threshold),
                "comparison": v.comparison,
                "source": v.source,
            }
            for v in result.verdicts
            if not v.passed
        ]
        entry["warnings"] = list(result.warnings)
        columns = set(get_measurement(job.measurement).cli.summary_columns)
        entry["metrics"] = [
            {
                "name": m.name,
                "channel": m.channel,
                "value": _number(m.value),
                "unit": m.unit,
                "uncertainty": _number(m.uncertainty),
            }
            for m in result.metrics
            if m.name in columns
        ]
    return entry


def summary_document(
    outcomes: Sequence[Outcome],
    unmatched: Sequence[Path],
    run_dir: Path,
    info: dict[str, Any],
) -> dict[str, Any]:
    """The run's summary as a JSON-ready dict.

    Parameters
    ----------
    outcomes : sequence of Outcome
        Every file's outcome.
    unmatched : sequence of Path
        Files no rule matched.
    run_dir : Path
        The run's folder (reports are linked relative to it).
    info : dict
        ``started``, ``finished``, ``config``, ``folders``, ``executor``, ``history``.

    Returns
    -------
    dict
        The document (schema :data:`SCHEMA`).
    """
    files = [
        _file_entry(o, run_dir)
        for o in sorted(outcomes, key=lambda o: (str(o.job.path), -1 if o.job.scene is None else o.job.scene))
    ]
    counts = {
        "files": len(files),
        "analysed": sum(f["status"] in ("passed", "failed") for f in files),
        "passed": sum(f["status"] == "passed" for f in files),
        "failed": sum(f["status"] == "failed" for f in files),
        "errors": sum(f["status"] == "error" for f in files),
        "skipped": sum(f["status"] == "skipped" for f in files),
        "unmatched": len(unmatched),
    }
    instruments: dict[str, dict[str, Any]] = {}
    for f in files:
        name = f["instrument"] or "(no rule: unreadable file)"
        row = instruments.setdefault(
            name, {"status": "", "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        )
        row[
            {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped"}[f["status"]]
        ] += 1
    for row in instruments.values():
        if row["failed"] or row["errors"]:
            row["status"] = "fail"
        elif row["passed"]:
            row["status"] = "pass"
        else:
            row["status"] = "nothing new"
    return {
        "schema": SCHEMA,
        "software": {"name": "napari-microscope-qc", "version": __version__},
        **info,
        "run_dir": str(run_dir),
        "counts": counts,
        "instruments": dict(sorted(instruments.items())),
        "files": files,
        "unmatched": [str(p) for p in sorted(unmatched)],
    }


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.pass{color:#1a7f37;font-weight:bold}.fail,.error{color:#c62828;font-weight:bold}
.skipped,.nothing{color:#777}.small{font-size:.85em;color:#555}
"""


def _html(doc: dict[str, Any]) -> str:
    e = html.escape
    c = doc["counts"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>QC run {e(Path(doc['run_dir']).name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>QC run {e(Path(doc['run_dir']).name)}</h1>",
        f"<p class='small'>{e(doc['started'])} – {e(doc['finished'])}; configuration {e(doc['config'])}; "
        f"folders {e(', '.join(doc['folders']))}; ran in {e(doc['executor'])}; history {e(doc['history'])}; "
        f"microscope-qc {e(doc['software']['version'])}</p>",
        f"<p>{c['files']} files: {c['passed']} passed, {c['failed']} failed a tolerance, {c['errors']} could not "
        f"be analysed, {c['skipped']} skipped (already in the QC history, or the same file twice); {c['unmatched']} files matched no rule.</p>",
        "<h2>Instruments</h2><table><tr><th>instrument</th><th>result</th><th>passed</th><th>failed</th>"
        "<th>errors</th><th>skipped</th></tr>",
    ]
    for name, row in doc["instruments"].items():
        cls = row["status"].split()[0]
        parts.append(
            f"<tr><td>{e(name)}</td><td class='{cls}'>{e(row['status'].upper())}</td><td>{row['passed']}</td>"
            f"<td>{row['failed']}</td><td>{row['errors']}</td><td>{row['skipped']}</td></tr>"
        )
    parts.append(
        "</table><h2>Files</h2><table><tr><th>file</th><th>instrument</th><th>measurement</th><th>outcome</th>"
        "<th>details</th></tr>"
    )
    for f in doc["files"]:
        link = f"<a href='{e(f['report'])}'>report</a>" if f["report"] else ""
        if f["error"]:
            details = e(f["error"])
        elif f["failed_verdicts"]:
            details = "failed: " + ", ".join(
                e(f"{v['metric']}" + (f" (ch {v['channel']})" if v["channel"] is not None else ""))
                for v in f["failed_verdicts"]
            )
        else:
            details = e(f["note"] or "")
        metrics = "; ".join(
            e(m["name"])
            + ("" if m["channel"] is None else f"[{m['channel']}]")
            + " = "
            + ("—" if m["value"] is None else f"{m['value']:.4g}")
            for m in f["metrics"]
        )
        if metrics:
            details += f"<div class='small'>{metrics}</div>"
        parts.append(
            f"<tr><td>{e(f['path'])}</td><td>{e(f['instrument'] or '')}</td><td>{e(f['measurement'] or '')}</td>"
            f"<td class='{f['status']}'>{e(f['status'].upper())}</td><td>{details} {link}</td></tr>"
        )
    parts.append("</table>")
    if doc["unmatched"]:
        parts.append(f"<details><summary>{len(doc['unmatched'])} files matched no rule</summary><ul>")
        parts += [f"<li>{e(p)}</li>" for p in doc["unmatched"]]
        parts.append("</ul></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_summary(doc: dict[str, Any], run_dir: Path, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.html`` into the run folder.

    Parameters
    ----------
    doc : dict
        :func:`summary_document`.
    run_dir : Path
        The run's folder (created if needed).
    overwrite : bool
        Replace an existing summary; otherwise one is refused.

    Returns
    -------
    tuple of Path
        The JSON and HTML files.

    Raises
    ------
    FileExistsError
        If a summary exists and ``overwrite`` is False.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = (run_dir / "summary.json", run_dir / "summary.html")
    mode = "w" if overwrite else "x"
    for p in paths:
        if p.exists() and not overwrite:
            raise FileExistsError(f"{p} exists; give --overwrite to replace it.")
    with open(paths[0], mode, encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
    with open(paths[1], mode, encoding="utf-8") as fh:
        fh.write(_html(doc))
    return paths
