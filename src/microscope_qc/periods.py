"""Dates that bound a period of the QC history (``--from``/``--to``), checked where they are typed.

Kept apart from :mod:`microscope_qc.history` so that the command line can check them without
loading the database layer.
"""

from __future__ import annotations

from datetime import date, datetime

__all__ = ["PeriodError", "period_bound", "check_period"]

_FORMATS = "a date YYYY-MM-DD or a date and time YYYY-MM-DDTHH:MM[:SS]"


class PeriodError(ValueError):
    """A period bound that is not a date, or a period that ends before it starts."""


def period_bound(text: str) -> str:
    """Check a period bound and return it in the form the history compares (ISO 8601).

    Parameters
    ----------
    text : str
        What the user typed, e.g. ``"2026-03-01"`` or ``"2026-03-01T14:30"``.

    Returns
    -------
    str
        ``YYYY-MM-DD`` for a date, else the ISO date and time (seconds included).

    Raises
    ------
    PeriodError
        If the text is not a real date (``2026-13-45``, ``yesterday``, ``1``), naming the formats.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        if len(value) >= 16 and value[4] == "-" and value[10] in "T ":
            return datetime.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise PeriodError(f"{text!r} is not a date: give {_FORMATS}.")


def check_period(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Check both bounds of a period and that it does not end before it starts.

    Parameters
    ----------
    start, end : str or None
        The bounds (None: open).

    Returns
    -------
    tuple of (str or None, str or None)
        The bounds in ISO form.

    Raises
    ------
    PeriodError
        If a bound is not a date, or the end comes before the start.
    """
    first = period_bound(start) if start else None
    last = period_bound(end) if end else None
    if first and last and last[:10] < first[:10]:
        raise PeriodError(f"The period ends ({last}) before it starts ({first}); swap the dates.")
    return first, last
