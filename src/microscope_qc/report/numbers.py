"""A value with its uncertainty, as every front end prints it.

The uncertainty has two significant digits and the value is rounded to the same place, so a gain
known to 1e-5 is not printed as "0.667 ± 0.000"; an exact value (a count) or one whose uncertainty
is not known is printed alone, never with "± 0".
"""

from __future__ import annotations

import math

__all__ = ["with_uncertainty"]


def with_uncertainty(value: float, uncertainty: float | None, plain: str = ".3f") -> str:
    """``value ± uncertainty``, the uncertainty to two significant digits and the value to the same place.

    Parameters
    ----------
    value : float
        The value.
    uncertainty : float or None
        Its standard error; None, NaN or ≤ 0 when it is not estimated (or the value is exact).
    plain : str
        The format of a value printed alone (an integer value is printed as an integer).

    Returns
    -------
    str
        E.g. ``"0.2631 ± 0.0004"``, ``"130 ± 12"``, ``"24"``.
    """
    if not math.isfinite(value):
        return "—"
    if uncertainty is None or not math.isfinite(uncertainty) or uncertainty <= 0:
        return f"{int(value)}" if float(value).is_integer() else format(value, plain)
    decimals = max(0, 1 - math.floor(math.log10(uncertainty)))
    if decimals > 8 or abs(value) >= 1e6:  # too many digits for a table column: scientific notation
        return f"{value:.4g} ± {uncertainty:.2g}"
    return f"{value:.{decimals}f} ± {uncertainty:.{decimals}f}"
