"""The fitting engine: Gaussians with a constant background, fitted to many spots at once.

One engine serves every tool (PSF, co-registration, ...). All spots of a batch share one
box shape, so the whole batch is fitted by a vectorised Levenberg–Marquardt with analytic
Jacobians: no Python loop over spots, one ``numpy.linalg.solve`` over a stack of small
normal-equation systems per iteration.

The N-dimensional Gaussian is parametrised by the Cholesky factor ``L`` of its *precision*
matrix (``P = L Lᵀ = Σ⁻¹``)::

    f(x) = b + A · exp(−½ |Lᵀ (x − c)|²)

which covers 1D, axis-aligned and fully rotated 2D/3D spots without the singularity a
rotation angle has for round spots, keeps the Jacobian simple, and makes ``Σ`` (and with it
FWHMs along axes, principal axes and angles) a smooth function of the parameters, so their
standard errors follow by the delta method.
"""

from __future__ import annotations

from microscope_qc.fitting.engine import (
    FitResult,
    NoiseModel,
    delta_method,
    fit_gaussians,
)
from microscope_qc.fitting.models import (
    BoolArray,
    FloatArray,
    GaussianModel,
    IntArray,
    box_coordinates,
)

__all__ = [
    "GaussianModel",
    "FitResult",
    "NoiseModel",
    "fit_gaussians",
    "box_coordinates",
    "delta_method",
    "FloatArray",
    "BoolArray",
    "IntArray",
]
