"""Detector benchmark: an EMVA 1288 series of 20 pairs of 2048 × 2048 uint16 frames, whole process.

The series (10 exposure times, a bright and a dark pair at each; synthetic sCMOS camera) is
written once as a multi-page TIFF with its frame table. Printed, all measured in this run (min of
``--repeat``):

- ``microscope-qc detector`` on the file, in this process: reading, analysis, results.json,
  CSVs and the HTML report;
- the analysis alone on the lazily read file (frames streamed), with the peak of the memory it
  allocated (tracemalloc) against the size of the series as float64;
- the ``emva1288`` reference implementation on the same frames read from the same file: its
  per-group sums (``get_int_imgs``), ``Data1288`` and ``Results1288`` (the package predates
  NumPy 2; ``numpy.asfarray`` is supplied for it), with its peak memory;
- both implementations' system gain K and dark noise, side by side.

Run:  python benchmarks/detector.py [--size 2048] [--levels 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from microscope_qc.samples.cameras import CAMERAS, Camera  # noqa: E402


def _write_series(folder: Path, size: int, levels: int) -> tuple[Path, list[float], list[float], list[str]]:
    import tifffile

    cam = Camera(replace(CAMERAS["scmos"], shape=(size, size), seed=1))
    sp = cam.spec
    sat_e = min(sp.full_well_e, (cam.saturation_dn - sp.offset_dn) / sp.system_gain_dn_per_e)
    flux = 1.1 * sat_e / sp.quantum_efficiency / 100.0  # photons per ms: saturates just before 100 ms
    t_list, p_list, kinds = [], [], []
    path = folder / "series.tif"
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        for t in np.linspace(100.0 / levels, 100.0, levels):
            for kind, photons in (("bright", flux * t), ("dark", 0.0)):
                for _ in range(2):
                    tif.write(cam.frame(photons, t), contiguous=True)
                    t_list.append(float(t))
                    p_list.append(float(photons))
                    kinds.append(kind)
    rows = [
        "exposure_ms,photons,kind",
        *(f"{t},{p},{k}" for t, p, k in zip(t_list, p_list, kinds, strict=True)),
    ]
    (folder / "series_frames.csv").write_text("\n".join(rows) + "\n")
    return path, t_list, p_list, kinds


def _ours(
    path: Path, t: list[float], p: list[float], kinds: list[str]
) -> tuple[float, int, dict[str, float]]:
    from microscope_qc.analysis.detector import analyze_detector
    from microscope_qc.io import read_image
    from microscope_qc.measurements.detector_inputs import LazyFrames

    tracemalloc.start()
    t0 = time.perf_counter()
    frames = LazyFrames([read_image(path)])
    r = analyze_detector(frames, exposure_ms=t, photons=p, dark=[k == "dark" for k in kinds])
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (
        dt,
        peak,
        {"K": r.metric("system_gain_dn_per_e", None).value, "sigma_d": r.metric("dark_noise_e", None).value},
    )


def _reference(
    path: Path, t: list[float], p: list[float], kinds: list[str]
) -> tuple[float, int, dict[str, float]]:
    import logging

    import tifffile
    from emva1288.process.data import Data1288
    from emva1288.process.results import Results1288
    from emva1288.process.routines import get_int_imgs

    if not hasattr(np, "asfarray"):
        np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)  # noqa: NPY201 (gone in NumPy 2)
    tracemalloc.start()
    t0 = time.perf_counter()
    temporal: dict = {}
    spatial: dict = {}
    exposures = sorted(set(t))
    middle = exposures[len(exposures) // 2]
    with tifffile.TiffFile(path) as tif:
        for i in range(0, len(t), 2):
            imgs = [tif.pages[i].asarray(), tif.pages[i + 1].asarray()]
            d = get_int_imgs(imgs)
            photons = 0.0 if kinds[i] == "dark" else p[i]
            texp = t[i] * 1e6
            temporal.setdefault(texp, {})[photons] = {
                "sum": np.sum(d["sum"]),
                "pvar": np.sum(d["pvar"]),
                "dmean": d["dmean"],
            }
            if t[i] == middle:
                spatial.setdefault(texp, {})[photons] = d
        h, w = tif.pages[0].shape
    data = {"temporal": temporal, "spatial": spatial, "height": h, "width": w}
    r = Results1288(Data1288(data, loglevel=logging.WARNING).data, loglevel=logging.WARNING)
    numbers = {"K": float(r.K), "sigma_d": float(r.sigma_d)}
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dt, peak, numbers


def _cli(path: Path, out: Path) -> float:
    from microscope_qc.cli import main

    t0 = time.perf_counter()
    code = main(["detector", str(path), "--out", str(out), "-q", "--overwrite"])
    dt = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"microscope-qc detector exited with {code}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--levels", type=int, default=10, help="exposure times; a bright and a dark pair each")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        path, t, p, kinds = _write_series(folder, args.size, args.levels)
        n = len(t)
        print(f"series: {n // 2} pairs of {args.size} × {args.size} uint16 ({path.stat().st_size / 2**20:.0f} MiB), "
              f"written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        cli = min(_cli(path, folder / "out") for _ in range(args.repeat))
        ours = min((_ours(path, t, p, kinds) for _ in range(args.repeat)), key=lambda r: r[0])
        ref = min((_reference(path, t, p, kinds) for _ in range(args.repeat)), key=lambda r: r[0])
    series_f64 = n * args.size * args.size * 8
    print(f"microscope-qc detector (read, analyse, export): {cli:.2f} s")
    print(f"analysis alone, streamed:                       {ours[0]:.2f} s, peak allocated {ours[1] / 2**20:.0f} MiB "
          f"(the series as float64: {series_f64 / 2**20:.0f} MiB)")  # fmt: skip
    print(
        f"emva1288 reference (sums, Data1288, Results1288): {ref[0]:.2f} s, peak allocated {ref[1] / 2**20:.0f} MiB"
    )
    print(f"system gain K: {ours[2]['K']:.5f} (ours) vs {ref[2]['K']:.5f} (emva1288) DN/e-")
    print(f"dark noise σd: {ours[2]['sigma_d']:.4f} (ours) vs {ref[2]['sigma_d']:.4f} (emva1288) e-")


if __name__ == "__main__":
    main()
