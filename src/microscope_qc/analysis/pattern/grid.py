"""The ideal grid of a field of rings: lattice and spot indices, and the grid models chosen by BIC.

Coordinates are µm, (x, y), the origin at the centre of pixel (0, 0) (numpy/napari convention,
y downwards). A spot's *slide position* is ``u = pitch_ref · (i, j)`` for its grid index (i, j);
a grid model maps slide positions to image positions ``p = F(u)``:

* ``similarity``: ``p = s·R(θ)·û + t`` (4 parameters);
* ``affine``: ``p = A·û + t`` (6);
* ``radial``: ``p = c + w·(1 + k1·ρ² + k2·ρ⁴)``, ``w = A·û + t − c``, ``ρ = |w| / R`` (8): barrel
  (k < 0) or pincushion (k > 0) distortion about the field centre ``c``, ``R`` the field's
  half-diagonal, so ``100·(k1 + k2)`` is the radial distortion at the corner in per cent;
* ``poly3``: a third-order polynomial of ``û / L`` per axis (20).

``û = u − u_c`` with ``u_c`` the slide position imaged at the field centre, so the linear part
(the Jacobian at the centre, paraxial) gives magnification and rotation.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from microscope_qc.fitting import delta_method
from microscope_qc.results import AnalysisError

__all__ = ["GridModel", "Lattice", "find_lattice", "fit_grid_models", "N_PARAMS"]

#: parameters of each grid model
N_PARAMS = {"similarity": 4, "affine": 6, "radial": 8, "poly3": 20}
_POLY3_TERMS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3))


@dataclass
class Lattice:
    """The grid found among the spots: basis vectors (µm) and each spot's grid index."""

    a1: np.ndarray  # (2,) the x-like basis vector, µm
    a2: np.ndarray  # (2,) the y-like basis vector, µm
    index: np.ndarray  # (N, 2) int grid index (i along a1, j along a2); meaningless where not on_grid
    on_grid: np.ndarray  # (N,) bool

    @property
    def pitch_um(self) -> float:
        """Mean length of the two basis vectors."""
        return float((np.hypot(*self.a1) + np.hypot(*self.a2)) / 2)


def _basis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Two lattice basis vectors from the vectors to each spot's nearest neighbours (the most common ones)."""
    tree = cKDTree(points)
    k = min(5, len(points))
    d, idx = tree.query(points, k=k)
    nn = float(np.median(d[:, 1]))
    if not np.isfinite(nn) or nn <= 0:
        return None
    vecs = []
    for col in range(1, k):
        ok = d[:, col] < 1.25 * nn
        vecs.append(points[idx[ok, col]] - points[ok])
    v = np.concatenate(vecs)
    if len(v) < 4:
        return None
    # fold to a half plane: v and −v are the same lattice direction
    v = np.where(((v[:, 0] < 0) | ((v[:, 0] == 0) & (v[:, 1] < 0)))[:, None], -v, v)
    vtree = cKDTree(np.concatenate([v, -v]))
    support = np.asarray(vtree.query_ball_point(v, 0.15 * nn, return_length=True))
    order = np.argsort(-support, kind="stable")
    first = v[order[0]]
    cosang = np.abs(v[order] @ first) / (np.hypot(v[order, 0], v[order, 1]) * float(np.hypot(*first)))
    apart = np.flatnonzero(cosang < 0.5)  # more than 60° from the first direction
    if apart.size == 0:
        return None
    second = v[order[apart[0]]]

    def refine(b: np.ndarray) -> np.ndarray:
        s = np.where((v @ b)[:, None] < 0, -v, v)
        close = np.hypot(*(s - b).T) < 0.15 * nn
        return np.asarray(s[close].mean(axis=0))

    b1, b2 = refine(first), refine(second)
    # a1 the more x-like vector pointing to +x, a2 the other pointing to +y (y downwards)
    if abs(b2[0]) > abs(b1[0]):
        b1, b2 = b2, b1
    b1 = b1 if b1[0] >= 0 else -b1
    b2 = b2 if b2[1] >= 0 else -b2
    return b1, b2


