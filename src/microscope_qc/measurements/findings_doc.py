"""docs/findings.md, generated from the measurements' rule tables (one source of truth).

Each measurement with a rule table keeps it in ``analysis/<measurement>/findings.py`` as
``RULES`` (:class:`microscope_qc.analysis._rules.Rule` rows); this module renders every table,
and the list of fault codes, as Markdown. A test keeps ``docs/findings.md`` equal to
:func:`markdown_rules`.
"""

from __future__ import annotations

import importlib
from typing import Any

from microscope_qc.analysis._rules import Rule
from microscope_qc.findings import FAULTS
from microscope_qc.measurements.entry import Measurement

__all__ = ["rule_table", "markdown_rules"]

_INTRO = """# Findings

What each measurement says about the instrument in words: "Off-centre illumination: illumination
centre 67 % of the half-diagonal from the image centre (centring accuracy 39 %, limit ≥ 50 %):
realign the fibre / lamp and the field diaphragm." Each finding names a fault (the codes below,
shared with the workshop gallery's truth and the quiz), a severity and the numbers that support it.

Generated from the rule tables (`src/microscope_qc/analysis/<measurement>/findings.py`, `RULES`) by
`python -c 'from microscope_qc.measurements.findings_doc import markdown_rules as m; print(m(), end="")' > docs/findings.md`;
the test suite checks that it is up to date.

Severities: **fault** — the instrument has it (the text ends with the remedy); **note** — within
tolerance but worth knowing; **ok** — checked and not found. A rule whose metrics the result does
not hold (another mode, no pixel size, ...) gives no finding.

Where the thresholds come from: a rule that reads a metric with a verdict uses the verdict's limit,
so an instrument profile's or `--limits` file's limit replaces the default for the finding as for
the verdict (the evidence names the limit and its source). Where a measurement has no verdict
(detector, light source) the rule states a house default and why.

Where findings go:

- `results.json` → `findings`: a list, one object per finding — `fault` (code), `title`,
  `severity` (`ok`, `note`, `fault`), `text`, `channel` (null for one channel) and `evidence`
  (each `label`, `value`, `uncertainty` (null when not estimable), `unit`, `limit`); `null` when
  the measurement has no rule table;
- `report.html`: a "Findings" section above the verdicts, faults first;
- the command line: the faults and notes after the summary table;
- the widgets: under the summary, the evidence in each finding's tooltip;
- the QC history: the fault codes of each recorded run (`runs.faults_json`).
"""


def rule_table(measurement: Measurement[Any]) -> tuple[Rule, ...] | None:
    """The rule rows of a measurement, or None when it has no rule table (or keeps no rows).

    Parameters
    ----------
    measurement : Measurement
        A registry entry.

    Returns
    -------
    tuple of Rule, or None
        ``analysis/<name>/findings.py``'s ``RULES``.
    """
    if measurement.findings is None:
        return None
    module = f"microscope_qc.analysis.{measurement.name.replace('-', '_')}.findings"
    try:
        rules = importlib.import_module(module).RULES
    except (ImportError, AttributeError):
        return None
    rows = tuple(r for r in rules if isinstance(r, Rule))
    return rows or None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_rules() -> str:
    """Render every rule table and the fault codes as Markdown (docs/findings.md).

    Returns
    -------
    str
        The page.
    """
    from microscope_qc.measurements import REGISTRY

    parts = [_INTRO]
    for m in REGISTRY:
        rules = rule_table(m)
        if rules is None:
            continue
        parts.append(f"\n## {m.title} (`{m.name}`)\n")
        parts.append("| fault | reads | when | why |\n|---|---|---|---|")
        for r in rules:
            metrics = ", ".join(f"`{x}`" for x in r.metrics)
            parts.append(
                f"| {FAULTS[r.fault].title} (`{r.fault}`) | {metrics} | {_cell(r.threshold)} | {_cell(r.why)} |"
            )
    parts.append("\n## Fault codes\n")
    parts.append("| code | fault | diagnosed by | remedy |\n|---|---|---|---|")
    for code, f in FAULTS.items():
        parts.append(f"| `{code}` | {f.title} | {f.measurement} | {_cell(f.remedy)} |")
    return "\n".join(parts) + "\n"
