"""Power-meter logs: reading the text of a CSV/TSV log into times, powers and what goes with them.

Columns are recognised by their names, case-insensitively, whatever the program that wrote them:

- time: ``Time``, ``Timestamp``, ``Elapsed time (s)``, ``Time [ms]``, ``Time of day (hh:mm:ss)`` with or
  without a ``Date`` column (Thorlabs Optical Power Monitor exports of PM100/PM400 meters), ISO
  date-times; a time of day that goes back by more than 12 h is taken as passing midnight;
- power: ``Power (W)``, ``Power [mW]``, ``P (µW)``, ``Power (dBm)``; the unit comes from the label;
- wavelength (nm), set-point (``Setpoint (%)``, ``Set point``, ``Laser power (%)``), temperature (°C).

Delimiters: comma, semicolon or tab (with a decimal comma when the delimiter is not a comma).
Lines before the header (``# ...``, ``Wavelength: 488 nm``, device names) are read for a declared
wavelength. The reading is pure (text in, arrays out); a log that cannot be used raises
:class:`~microscope_qc.results.AnalysisError` naming what is wrong and what to do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError

__all__ = ["PowerLog", "parse_power_log", "check_order", "POWER_UNITS"]

#: factor to mW of each power unit the reader knows
POWER_UNITS = {"w": 1e3, "mw": 1.0, "uw": 1e-3, "µw": 1e-3, "μw": 1e-3, "nw": 1e-6, "pw": 1e-9}
_TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "min": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
}
#: a column labelled mW whose readings all lie below this is read as watts (see ``parse_power_log``)
WATTS_IN_MW_BELOW = 0.05
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%H:%M:%S.%f",
    "%H:%M:%S",
)


@dataclass
class PowerLog:
    """Readings of one log, in the order of the file (not yet checked for order or duplicates).

    ``power`` is in ``unit`` (``"mW"`` for power-meter logs, ``"counts"`` for the mean intensity of
    an image series); ``rows`` are the line numbers in the file (1-based), for messages.
    """

    t_s: npt.NDArray[np.float64]
    power: npt.NDArray[np.float64]
    unit: str = "mW"
    wavelength_nm: npt.NDArray[np.float64] | None = None
    setpoint_percent: npt.NDArray[np.float64] | None = None
    temperature_c: npt.NDArray[np.float64] | None = None
    rows: npt.NDArray[np.int_] | None = None
    start: str | None = None
    source_format: str = "generic"
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    declared_wavelength_nm: float | None = None
    name: str = "log"

    def __post_init__(self) -> None:
        if self.rows is None:
            self.rows = np.arange(1, len(self.t_s) + 1)


def _split(line: str, delimiter: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in line.rstrip("\r\n").split(delimiter)]


def _unit_of(name: str) -> str | None:
    m = re.search(r"[\(\[]\s*([^\)\]]+?)\s*[\)\]]", name)
    return m.group(1).strip() if m else None


def _role(name: str) -> str | None:
    n = name.lower().replace("_", " ").replace("-", " ")
    base = re.sub(r"[\(\[].*?[\)\]]", "", n).strip()
    unit = (_unit_of(name) or "").lower()
    if "temp" in base:
        return "temperature"
    if "wavelength" in base or base in ("lambda", "λ", "wl"):
        return "wavelength"
    if "set" in base and ("point" in base or base == "set") or (unit == "%" and "power" in base):
        return "setpoint"
    if base in ("%", "setpoint", "set", "intensity") and unit in ("%", ""):
        return "setpoint" if unit == "%" or base != "intensity" else None
    if "date" in base and "time" not in base:
        return "date"
    if "time" in base or "stamp" in base or "elapsed" in base or base == "t":
        return "time"
    if "power" in base or base in ("p", "reading", "value"):
        return "power"
    return None


def _number(text: str, decimal_comma: bool) -> float:
    t = text.strip()
    if decimal_comma:
        t = t.replace(",", ".")
    return float(t)


def _format_of(names: list[str], header_lines: list[str]) -> str:
    joined = " ".join(names + header_lines).lower()
    if "time of day" in joined or "pm100" in joined or "pm400" in joined or "thorlabs" in joined:
        return "Thorlabs Optical Power Monitor"
    if "smartlpm" in joined or "smart lpm" in joined:
        return "SmartLPM"
    if "quarep" in joined:
        return "QUAREP tool-kit"
    return "generic"


def _parse_time(text: str) -> datetime | None:
    t = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt)
        except ValueError:
            continue
    return None


def _times_to_seconds(
    values: list[str], unit: str | None, decimal_comma: bool, rows: list[int]
) -> tuple[npt.NDArray[np.float64], str | None, list[tuple[int, str]]]:
    """Elapsed seconds from the first reading, the start time (ISO) if known, and unreadable rows."""
    bad: list[tuple[int, str]] = []
    factor = _TIME_UNITS.get((unit or "s").lower())
    numeric: list[float] = []
    try:
        numeric = [_number(v, decimal_comma) for v in values]
    except ValueError:
        numeric = []
    if numeric:
        if factor is None:
            raise AnalysisError(
                f"The time column's unit {unit!r} is not one the reader knows (s, ms, min, h); rename the column, "
                "e.g. 'Time (s)'."
            )
        t = np.asarray(numeric, float) * factor
        return t - t[0], None, bad
    stamps: list[float] = []
    start: datetime | None = None
    day = 0
    previous: datetime | None = None
    for v, row in zip(values, rows, strict=True):
        when = _parse_time(v)
        if when is None:
            bad.append(
                (row, f"timestamp {v!r} is not a time this reader knows (ISO, hh:mm:ss, MM/DD/YYYY hh:mm:ss)")
            )
            stamps.append(math.nan)
            continue
        when = when + timedelta(days=day)
        if previous is not None and when.year == 1900 and (previous - when).total_seconds() > 12 * 3600:
            day += 1  # a time of day without a date passed midnight
            when = when + timedelta(days=1)
        previous = when
        if start is None:
            start = when
        stamps.append((when - start).total_seconds())
    iso = start.isoformat() if start is not None and start.year != 1900 else None
    return np.asarray(stamps, float), iso, bad


def _power_factor(
    label: str, unit: str | None, forced: str, values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], str | None]:
    """Powers in mW, and a note when the magnitude contradicted the label."""
    if forced != "auto":
        return values * POWER_UNITS[
            forced.lower()
        ], f"power unit {forced} as given (the label says {unit or 'none'})"
    if unit is None:
        raise AnalysisError(
            f"The power column {label!r} states no unit; label it, e.g. 'Power (mW)', or give {{power_unit}}."
        )
    u = unit.lower().replace(" ", "")
    if u == "dbm":
        return 10.0 ** (values / 10.0), None
    if u not in POWER_UNITS:
        raise AnalysisError(
            f"The power column {label!r} is in {unit!r}, a unit this analysis does not convert "
            "(known: W, mW, µW, nW, dBm); export the log in watts or give {power_unit}."
        )
    finite = values[np.isfinite(values)]
    if (
        u == "mw"
        and finite.size
        and np.max(np.abs(finite)) < WATTS_IN_MW_BELOW
        and np.max(np.abs(finite)) > 0
    ):
        mx = float(np.max(np.abs(finite)))
        return values * 1e3, (
            f"The column {label!r} is labelled mW but every reading is below {WATTS_IN_MW_BELOW} (largest {mx:.3g}): "
            f"read as watts, so the largest reading is {1e3 * mx:.3g} mW. If they really are mW, give {{power_unit}} mW."
        )
    return values * POWER_UNITS[u], None


def parse_power_log(text: str, name: str = "log", power_unit: str = "auto") -> PowerLog:
    """Read a power-meter log's text.

    Parameters
    ----------
    text : str
        The file's text.
    name : str
        The file name, for messages.
    power_unit : {"auto", "W", "mW", "uW", "nW"}
        The power column's unit; ``"auto"``: from its label, and a column labelled mW whose readings
        are all below 0.05 is read as watts (a laser at the sample gives 0.05–100 mW; a PM100 log in W
        relabelled mW gives 1e-5–0.1), with a note.

    Returns
    -------
    PowerLog
        Times from the first reading, powers in mW, the optional columns, the rows skipped (text
        that is not a number) and notes on what the reader decided.

    Raises
    ------
    AnalysisError
        No header with a power column, no time column, no readings, a power unit it does not know,
        or several wavelengths declared in the header without a wavelength column.
    """
    lines = text.splitlines()
    header_idx = None
    delimiter = ","
    names: list[str] = []
    for i, line in enumerate(lines):
        found = _header_cells(line, lines[i + 1 : i + 3])
        if found is not None:
            header_idx, (delimiter, names) = i, found
            break
    if header_idx is None:
        raise AnalysisError(
            f"{name}: no header with a power column found (e.g. 'Time (s),Power (mW)'); is this a power-meter log?"
        )
    pre = lines[:header_idx]
    declared = sorted(
        {
            float(m)
            for line in pre
            for m in re.findall(r"wavelength\D{0,12}?(\d{3,4}(?:\.\d+)?)\s*nm", line, re.I)
        }
    )
    roles = [_role(c) for c in names]
    decimal_comma = delimiter != ","
    body = [
        (i + 1, _split(line, delimiter)) for i, line in enumerate(lines) if i > header_idx and line.strip()
    ]
    body = [(r, c) for r, c in body if not c[0].startswith("#")]
    if not body:
        raise AnalysisError(f"{name}: the log is empty: a header but no readings.")
    col = {
        role: roles.index(role)
        for role in ("time", "date", "power", "wavelength", "setpoint", "temperature")
        if role in roles
    }
    if "time" not in col:
        raise AnalysisError(
            f"{name}: no time column (found {', '.join(names)}); the log needs a timestamp or elapsed-time column, "
            "e.g. 'Time (s)'."
        )
    skipped: list[tuple[int, str]] = []
    keep: list[tuple[int, list[str]]] = []
    for row, cells in body:
        if len(cells) <= max(col.values()):
            skipped.append((row, f"only {len(cells)} of {len(names)} columns"))
            continue
        try:
            value = _number(cells[col["power"]], decimal_comma)
        except ValueError:
            skipped.append((row, f"power {cells[col['power']]!r} is not a number"))
            continue
        if not math.isfinite(value):
            skipped.append((row, "power is not a finite number"))
            continue
        keep.append((row, cells))
    if not keep:
        raise AnalysisError(
            f"{name}: the log is empty: no row holds a power reading ({len(skipped)} unreadable)."
        )
    rows = [r for r, _ in keep]
    times = [c[col["time"]] if "date" not in col else f"{c[col['date']]} {c[col['time']]}" for _, c in keep]
    t, start, bad_times = _times_to_seconds(times, _unit_of(names[col["time"]]), decimal_comma, rows)
    skipped += bad_times
    raw = np.asarray([_number(c[col["power"]], decimal_comma) for _, c in keep], float)
    power, note = _power_factor(names[col["power"]], _unit_of(names[col["power"]]), power_unit, raw)

    def optional(role: str) -> npt.NDArray[np.float64] | None:
        if role not in col:
            return None
        out = []
        for _, c in keep:
            try:
                out.append(_number(c[col[role]], decimal_comma))
            except ValueError:
                out.append(math.nan)
        return np.asarray(out, float)

    wavelength = optional("wavelength")
    if wavelength is None and len(declared) > 1:
        raise AnalysisError(
            f"{name}: the header names several wavelengths ({', '.join(f'{w:g}' for w in declared)} nm) but the "
            "log has no wavelength column saying which reading is which; export one log per wavelength or add a "
            "'Wavelength (nm)' column."
        )
    ok = np.isfinite(t)
    log = PowerLog(
        t_s=t[ok],
        power=power[ok],
        wavelength_nm=None if wavelength is None else wavelength[ok],
        setpoint_percent=None if (sp := optional("setpoint")) is None else sp[ok],
        temperature_c=None if (tc := optional("temperature")) is None else tc[ok],
        rows=np.asarray(rows)[ok],
        start=start,
        source_format=_format_of(names, pre),
        notes=[note] if note else [],
        skipped=sorted(skipped),
        declared_wavelength_nm=declared[0] if len(declared) == 1 else None,
        name=name,
    )
    if log.t_s.size == 0:
        raise AnalysisError(f"{name}: the log is empty: no reading has a readable time.")
    log.t_s = log.t_s - log.t_s[0]
    return log


def _header_cells(line: str, following: list[str]) -> tuple[str, list[str]] | None:
    """Return (delimiter, column names) when ``line`` is the table's header, else None.

    A header has two or more columns, one of them a power, and the next line splits into as many cells.
    """
    nxt = next((f for f in following if f.strip()), None)
    for d in ("\t", ";", ","):
        if d not in line:
            continue
        cells = _split(line.lstrip("#"), d)
        if len(cells) >= 2 and "power" in [_role(c) for c in cells]:
            if nxt is None or len(_split(nxt, d)) == len(cells):
                return d, cells
    return None


def check_order(log: PowerLog) -> tuple[npt.NDArray[np.bool_], list[tuple[int, str]]]:
    """Which readings to keep: duplicated and backward timestamps are left out and reported.

    A reading whose time equals the previous kept reading's is a duplicate; one whose time is
    earlier is out of order (a clock reset, or two logs pasted together). The rest of the log
    is analysed.

    Parameters
    ----------
    log : PowerLog
        The readings in file order.

    Returns
    -------
    keep : numpy.ndarray of bool
        The readings to analyse.
    problems : list of (row, message)
        One entry per reading left out.
    """
    keep = np.ones(log.t_s.size, dtype=bool)
    problems: list[tuple[int, str]] = []
    last = -math.inf
    rows = log.rows if log.rows is not None else np.arange(1, log.t_s.size + 1)
    for i, t in enumerate(log.t_s):
        if t == last:
            keep[i] = False
            problems.append((int(rows[i]), f"duplicated timestamp (t = {t:g} s, as the reading before)"))
        elif t < last:
            keep[i] = False
            problems.append((int(rows[i]), f"timestamp goes back from {last:g} s to {t:g} s (unsorted log)"))
        else:
            last = t
    return keep, problems