def find_lattice(points: np.ndarray, centre: tuple[float, float], tolerance: float = 0.3) -> Lattice:
    """Index every spot on the grid by walking from the spot nearest the centre to its neighbours.

    Each step predicts the neighbour at ± a basis vector from a spot already indexed and takes the
    spot nearest that prediction within ``tolerance`` pitches. The walk follows the grid locally,
    so distortion that bends the rows far from the centre does not break it; missing spots are
    walked around; spots that no walk reaches (dirt, a second layer of beads) are off the grid.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) spot positions (x, y), µm.
    centre : tuple of float
        (x, y) of the field centre, µm.
    tolerance : float
        Largest distance from a predicted position, in pitches.

    Returns
    -------
    Lattice
        Basis vectors and indices.

    Raises
    ------
    AnalysisError
        Too few spots, or no two lattice directions among them.
    """
    n = len(points)
    if n < 9:
        raise AnalysisError(f"{n} spot(s) found: a grid needs at least 9 (3 × 3).")
    found = _basis(points)
    if found is None:
        raise AnalysisError(
            f"The {n} spots found do not form a regular grid: no two common neighbour directions."
        )
    a1, a2 = found
    tree = cKDTree(points)
    start = int(np.argmin(np.hypot(points[:, 0] - centre[0], points[:, 1] - centre[1])))
    gate = tolerance * min(float(np.hypot(*a1)), float(np.hypot(*a2)))
    # each spot's neighbour one step along ±a1, ±a2 (−1: none within the gate), found in four batched queries
    steps = ((a1, (1, 0)), (-a1, (-1, 0)), (a2, (0, 1)), (-a2, (0, -1)))
    neighbour = np.full((n, 4), -1)
    for k, (step, _) in enumerate(steps):
        d, j = tree.query(points + step)
        neighbour[:, k] = np.where(d <= gate, j, -1)
    moves = [m for _, m in steps]
    nbr = neighbour.tolist()
    # walk from several seeds so that an isolated patch near the centre (dirt) cannot hold the walk
    best: tuple[np.ndarray, np.ndarray] | None = None
    for seed in np.argsort(np.hypot(points[:, 0] - centre[0], points[:, 1] - centre[1]))[:5]:
        idx = [(0, 0)] * n
        visited = [False] * n
        visited[int(seed)] = True
        queue = deque([int(seed)])
        while queue:
            k = queue.popleft()
            ik, jk = idx[k]
            for j, (di, dj) in zip(nbr[k], moves, strict=True):
                if j >= 0 and not visited[j]:
                    visited[j] = True
                    idx[j] = (ik + di, jk + dj)
                    queue.append(j)
        index, seen = np.array(idx, dtype=int).reshape(n, 2), np.array(visited)
        if best is None or seen.sum() > best[1].sum():
            best = (index, seen)
        if seen.sum() > 0.5 * n:
            break
    assert best is not None
    index, seen = best
    index = index - index[start] if seen[start] else index
    return Lattice(np.asarray(a1), np.asarray(a2), index, seen)


def _similarity_design(u: np.ndarray) -> np.ndarray:
    n = len(u)
    X = np.zeros((2 * n, 4))
    X[:n, 0], X[:n, 1], X[:n, 2] = u[:, 0], -u[:, 1], 1
    X[n:, 0], X[n:, 1], X[n:, 3] = u[:, 1], u[:, 0], 1
    return X


def _affine_design(u: np.ndarray) -> np.ndarray:
    n = len(u)
    X = np.zeros((2 * n, 6))
    X[:n, 0], X[:n, 1], X[:n, 4] = u[:, 0], u[:, 1], 1
    X[n:, 2], X[n:, 3], X[n:, 5] = u[:, 0], u[:, 1], 1
    return X


def _poly3_design(u: np.ndarray, scale: float) -> np.ndarray:
    s = u / scale
    n = len(u)
    T = np.column_stack([s[:, 0] ** a * s[:, 1] ** b for a, b in _POLY3_TERMS])
    X = np.zeros((2 * n, 20))
    X[:n, :10], X[n:, 10:] = T, T
    return X


def _jacobian_entries(kind: str, params: np.ndarray, scale: float) -> np.ndarray:
    """(B, 4) entries J00, J01, J10, J11 of the linear part at the centre, from parameters (B, P)."""
    p = params
    if kind == "similarity":
        return np.column_stack([p[:, 0], -p[:, 1], p[:, 1], p[:, 0]])
    if kind in ("affine", "radial"):
        return p[:, :4]
    return np.column_stack([p[:, 1], p[:, 2], p[:, 11], p[:, 12]]) / scale


