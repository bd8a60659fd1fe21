"""Array types and the N-dimensional Gaussian model (value and analytic Jacobian over a batch of spots)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Array of float64 (parameters, data, coordinates, covariances).
FloatArray = npt.NDArray[np.float64]
#: Array of bool (masks, flags).
BoolArray = npt.NDArray[np.bool_]
#: Array of platform integers (counts, indices).
IntArray = npt.NDArray[np.intp]


def box_coordinates(shape: tuple[int, ...]) -> FloatArray:
    """Pixel coordinates (N, ndim) of every element of a box of ``shape``, in C order.

    Parameters
    ----------
    shape : tuple of int
        The box shape.

    Returns
    -------
    numpy.ndarray of float64
        (N, ndim) coordinates, N the number of elements of the box.
    """
    grids = np.meshgrid(*[np.arange(s, dtype=float) for s in shape], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


class GaussianModel:
    """``b + A·exp(−½|Lᵀ(x − c)|²)`` in ``ndim`` dimensions; ``full=False`` keeps it axis-aligned.

    Parameter vector: ``[A, b, c_0 … c_{d−1}, L entries]`` where the L entries are the
    lower triangle (row-major, ``numpy.tril_indices``) for ``full=True`` or the diagonal.
    """

    def __init__(self, ndim: int, full: bool = True):
        if ndim < 1:
            raise ValueError("ndim must be >= 1")
        self.ndim = ndim
        self.full = full and ndim > 1
        if self.full:
            self.rows, self.cols = np.tril_indices(ndim)
        else:
            self.rows = self.cols = np.arange(ndim)
        self.n_params = 2 + ndim + len(self.rows)
        self.diag_index = np.array(
            [2 + ndim + k for k in range(len(self.rows)) if self.rows[k] == self.cols[k]]
        )

    @property
    def param_names(self) -> list[str]:
        """Names of the parameters in vector order: amplitude, background, ``c<i>``, ``L<r><c>``."""
        names = ["amplitude", "background"] + [f"c{i}" for i in range(self.ndim)]
        return names + [f"L{r}{c}" for r, c in zip(self.rows, self.cols, strict=True)]

    def cholesky(self, params: FloatArray) -> FloatArray:
        """L as (B, d, d) from parameters (B, P).

        Parameters
        ----------
        params : numpy.ndarray of float64
            (B, P) parameter vectors.

        Returns
        -------
        numpy.ndarray of float64
            (B, d, d) lower-triangular Cholesky factors of the precision matrices.
        """
        b = params.shape[0]
        L = np.zeros((b, self.ndim, self.ndim))
        L[:, self.rows, self.cols] = params[:, 2 + self.ndim :]
        return L

    def covariance(self, params: FloatArray) -> FloatArray:
        """Σ = (L Lᵀ)⁻¹ as (B, d, d), in pixel² of the fitted coordinates.

        Parameters
        ----------
        params : numpy.ndarray of float64
            (B, P) parameter vectors.

        Returns
        -------
        numpy.ndarray of float64
            (B, d, d) covariance matrices of the Gaussians' shapes.
        """
        L = self.cholesky(params)
        Linv = np.linalg.inv(L)
        cov: FloatArray = np.einsum("bki,bkj->bij", Linv, Linv)
        return cov

    def params_from_sigma(
        self, amplitude: FloatArray, background: FloatArray, centre: FloatArray, sigma: FloatArray
    ) -> FloatArray:
        """Axis-aligned parameters from σ per axis (B, d): L = diag(1/σ).

        Parameters
        ----------
        amplitude, background : numpy.ndarray of float64
            (B,) amplitude and background per spot.
        centre, sigma : numpy.ndarray of float64
            (B, d) centre and σ per axis, in pixels.

        Returns
        -------
        numpy.ndarray of float64
            (B, P) parameter vectors.
        """
        b = amplitude.shape[0]
        p = np.zeros((b, self.n_params))
        p[:, 0] = amplitude
        p[:, 1] = background
        p[:, 2 : 2 + self.ndim] = centre
        p[:, self.diag_index] = 1.0 / sigma
        return p

    def value_and_jacobian(self, coords: FloatArray, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Model (B, N) and analytic Jacobian (B, N, P) at ``coords`` (N, d) for ``params`` (B, P).

        Parameters
        ----------
        coords : numpy.ndarray of float64
            (N, d) coordinates.
        params : numpy.ndarray of float64
            (B, P) parameter vectors.

        Returns
        -------
        value : numpy.ndarray of float64
            (B, N) model values.
        jacobian : numpy.ndarray of float64
            (B, N, P) derivatives with respect to each parameter (a view of
            :meth:`value_and_jacobian_t`'s array).
        """
        value, jac_t = self.value_and_jacobian_t(coords, params)
        return value, np.swapaxes(jac_t, 1, 2)

    def value_and_jacobian_t(self, coords: FloatArray, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Model (B, N) and the transposed Jacobian (B, P, N), contiguous: one row per parameter.

        The fitting engine's layout: each parameter's derivatives are written in one contiguous
        pass, and ``J W Jᵀ`` is one BLAS product per spot.

        Parameters
        ----------
        coords : numpy.ndarray of float64
            (N, d) coordinates.
        params : numpy.ndarray of float64
            (B, P) parameter vectors.

        Returns
        -------
        value : numpy.ndarray of float64
            (B, N) model values.
        jacobian : numpy.ndarray of float64
            (B, P, N) derivatives with respect to each parameter.
        """
        d = self.ndim
        b = params.shape[0]
        n = coords.shape[0]
        # Explicit sums over the few dimensions: numpy's einsum is slow for tiny contracted axes.
        diff = [coords[None, :, i] - params[:, 2 + i, None] for i in range(d)]  # d × (B, N)
        lvals = {
            (int(r), int(c)): params[:, 2 + d + k, None]
            for k, (r, c) in enumerate(zip(self.rows, self.cols, strict=True))
        }
        w: list[FloatArray] = []  # w_k = Σ_{i≥k} L_ik d_i  (Lᵀ d)
        for k in range(d):
            acc: FloatArray | None = None
            for i in range(k, d):
                if (i, k) in lvals:
                    term = lvals[(i, k)] * diff[i]
                    acc = term if acc is None else acc + term
            assert acc is not None  # L_kk is a parameter of every model
            w.append(acc)
        q = w[0] * w[0]
        for k in range(1, d):
            q += w[k] * w[k]
        # every row of the Jacobian is written in place: fewer (B, N) temporaries, same arithmetic
        jac = np.empty((b, self.n_params, n))
        q *= -0.5
        g = np.exp(q, out=jac[:, 0])
        A = params[:, 0, None]
        Ag = A * g
        value = params[:, 1, None] + Ag
        jac[:, 1] = 1.0
        for m in range(d):  # ∂f/∂c_m = A g (L w)_m
            acc = None
            for k in range(m + 1):
                if (m, k) in lvals:
                    term = lvals[(m, k)] * w[k]
                    acc = term if acc is None else acc + term
            assert acc is not None  # L_mm is a parameter of every model
            np.multiply(Ag, acc, out=jac[:, 2 + m])
        minus_Ag = -Ag
        for k, (r, c) in enumerate(zip(self.rows, self.cols, strict=True)):  # ∂f/∂L_rc = −A g w_c d_r
            row = jac[:, 2 + d + k]
            np.multiply(minus_Ag, w[c], out=row)
            row *= diff[r]
        return value, jac

    def value(self, coords: FloatArray, params: FloatArray) -> FloatArray:
        """Model values (B, N) only: no Jacobian, for rendering fitted models on large grids.

        Parameters
        ----------
        coords : numpy.ndarray of float64
            (N, d) coordinates.
        params : numpy.ndarray of float64
            (B, P) parameter vectors.

        Returns
        -------
        numpy.ndarray of float64
            (B, N) model values.
        """
        d = self.ndim
        L = self.cholesky(params)
        q: FloatArray | float = 0.0
        for k in range(d):
            w: FloatArray | float = 0.0
            for i in range(k, d):
                w = w + L[:, i, k, None] * (coords[None, :, i] - params[:, 2 + i, None])
            q = q + w * w
        out: FloatArray = params[:, 1, None] + params[:, 0, None] * np.exp(-0.5 * q)
        return out

    def bounds(
        self, shape: tuple[int, ...], n: int, sigma_min: float = 0.2, sigma_max: float | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Box constraints (B, P) for spots inside a box of ``shape`` (pixels).

        Parameters
        ----------
        shape : tuple of int
            The fit box.
        n : int
            Number of spots B.
        sigma_min : float, optional
            Smallest σ allowed, in pixels.
        sigma_max : float or None, optional
            Largest σ allowed, in pixels (default: the box's largest side).

        Returns
        -------
        lower, upper : numpy.ndarray of float64
            (B, P) bounds; the amplitude is non-negative, the centre inside the box.
        """
        lo = np.full((n, self.n_params), -np.inf)
        hi = np.full((n, self.n_params), np.inf)
        lo[:, 0] = 0.0
        for i, s in enumerate(shape):
            lo[:, 2 + i] = -0.5
            hi[:, 2 + i] = s - 0.5
        smax = sigma_max if sigma_max is not None else float(max(shape))
        lo[:, self.diag_index] = 1.0 / smax
        hi[:, self.diag_index] = 1.0 / sigma_min
        off = [2 + self.ndim + k for k in range(len(self.rows)) if self.rows[k] != self.cols[k]]
        if off:
            lo[:, off] = -1.0 / sigma_min
            hi[:, off] = 1.0 / sigma_min
        return lo, hi

    def initial_guess(
        self,
        data: FloatArray,
        shape: tuple[int, ...],
        sigma_guess: FloatArray | float,
        weights: FloatArray | None = None,
    ) -> FloatArray:
        """Start values: background = 10th percentile, centre = intensity centroid above half maximum.

        Parameters
        ----------
        data : numpy.ndarray of float64
            (B, N) box values, flattened in C order of ``shape``.
        shape : tuple of int
            The fit box.
        sigma_guess : numpy.ndarray of float64 or float
            Starting σ per axis in pixels (scalar, (d,) or (B, d)).
        weights : numpy.ndarray of float64 or None, optional
            (B, N) weights; elements with weight 0 are ignored.

        Returns
        -------
        numpy.ndarray of float64
            (B, P) start parameters (axis-aligned).
        """
        b = data.shape[0]
        if weights is not None:
            masked = np.where(weights > 0, data, np.nan)
            bg = np.nanpercentile(masked, 10, axis=1)
            peak = np.nanmax(masked, axis=1)
        else:
            bg = np.percentile(data, 10, axis=1)
            peak = data.max(axis=1)
        amp = np.maximum(peak - bg, 1e-12)
        coords = box_coordinates(shape)
        above = np.clip(data - (bg + 0.5 * amp)[:, None], 0, None)
        if weights is not None:
            above = above * (weights > 0)
        total = above.sum(axis=1)
        centre = np.where(
            total[:, None] > 0,
            above @ coords / np.where(total > 0, total, 1)[:, None],
            (np.array(shape, dtype=float) - 1) / 2,
        )
        sigma = np.broadcast_to(np.asarray(sigma_guess, dtype=float), (b, self.ndim)).copy()
        return self.params_from_sigma(amp, bg, centre, sigma)
