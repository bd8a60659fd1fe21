"""PSF benchmark: 64 × 1024 × 1024 uint16 stack with 200 beads, the analysis call in this process.

Prints, all measured in this run:
- detection + fits + field maps (+ averaged bead): seconds and beads/s;
- the same followed by the exports (results.json, beads.csv, report.html), and the export alone;
- peak memory of the analysis over the stack size (tracemalloc);
- a baseline: the per-bead ``scipy.optimize.curve_fit`` loop (numerical Jacobians, the approach
  of the Python peers) on the same beads, and the ratio.

The whole ``microscope-qc`` process (start-up, reading, exports) is in ``end_to_end.py``; the
fitting engine alone against ``curve_fit`` in ``fitting.py``.

Run:  python benchmarks/psf.py [--beads 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.report import InputInfo, export_result
from microscope_qc.report.psf import psf_figures
from microscope_qc.samples import BeadSampleSpec, make_bead_stack


def _baseline_curve_fit(stack: np.ndarray, beads, voxel) -> float:
    """Per-bead loop with scipy curve_fit (1D z + rotated 2D xy, numerical Jacobians): seconds."""
    from scipy.optimize import curve_fit

    def g1(z, a, b, c, s):
        return b + a * np.exp(-((z - c) ** 2) / (2 * s**2))

    def g2(yx, a, b, y0, x0, sy, sx, th):
        y, x = yx
        ct, st = np.cos(th), np.sin(th)
        u = (x - x0) * ct + (y - y0) * st
        v = -(x - x0) * st + (y - y0) * ct
        return b + a * np.exp(-(u**2) / (2 * sx**2) - v**2 / (2 * sy**2))

    h = 16
    yy, xx = np.mgrid[-h : h + 1, -h : h + 1].astype(float)
    t0 = time.perf_counter()
    for _, row in beads.iterrows():
        z, y, x = int(row.z_px), int(row.y_px), int(row.x_px)
        prof = stack[max(z - 20, 0) : z + 21, y, x].astype(float)
        zz = np.arange(prof.size, dtype=float)
        try:
            curve_fit(g1, zz, prof, p0=[prof.max() - prof.min(), prof.min(), prof.argmax(), 2.0], maxfev=2000)
            box = stack[z, y - h : y + h + 1, x - h : x + h + 1].astype(float)
            p0 = [box.max() - box.min(), box.min(), 0, 0, 1.5, 1.5, 0.1]
            curve_fit(g2, (yy.ravel(), xx.ravel()), box.ravel(), p0=p0, maxfev=4000)
        except (RuntimeError, ValueError):
            pass
    return time.perf_counter() - t0


def _our_fits_only(stack: np.ndarray, beads) -> float:
    """The shared engine on the same columns and boxes as the baseline (vectorised over beads)."""
    from microscope_qc.fitting import GaussianModel, fit_gaussians

    h = 16
    z, y, x = (beads[k].to_numpy().astype(int) for k in ("z_px", "y_px", "x_px"))
    t0 = time.perf_counter()
    zi = np.clip(z[:, None] + np.arange(-20, 21)[None], 0, stack.shape[0] - 1)
    prof = stack[zi, y[:, None], x[:, None]].astype(float)
    fit_gaussians(GaussianModel(1), prof, (41,), 2.0)
    off = np.arange(-h, h + 1)
    yy = np.clip(y[:, None, None] + off[None, :, None], 0, stack.shape[1] - 1)
    xx = np.clip(x[:, None, None] + off[None, None, :], 0, stack.shape[2] - 1)
    box = stack[z[:, None, None], yy, xx].astype(float).reshape(len(z), -1)
    fit_gaussians(GaussianModel(2), box, (2 * h + 1, 2 * h + 1), 1.5)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--beads", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    spec = BeadSampleSpec(shape=(64, 1024, 1024), n_beads=args.beads, seed=42, z_margin_um=2.5)
    t0 = time.perf_counter()
    sample = make_bead_stack(spec)
    stack = sample.data
    print(
        f"stack {stack.shape} {stack.dtype} ({stack.nbytes / 2**20:.0f} MiB), {args.beads} beads; made in {time.perf_counter() - t0:.1f} s"
    )
    md = sample.metadata
    ms = MicroscopeSettings().with_values(
        modality=md["modality"], na=md["na"], immersion_index=md["immersion_index"],
        voxel_size_um=md["voxel_size_um"], bead_diameter_um=md["bead_diameter_um"],
    ).with_wavelengths(md["wavelength_ex_nm"], md["wavelength_em_nm"])  # fmt: skip
    settings = PSFSettings(microscope=ms)

    analyze_psf(stack[:, :256, :256], settings)  # warm-up (imports, caches)
    times, e2e = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = analyze_psf(stack, settings)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            info = InputInfo(None, None, stack.shape, str(stack.dtype))
            export_result(result, Path(tmp) / "out", info, psf_figures, "benchmark")
        t2 = time.perf_counter()
        times.append(t1 - t0)
        e2e.append(t2 - t0)
    n_acc = int((result.beads["status"] == "accepted").sum())
    n_cand = len(result.beads)
    best, best_e2e = min(times), min(e2e)

    tracemalloc.start()
    analyze_psf(stack, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    base = _baseline_curve_fit(stack, result.beads, spec.voxel_size_um)
    ours_fits = _our_fits_only(stack, result.beads)

    print(f"candidates {n_cand}, accepted {n_acc} of {args.beads} true beads")
    print(f"detection + fits + maps + averaged bead: {best:.2f} s  ({n_cand / best:.0f} beads/s)")
    print(
        f"analysis then exports (JSON, CSV, HTML):  {best_e2e:.2f} s  ({n_cand / best_e2e:.0f} beads/s); "
        f"the exports {min(e - t for e, t in zip(e2e, times, strict=True)):.2f} s"
    )
    print(f"peak memory of the analysis: {peak / 2**20:.0f} MiB = {peak / stack.nbytes:.2f} × the stack")
    print(
        f"baseline, per-bead scipy curve_fit loop (fits only, no detection): {base:.2f} s ({n_cand / base:.0f} beads/s)"
    )
    print(
        f"our engine, same fits (1D z + 2D xy, two passes, covariances, CRB): {ours_fits:.2f} s  -> {base / ours_fits:.1f}× faster"
    )
    print(f"ratio baseline fits / our whole analysis incl. detection, maps and averaging: {base / best:.2f}")


if __name__ == "__main__":
    main()