def _magnification_rotation(j: np.ndarray) -> np.ndarray:
    """(B, 2): magnification √|det J| and rotation (degrees) of the closest rotation, from (B, 4) entries."""
    a, b, c, d = j[:, 0], j[:, 1], j[:, 2], j[:, 3]
    return np.column_stack([np.sqrt(np.abs(a * d - b * c)), np.degrees(np.arctan2(c - b, a + d))])


@dataclass
class GridModel:
    """One fitted grid model ``p = F(u)`` (see the module text); lengths in µm."""

    kind: str
    params: np.ndarray
    covariance: np.ndarray
    u_centre: np.ndarray  # (2,) slide position imaged at the field centre
    centre_xy_um: tuple[float, float]  # c: the field centre (radial distortion's axis)
    radius_um: float  # R: the field's half-diagonal
    poly_scale_um: float  # L: û is divided by it in the polynomial
    pitch_ref_um: float  # slide positions are pitch_ref · index
    n_spots: int = 0
    rss_um2: float = math.nan
    bic: dict[str, float] = field(default_factory=dict)

    def map(self, u: np.ndarray) -> np.ndarray:
        """Image positions (N, 2) of slide positions ``u`` (N, 2), µm."""
        return np.asarray(_evaluate(self.kind, self.params, np.asarray(u, float) - self.u_centre, self))

    def slide_positions(self, index: np.ndarray) -> np.ndarray:
        """Slide positions (N, 2) µm of grid indices (N, 2)."""
        return np.asarray(index, float) * self.pitch_ref_um

    def linear(self) -> np.ndarray:
        """The 2 × 2 linear part at the field centre (image µm per slide µm)."""
        return np.asarray(
            _jacobian_entries(self.kind, self.params[None], self.poly_scale_um)[0].reshape(2, 2)
        )

    def magnification_rotation(self) -> tuple[float, float, float, float]:
        """Magnification (image µm per slide µm) and rotation (degrees), with their standard errors."""
        vals, se = delta_method(
            lambda q: _magnification_rotation(_jacobian_entries(self.kind, q, self.poly_scale_um)),
            self.params[None],
            self.covariance[None],
        )
        return float(vals[0, 0]), float(se[0, 0]), float(vals[0, 1]), float(se[0, 1])

    def ideal(self, u: np.ndarray) -> np.ndarray:
        """Positions (N, 2) on the undistorted grid: the closest similarity to the linear part, at the centre.

        Distortion is the image position minus this (a similarity model's is zero by definition).
        """
        S, p_c = self._similarity()
        return np.asarray(p_c + (np.asarray(u, float) - self.u_centre) @ S.T)

    def _similarity(self) -> tuple[np.ndarray, np.ndarray]:
        """The closest similarity S to the linear part, and the image position of the field centre's slide point."""
        J = self.linear()
        a, b = (J[0, 0] + J[1, 1]) / 2, (J[1, 0] - J[0, 1]) / 2
        return np.array([[a, -b], [b, a]]), self.map(self.u_centre[None])[0]

    def ideal_inverse(self, q: np.ndarray) -> np.ndarray:
        """Slide positions (N, 2) whose ideal (undistorted) grid positions are ``q`` (N, 2): the inverse of :meth:`ideal`."""
        S, p_c = self._similarity()
        return np.asarray(self.u_centre + (np.asarray(q, float) - p_c) @ np.linalg.inv(S).T)

    def inverse(self, p: np.ndarray, iterations: int = 8) -> np.ndarray:
        """Slide positions (N, 2) imaged at image positions ``p`` (Newton's method on the model)."""
        p = np.asarray(p, float)
        J = self.linear()
        Jinv = np.linalg.inv(J)
        p_c = self.map(self.u_centre[None])[0]
        u = self.u_centre + (p - p_c) @ Jinv.T
        for _ in range(iterations):
            u = u - (self.map(u) - p) @ Jinv.T
        return np.asarray(u)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (``registration.json``'s ``distortion`` entries)."""
        se = np.sqrt(np.clip(np.diag(self.covariance), 0, None))
        return {
            "kind": self.kind,
            "convention": (
                "p = F(u): u = pitch_ref_um · (i, j) the slide position of grid index (i, j), p the image position "
                "(x, y) in µm with the origin at the centre of pixel (0, 0); û = u − u_centre_um; similarity: "
                "p = [[a, −b], [b, a]]·û + t, params a, b, tx, ty; affine: p = A·û + t, params A00, A01, A10, "
                "A11, tx, ty; radial: w = A·û + t − c, p = c + w·(1 + k1·ρ² + k2·ρ⁴), ρ = |w|/radius_um, params "
                "A00, A01, A10, A11, tx, ty, k1, k2; poly3: p_x = Σ cx·s^a_x·s^b_y, p_y likewise, s = û / "
                "poly_scale_um, terms (a, b) in poly3_terms, params cx then cy"
            ),
            "params": self.params.tolist(),
            "standard_errors": se.tolist(),
            "u_centre_um": self.u_centre.tolist(),
            "centre_xy_um": list(self.centre_xy_um),
            "radius_um": self.radius_um,
            "poly_scale_um": self.poly_scale_um,
            "poly3_terms": [list(t) for t in _POLY3_TERMS],
            "pitch_ref_um": self.pitch_ref_um,
            "n_spots": self.n_spots,
            "rss_um2": self.rss_um2,
            "residual_rms_um": math.sqrt(self.rss_um2 / self.n_spots) if self.n_spots else math.nan,
            "bic": self.bic,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GridModel:
        """Rebuild a model from :meth:`to_dict` output (covariance from the standard errors only).

        Parameters
        ----------
        d : dict
            A model as :meth:`to_dict` wrote it.

        Returns
        -------
        GridModel
            The model.

        Raises
        ------
        AnalysisError
            An unknown kind or a wrong number of parameters.
        """
        kind = str(d.get("kind"))
        params = np.asarray(d.get("params", []), float)
        if kind not in N_PARAMS or params.size != N_PARAMS[kind]:
            raise AnalysisError(
                f"A distortion model of kind {kind!r} with {params.size} parameters is not one this version "
                f"reads ({', '.join(f'{k}: {v}' for k, v in N_PARAMS.items())})."
            )
        se = np.asarray(d.get("standard_errors", np.zeros_like(params)), float)
        return cls(
            kind=kind,
            params=params,
            covariance=np.diag(se**2),
            u_centre=np.asarray(d["u_centre_um"], float),
            centre_xy_um=(float(d["centre_xy_um"][0]), float(d["centre_xy_um"][1])),
            radius_um=float(d["radius_um"]),
            poly_scale_um=float(d.get("poly_scale_um", 1.0)),
            pitch_ref_um=float(d["pitch_ref_um"]),
            n_spots=int(d.get("n_spots", 0)),
            rss_um2=float(d["rss_um2"]) if d.get("rss_um2") is not None else math.nan,
            bic=dict(d.get("bic", {})),
        )


def _evaluate(kind: str, p: np.ndarray, uh: np.ndarray, m: GridModel) -> np.ndarray:
    """Image positions for centred slide positions ``uh`` under parameters ``p``."""
    if kind == "similarity":
        return np.column_stack(
            [p[0] * uh[:, 0] - p[1] * uh[:, 1] + p[2], p[1] * uh[:, 0] + p[0] * uh[:, 1] + p[3]]
        )
    if kind == "poly3":
        s = uh / m.poly_scale_um
        T = np.column_stack([s[:, 0] ** a * s[:, 1] ** b for a, b in _POLY3_TERMS])
        return np.column_stack([T @ p[:10], T @ p[10:]])
    A = p[:4].reshape(2, 2)
    q = uh @ A.T + p[4:6]
    if kind == "affine":
        return np.asarray(q)
    c = np.asarray(m.centre_xy_um)
    w = q - c
    rho2 = (w * w).sum(axis=1) / m.radius_um**2
    return np.asarray(c + w * (1 + p[6] * rho2 + p[7] * rho2 * rho2)[:, None])


def _fit_linear(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ coef
    rss = float(r @ r)
    dof = max(len(y) - X.shape[1], 1)
    cov = rss / dof * np.linalg.pinv(X.T @ X)
    return coef, cov, rss


def _fit_radial(uh: np.ndarray, p: np.ndarray, m: GridModel) -> tuple[np.ndarray, np.ndarray, float]:
    """Gauss–Newton on the 8 radial parameters from the affine solution (numerical Jacobian)."""
    coef, _, _ = _fit_linear(_affine_design(uh), np.concatenate([p[:, 0], p[:, 1]]))
    theta = np.concatenate([coef, [0.0, 0.0]])
    y = np.concatenate([p[:, 0], p[:, 1]])

    def f(t: np.ndarray) -> np.ndarray:
        q = _evaluate("radial", t, uh, m)
        return np.concatenate([q[:, 0], q[:, 1]])

    steps = np.array([1e-6] * 4 + [1e-4] * 2 + [1e-5] * 2)
    J = np.zeros((len(y), 8))
    for _ in range(30):
        r = y - f(theta)
        for k in range(8):
            d = np.zeros(8)
            d[k] = steps[k]
            J[:, k] = (f(theta + d) - f(theta - d)) / (2 * steps[k])
        delta, *_ = np.linalg.lstsq(J, r, rcond=None)
        theta = theta + delta
        if np.all(np.abs(delta) < 1e-12 + 1e-10 * np.abs(theta)):
            break
    r = y - f(theta)
    rss = float(r @ r)
    cov = rss / max(len(y) - 8, 1) * np.linalg.pinv(J.T @ J)
    return theta, cov, rss


def fit_grid_models(
    u: np.ndarray,
    p: np.ndarray,
    kind: str,
    centre_xy_um: tuple[float, float],
    radius_um: float,
    pitch_ref_um: float,
) -> tuple[GridModel, dict[str, GridModel]]:
    """Fit the grid models to matched slide and image positions; ``kind="auto"``: the lowest BIC.

    BIC = n·ln(RSS/n) + k·ln(n) over the n = 2N coordinates (Gaussian errors of unknown variance,
    so it does not depend on how well the localisation errors are known).

    Parameters
    ----------
    u, p : numpy.ndarray
        (N, 2) slide and image positions, µm.
    kind : str
        "similarity", "affine", "radial", "poly3" or "auto".
    centre_xy_um : tuple of float
        The field centre (axis of the radial model).
    radius_um : float
        The field's half-diagonal (the radial model's unit radius).
    pitch_ref_um : float
        The slide unit: slide positions are pitch_ref · index.

    Returns
    -------
    chosen, fitted
        The model used, and every model fitted by name (each with the BIC of all).

    Raises
    ------
    AnalysisError
        Too few spots for the model asked for.
    """
    n = len(u)
    y = np.concatenate([p[:, 0], p[:, 1]])
    base = GridModel(
        "similarity", np.zeros(4), np.zeros((4, 4)), np.zeros(2), centre_xy_um, radius_um, 1.0, pitch_ref_um
    )
    # û centred on the slide position imaged at the field centre: the linear part is then paraxial
    um = u.mean(axis=0)
    coef, _, _ = _fit_linear(_similarity_design(u - um), y)
    S = np.array([[coef[0], -coef[1]], [coef[1], coef[0]]])
    base.u_centre = um + np.linalg.solve(S, np.asarray(centre_xy_um) - coef[2:4])
    uh = u - base.u_centre
    scale = max(float(np.abs(uh).max()), 1e-9)
    base.poly_scale_um = scale
    candidates = ("similarity", "affine", "radial", "poly3") if kind == "auto" else (kind,)
    fitted: dict[str, GridModel] = {}
    for k in candidates:
        if 2 * n < N_PARAMS[k] + 4:
            if kind != "auto":
                raise AnalysisError(f"{n} spots on the grid are too few for a {k} grid model.")
            continue
        if k == "similarity":
            theta, cov, rss = _fit_linear(_similarity_design(uh), y)
        elif k == "affine":
            theta, cov, rss = _fit_linear(_affine_design(uh), y)
        elif k == "poly3":
            theta, cov, rss = _fit_linear(_poly3_design(uh, scale), y)
        else:
            theta, cov, rss = _fit_radial(uh, p, base)
        fitted[k] = GridModel(
            k, theta, cov, base.u_centre.copy(), centre_xy_um, radius_um, scale, pitch_ref_um, n, rss
        )
    if not fitted:
        raise AnalysisError(f"{n} spots on the grid are too few for any grid model.")
    m2 = 2 * n
    bic = {
        k: m2 * math.log(max(g.rss_um2, 1e-30) / m2) + N_PARAMS[k] * math.log(m2) for k, g in fitted.items()
    }
    for g in fitted.values():
        g.bic = dict(bic)
    chosen = min(fitted, key=lambda k: bic[k])
    return fitted[chosen], fitted
