"""Resolution benchmark: FRC of a 2048² pair and decorrelation of a 2048² image, whole and as maps.

Prints the best of ``--repeat`` runs of each analysis call (curves and metrics, no export) and two
baselines measured in the same run: one ``numpy.fft.rfft2`` of the image, the transform every
method needs (FRC needs two), and one whole-image decorrelation analysis (without the map). The
local maps (256-px tiles at 50 % overlap by default: 15 × 15 tiles on 2048²) are timed alone
(``local_decorrelation``, ``local_frc``) and within the analysis (the default run).

Run:  python benchmarks/resolution.py [--size 2048] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
from microscope_qc.analysis.resolution.fourier import check_image
from microscope_qc.analysis.resolution.local import local_decorrelation, local_frc
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
    whole = ResolutionSettings(local_map=False)
    frc = _best(
        lambda: analyze_resolution(s.image, whole, pixel_size_um=s.pixel_size_um, pair=s.pair), args.repeat
    )
    dec_settings = ResolutionSettings(method="decorrelation", local_map=False)
    dec = _best(lambda: analyze_resolution(s.image, dec_settings, pixel_size_um=s.pixel_size_um), args.repeat)
    split_settings = ResolutionSettings(
        conversion_gain_e_per_dn=1 / s.gain_dn_per_e, offset_counts=s.offset_dn, local_map=False
    )
    split = _best(
        lambda: analyze_resolution(s.image, split_settings, pixel_size_um=s.pixel_size_um), args.repeat
    )
    checked = check_image(s.image)
    dec_map = _best(lambda: local_decorrelation(checked, s.pixel_size_um), args.repeat)
    tiles = local_decorrelation(checked, s.pixel_size_um).resolution_um.shape
    frc_map = _best(lambda: local_frc(s.image, s.pair, s.pixel_size_um), args.repeat)
    with_map = ResolutionSettings(method="decorrelation")
    dec_all = _best(lambda: analyze_resolution(s.image, with_map, pixel_size_um=s.pixel_size_um), args.repeat)
    frc_all = _best(
        lambda: analyze_resolution(s.image, pixel_size_um=s.pixel_size_um, pair=s.pair), args.repeat
    )
    n = args.size
    print(f"image {n}×{n}, best of {args.repeat}; map: {tiles[0]} × {tiles[1]} tiles of 256 px, 50 % overlap")
    print(f"  baseline: one rfft2                   {fft:7.3f} s")
    print(f"  baseline: decorrelation, whole image  {dec:7.3f} s  ({dec / fft:.1f}× the rfft2)")
    print(f"  FRC of a pair, whole image            {frc:7.3f} s  ({frc / fft:.1f}× the rfft2)")
    print(f"  FRC of one image, photon split        {split:7.3f} s  ({split / fft:.1f}× the rfft2)")
    print(
        f"  decorrelation map alone               {dec_map:7.3f} s  ({dec_map / dec:.1f}× the whole-image decorrelation)"
    )
    print(
        f"  FRC map of the pair alone             {frc_map:7.3f} s  ({frc_map / frc:.1f}× the whole-image FRC)"
    )
    print(f"  decorrelation with its map (default)  {dec_all:7.3f} s  ({dec_all / dec:.1f}× without)")
    print(f"  FRC of a pair with its map (default)  {frc_all:7.3f} s  ({frc_all / frc:.1f}× without)")


if __name__ == "__main__":
    main()
