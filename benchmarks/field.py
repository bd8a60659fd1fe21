"""Field-illumination benchmark: a 2048 × 2048 uint16 flat (the analysis call; measured in this run).

Prints the analysis time (median and best of N runs), the time with exports, and a baseline
measured in the same run: the MetroloJ_QC-compatible part alone done the plain way
(scikit-image Gaussian in double precision + ``np.unique`` levels + ``regionprops``), so the
ratio shows what the whole analysis costs relative to the reference tools' core step.

Run:  python benchmarks/field.py [--size 2048] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from microscope_qc.analysis.field import analyze_field
from microscope_qc.report import InputInfo, export_result
from microscope_qc.report.field import field_figures
from microscope_qc.samples import FlatSampleSpec, make_flat_field


def _baseline(img: np.ndarray) -> float:
    from skimage.filters import gaussian
    from skimage.measure import regionprops

    t0 = time.perf_counter()
    proc = gaussian(img, sigma=5, preserve_range=True)
    for n_bins in (11, 21, 51):
        labels = (proc / proc.max() * n_bins).astype(int)
        regionprops(labels, proc)[-2].centroid  # noqa: B018
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    n = args.size
    sample = make_flat_field(
        FlatSampleSpec(shape=(n, n), centre_yx=(0.54 * n, 0.46 * n), sigma_yx=(0.82 * n, 0.82 * n))
    )
    img = sample.data
    analyze_field(img[:256, :256])  # warm-up
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = analyze_field(img)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        export_result(
            result, Path(tmp) / "o", InputInfo(None, None, img.shape, str(img.dtype)), field_figures, "bench"
        )
    t_export = time.perf_counter() - t0
    base = min(_baseline(img) for _ in range(3))
    med, best = statistics.median(times), min(times)
    print(f"image {img.shape} {img.dtype} ({img.nbytes / 2**20:.0f} MiB)")
    print(
        f"analysis (MetroloJ_QC + microscope-metrics + model + defects + flat field): median {med:.3f} s, best {best:.3f} s"
    )
    print(f"exports (JSON, CSV, HTML with figures): {t_export:.2f} s")
    print(
        f"baseline, skimage blur + levels + regionprops only: {base:.3f} s  (ratio ours/baseline {med / base:.2f})"
    )
    c = result.metric("illumination_centre_x_px")
    print(f"check: centre x {c.value:.2f} ± {c.uncertainty:.2f} px (true {sample.spec.centre_yx[1]:.2f})")


if __name__ == "__main__":
    main()
