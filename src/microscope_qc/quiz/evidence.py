"""The quiz's numbers: a sample measured as its command would, and the evidence that gives its truth away."""

from __future__ import annotations

import argparse
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from microscope_qc.findings import FAULTS, Evidence, Finding, Severity
from microscope_qc.measurements import Measurement, Sample
from microscope_qc.report.labels import display_unit

__all__ = [
    "EvidenceGroup",
    "ProgressFn",
    "CancelFn",
    "analyse_sample",
    "evidence_groups",
    "format_evidence",
    "truth_parameters",
]

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

#: sample-spec fields that say nothing about the instrument
_NOT_PARAMETERS = frozenset({"seed", "shape", "dtype"})


@dataclass(frozen=True)
class EvidenceGroup:
    """Numbers that speak for or against one fault (or one verdict of a measurement without findings).

    Parameters
    ----------
    heading : str
        What the numbers are about, e.g. "Spherical aberration".
    status : str
        What the tool says: ``"fault"``, ``"note"``, ``"ok"`` (findings) or ``"fail"``, ``"pass"``,
        ``"value"`` (verdicts, headline metrics).
    text : str
        The finding's sentence (empty for a verdict).
    evidence : tuple of Evidence
        The numbers, with units, uncertainties and the limit they were compared with.
    fault : str or None
        The fault code, for a finding.
    """

    heading: str
    status: str
    text: str
    evidence: tuple[Evidence, ...]
    fault: str | None = None


# --------------------------------------------------------------------------- measuring the sample


def _path_options(m: Measurement[Any]) -> set[str]:
    """The command's options that take a file (``--dark``, ``--pair``, ``--moves``, ...)."""
    from microscope_qc.cli_analysis import measurement_arguments

    parser = argparse.ArgumentParser(add_help=False)
    measurement_arguments(m)(parser)
    return {s for a in parser._actions if a.type is Path for s in a.option_strings if s.startswith("--")}


