"""Resolution benchmark: FRC of a 2048² pair and decorrelation of a 2048² image (measured in this run).

Prints the best of ``--repeat`` runs of each analysis call (curves and metrics, no export) and a
baseline measured in the same run: one ``numpy.fft.rfft2`` of the image, the transform every
method needs (FRC needs two), so the ratios show the cost beyond the Fourier transforms.

Run:  python benchmarks/resolution.py [--size 2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
from microscope_qc.samples import resolution_sample


def _best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    s = resolution_sample(size=args.size)
    image = s.image.astype(np.float64)
    fft = _best(lambda: np.fft.rfft2(image), args.repeat)
    frc = _best(lambda: analyze_resolution(s.image, pixel_size_um=s.pixel_size_um, pair=s.pair), args.repeat)
    dec_settings = ResolutionSettings(method="decorrelation")
    dec = _best(lambda: analyze_resolution(s.image, dec_settings, pixel_size_um=s.pixel_size_um), args.repeat)
    split_settings = ResolutionSettings(
        conversion_gain_e_per_dn=1 / s.gain_dn_per_e, offset_counts=s.offset_dn
    )
    split = _best(
        lambda: analyze_resolution(s.image, split_settings, pixel_size_um=s.pixel_size_um), args.repeat
    )
    n = args.size
    print(f"image {n}×{n}, best of {args.repeat}")
    print(f"  baseline: one rfft2            {fft:7.3f} s")
    print(f"  FRC of a pair                  {frc:7.3f} s  ({frc / fft:.1f}× the rfft2)")
    print(f"  FRC of one image, photon split {split:7.3f} s  ({split / fft:.1f}× the rfft2)")
    print(f"  decorrelation                  {dec:7.3f} s  ({dec / fft:.1f}× the rfft2)")


if __name__ == "__main__":
    main()