def analyse_sample(
    m: Measurement[Any],
    sample: Sample[Any],
    built: Any,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Any:
    """Measure a sample as its command would: write its files, then run the measurement on them.

    The files go to a temporary folder, removed afterwards. A companion file ``<stem>_<word>.<ext>``
    is passed as ``--<word>`` when the command has a file option of that name (a flat field's
    dark image, a resolution pair's second image, a stage series' moves), followed by the options
    its gallery page gives (:data:`~microscope_qc.measurements.gallery_text.COMMAND_OPTIONS`: a
    series' frame interval, a camera's type and datasheet read noise). Other settings are the
    defaults, resolved from the file's metadata.

    Parameters
    ----------
    m : Measurement
        The registry entry.
    sample : Sample
        The registry sample.
    built : object
        What ``sample.make`` returned.
    progress : callable, optional
        ``progress(fraction, message)``.
    cancel : callable, optional
        Returns True to stop.

    Returns
    -------
    Result
        The measurement's result.

    Raises
    ------
    AnalysisError
        If the command refuses the sample (the message says what it needs).
    AnalysisCancelled
        If ``cancel`` returned True.
    """
    from microscope_qc.cli_analysis import OptionError, parse_measurement_options
    from microscope_qc.io import read_image
    from microscope_qc.measurements.gallery_text import COMMAND_OPTIONS
    from microscope_qc.results import AnalysisCancelled, AnalysisError

    def report(fraction: float, message: str) -> None:
        if cancel is not None and cancel():
            raise AnalysisCancelled("cancelled")
        if progress is not None:
            progress(fraction, message)

    report(0.0, "Writing the sample's files…")
    with tempfile.TemporaryDirectory(prefix="microscope-qc-quiz-") as folder:
        first = Path(folder) / f"quiz{sample.suffixes[0]}"
        written = sample.write(built, first, False)
        argv = [str(first), "--out", str(Path(folder) / "out")]
        options = _path_options(m)
        for path in written[1:]:
            word = re.fullmatch(r"quiz_([a-z]+)\..+", path.name)
            if word and word.group(1) != "truth" and f"--{word.group(1)}" in options:
                argv += [f"--{word.group(1)}", str(path)]
        argv += [o.format(stem=str(Path(folder) / "quiz")) for o in COMMAND_OPTIONS.get(sample.key, ())]
        try:
            args = parse_measurement_options(m, argv)
        except OptionError as exc:
            raise AnalysisError(f"the {m.name} command refuses the sample's files: {exc}") from None
        report(0.05, f"Measuring with {m.title}…")
        images = [(m.cli.read or read_image)(first)]
        return m.cli.run(images, args, lambda f, msg: report(0.05 + 0.95 * f, msg))


# --------------------------------------------------------------------------------------- evidence


def _group_of(finding: Finding) -> EvidenceGroup:
    title = FAULTS[finding.fault].title + (f" ({finding.channel})" if finding.channel else "")
    return EvidenceGroup(title, finding.severity.value, finding.text, finding.evidence, finding.fault)


def _metric_evidence(
    m: Measurement[Any], result: Any, name: str, channel: int | None, limit: str
) -> Evidence:
    label = m.labels.get(name)
    text = label.text if label is not None else name
    unit = label.unit if label is not None else None
    uncertainty = None
    try:
        metric = result.metric(name, channel)
        unit = unit if unit is not None else metric.unit
        uncertainty = metric.uncertainty
        value = metric.value
    except (KeyError, ValueError):
        value = float("nan")
    if channel is not None and sum(1 for x in result.metrics if x.name == name) > 1:
        text = f"{text} (channel {channel})"
    return Evidence(text, float(value), uncertainty, display_unit(unit), limit)


def evidence_groups(
    m: Measurement[Any], result: Any, truth: Sequence[str], answer: Iterable[str] = ()
) -> tuple[str, tuple[EvidenceGroup, ...]]:
    """Choose the numbers that give the truth away.

    With findings: those about the true faults first, then any other fault the tool flags, then
    the faults the learner named wrongly (why they are not there); for a good instrument, every
    finding (each says why that fault is absent). Without findings: the verdicts, failed first; without
    verdicts, the headline metrics (``history_metrics``).

    Parameters
    ----------
    m : Measurement
        The registry entry.
    result : Result
        Its result on the sample.
    truth : sequence of str
        The sample's fault codes.
    answer : iterable of str
        The learner's fault codes.

    Returns
    -------
    tuple
        ``(source, groups)``: ``"findings"``, ``"verdicts"`` or ``"metrics"``, and the groups.
    """
    if m.findings is not None:
        findings = list(m.findings(result))
        answer = set(answer)
        order: list[str] = list(truth)
        order += sorted(f.fault for f in findings if f.severity is Severity.FAULT and f.fault not in order)
        order += sorted(c for c in answer if c not in order)
        if not truth:
            order += [f.fault for f in findings if f.fault not in order]
        groups = [_group_of(f) for code in order for f in findings if f.fault == code]
        missing = [c for c in truth if not any(f.fault == c for f in findings)]
        groups += [
            EvidenceGroup(FAULTS[c].title, "not measured", "The tool says nothing about it.", (), c)
            for c in missing
        ]
        return "findings", tuple(groups)
    verdicts = sorted(result.verdicts, key=lambda v: v.passed)
    if verdicts:
        groups = []
        for v in verdicts:
            e = _metric_evidence(
                m, result, v.metric, v.channel, f"{v.comparison} {v.threshold:g}, {v.source}"
            )
            groups.append(EvidenceGroup(e.label, "pass" if v.passed else "fail", "", (e,)))
        return "verdicts", tuple(groups)
    names = [n for n in m.history_metrics if any(x.name == n for x in result.metrics)]
    evidence = tuple(
        _metric_evidence(m, result, x.name, x.channel, "")
        for n in names
        for x in result.metrics
        if x.name == n
    )
    return "metrics", (EvidenceGroup("Headline numbers", "value", "", evidence),) if evidence else ()


def format_evidence(e: Evidence) -> str:
    """One number as the learner reads it: ``label: value ± uncertainty unit (limit …)``.

    Parameters
    ----------
    e : Evidence
        The number.

    Returns
    -------
    str
        E.g. ``"Centering accuracy: 62.3 ± 1.2 % (limit >= 80 (default))"``; no "± 0" when the
        uncertainty is unknown.
    """
    unit = display_unit(e.unit)
    u = e.uncertainty
    if u is not None and math.isfinite(u) and u > 0 and math.isfinite(e.value):
        decimals = min(max(1 - math.floor(math.log10(u)), 0), 8)  # two significant digits of u
        value = f"{e.value:.{decimals}f} ± {u:.{decimals}f}"
    else:
        value = f"{e.value:.3g}"
    if unit:
        value += unit if unit in ("%", "°") else f" {unit}"
    return f"{e.label}: {value}" + (f" (limit {e.limit})" if e.limit else "")


# ------------------------------------------------------------------------------------- the truth

_MAX_PARAMETERS = 16


def _simple(value: Any) -> Any:
    """A value worth listing as a truth parameter (a number, a short text or a short tuple), else None."""
    if isinstance(value, bool | int | str) and not (isinstance(value, str) and len(value) > 60):
        return value
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a NumPy scalar
        return _simple(value.item())
    if isinstance(value, list | tuple) and 0 < len(value) <= 4:
        items = [_simple(v) for v in value]
        if all(v is not None and not isinstance(v, list | tuple) for v in items):
            return tuple(items)
    return None


def truth_parameters(built: Any) -> dict[str, Any]:
    """The known parameters of a built sample, as simple values.

    Taken from its ``truth`` (a mapping's numbers and short texts; a table's per-column median)
    and, when it has one, from the scalar fields of its ``spec``.

    Parameters
    ----------
    built : object
        What ``sample.make`` returned.

    Returns
    -------
    dict
        At most 16 ``{name: value}``.
    """
    out: dict[str, Any] = {}
    truth = getattr(built, "truth", None)
    if isinstance(truth, Mapping):
        for k, v in truth.items():
            if isinstance(v, Mapping):
                out.update({f"{k}.{k2}": s for k2, v2 in v.items() if (s := _simple(v2)) is not None})
            elif (s := _simple(v)) is not None:
                out[str(k)] = s
    elif truth is not None and hasattr(truth, "select_dtypes"):  # a table of true values
        numeric = truth.select_dtypes("number")
        for col in numeric.columns:
            out[f"{col} (median of {len(numeric)})"] = _simple(float(numeric[col].median()))
    spec = getattr(built, "spec", None)
    if spec is not None and is_dataclass(spec) and not isinstance(spec, type):
        for f in fields(spec):
            if (
                f.name not in out
                and f.name not in _NOT_PARAMETERS
                and (s := _simple(getattr(spec, f.name))) is not None
            ):
                out[f.name] = s
    return dict(list(out.items())[:_MAX_PARAMETERS])
