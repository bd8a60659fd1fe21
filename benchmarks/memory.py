"""Memory benchmark: peak memory and time of the PSF analysis on a lazily read TIFF, measured now.

Writes a synthetic bead stack as an uncompressed TIFF (the bead sample builder, one tile of the
field at a time, so writing it never holds more than the stack), then, each in a fresh
interpreter (peak memory = the process's VmHWM from /proc/self/status, Linux):

1. ``microscope-qc psf FILE`` — the whole command (start-up, reading, analysis, results.json,
   CSV, report.html): wall time and peak memory, next to the stack's size; with
   ``--baseline-src DIR`` also the same command run with another checkout's ``src`` (e.g. the
   commit before), for a before/after in one run;
2. the analysis alone, ``analyze_psf`` on the file as read (lazy: the TIFF fast path), and the
   same on the stack first read into memory (``numpy.asarray``), the in-run baseline; then on
   the file read through bioio (``read_image(..., reader="bioio")``, the path of every file the
   fast path does not take), under ``tracemalloc``: the peak of traced allocations against the
   stack (and with ``--baseline-src`` the same with the other checkout);
3. a stack built larger than a set limit (``--limit-mib``; the stack is twice that), analysed
   under ``tracemalloc``, read by the TIFF fast path and through bioio (with ``--baseline-src``
   also with the other checkout): the peak of traced allocations (numpy's included) against the
   limit and the stack.

Every number printed is measured in this run. Default: 64 × 1024² (128 MiB, 50 beads) and a
limit of 128 MiB; ``--large``: 128 × 2048² (1 GiB, 200 beads), the issue's case, and 512 MiB.

Run:  python benchmarks/memory.py [--large] [--baseline-src DIR] [--limit-mib N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from microscope_qc.samples import BeadSampleSpec, make_bead_stack  # noqa: E402

#: voxel size and optics of the synthetic stacks (the bead sample's)
SPEC = BeadSampleSpec()
OPTIONS = [
    "--na", str(SPEC.na), "--immersion-index", str(SPEC.immersion_index), "--modality", SPEC.modality,
    "--voxel-size", *(str(v) for v in SPEC.voxel_size_um),
    "--wavelength-ex", str(SPEC.wavelength_ex_nm), "--wavelength-em", str(SPEC.wavelength_em_nm),
    "--bead-diameter", str(SPEC.bead_diameter_um),
]  # fmt: skip

PEAK = """
def _peak():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
"""

CLI = (
    PEAK
    + """
import sys, time
t0 = time.perf_counter()
from microscope_qc.cli import main
code = main()
print(f"@peak {_peak()}", file=sys.stderr)
sys.exit(code)
"""
)

ANALYSIS = (
    PEAK
    + """
import json, sys, time, tracemalloc
import numpy as np
path, mode, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.io import read_image
ms = MicroscopeSettings().with_values(**options["optics"]).with_wavelengths(*options["wavelengths"])
settings = PSFSettings(microscope=ms)
traced_run = mode in ("traced", "bioio traced")
if mode == "bioio traced":  # one plane read before tracing starts: the libraries it imports are not traced
    from microscope_qc.volume import read
    read(read_image(path, reader="bioio").data, (0, 0))
if traced_run:
    tracemalloc.start()
t0 = time.perf_counter()
image = read_image(path, reader="bioio" if mode.startswith("bioio") else "auto")
data = np.asarray(image.data) if mode == "in memory" else image.data
result = analyze_psf(data, settings)
seconds = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1] if traced_run else -1
n = int((result.beads["status"] == "accepted").sum())
fwhm = [result.metric(f"fwhm_{a}_um").value for a in "xyz"]
print(json.dumps({"seconds": seconds, "peak": _peak(), "traced": traced, "accepted": n, "fwhm": fwhm}))
"""
)


def write_stack(path: Path, shape: tuple[int, int, int], n_beads: int, seed: int = 0) -> float:
    """Write a (Z, Y, X) uint16 bead stack, rendered as tiles of at most 512² by the bead sample builder; seconds taken."""
    t0 = time.perf_counter()
    nz, h, w = shape
    ty, tx = math.ceil(h / 512), math.ceil(w / 512)
    per_tile = max(1, round(n_beads / (ty * tx)))
    out = np.empty(shape, np.uint16)
    for i in range(ty):
        for j in range(tx):
            ys, xs = slice(i * 512, min(h, (i + 1) * 512)), slice(j * 512, min(w, (j + 1) * 512))
            spec = BeadSampleSpec(
                shape=(nz, ys.stop - ys.start, xs.stop - xs.start), n_beads=per_tile, seed=seed + i * tx + j
            )
            out[:, ys, xs] = make_bead_stack(spec).data
    tifffile.imwrite(path, out, photometric="minisblack")
    return time.perf_counter() - t0


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the first run writes the byte code, as an installation does
    env["PYTHONPATH"] = str(src)
    return env


def run_cli(path: Path, out: Path, src: Path) -> tuple[float, int]:
    """``microscope-qc psf path`` in a fresh interpreter importing ``src``: wall seconds and peak memory."""
    argv = ["psf", str(path), "--out", str(out), "--overwrite", "--quiet", *OPTIONS]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True, env=_env(src))
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"microscope-qc {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    peak = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("@peak ")][-1]
    return seconds, peak


def run_analysis(path: Path, mode: str, src: Path = SRC) -> dict[str, float]:
    """``analyze_psf`` on ``path`` in a fresh interpreter.

    ``mode``: ``lazy``, ``in memory``, ``traced`` (lazy, under tracemalloc), ``bioio`` (read
    through bioio) or ``bioio traced`` (the same under tracemalloc).
    """
    options = {
        "optics": {
            "voxel_size_um": SPEC.voxel_size_um,
            "na": SPEC.na,
            "immersion_index": SPEC.immersion_index,
            "modality": SPEC.modality,
            "bead_diameter_um": SPEC.bead_diameter_um,
        },
        "wavelengths": [[SPEC.wavelength_ex_nm], [SPEC.wavelength_em_nm]],
    }
    proc = subprocess.run(
        [sys.executable, "-c", ANALYSIS, str(path), mode, json.dumps(options)],
        capture_output=True,
        text=True,
        env=_env(src),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"analysis ({mode}) failed: {proc.stderr}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _mib(n: float) -> str:
    return f"{n / 2**20:6.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--large", action="store_true", help="128 × 2048² (1 GiB, 200 beads); takes minutes to write"
    )
    ap.add_argument("--baseline-src", type=Path, help="also run the command with this checkout's src folder")
    ap.add_argument("--limit-mib", type=int, help="the set limit of case 3 (default 128, 512 with --large)")
    ap.add_argument("--folder", type=Path, help="write the stacks here (default: a temporary folder)")
    args = ap.parse_args()
    shape, n_beads = ((128, 2048, 2048), 200) if args.large else ((64, 1024, 1024), 50)
    limit = (args.limit_mib or (512 if args.large else 128)) * 2**20
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); this checkout: {SRC}")
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp)
        path = folder / "beads.tif"
        seconds = write_stack(path, shape, n_beads)
        stack = int(np.prod(shape)) * 2
        print(
            f"\nstack {shape[0]} × {shape[1]} × {shape[2]} uint16, {n_beads} beads: {_mib(stack)} (written in {seconds:.0f} s)"
        )

        print("\n1. microscope-qc psf FILE, whole process (peak memory = VmHWM):")
        runs = [("this checkout", SRC)] + (
            [("baseline", args.baseline_src.resolve())] if args.baseline_src else []
        )
        for name, src in runs:
            t, peak = run_cli(path, folder / f"out_{name.replace(' ', '_')}", src)
            print(f"   {name:<14} {t:6.1f} s   peak {_mib(peak)} = {peak / stack:.2f}× the stack")

        print("\n2. analyze_psf alone (fresh process; reading included):")
        for mode in ("lazy", "in memory"):
            r = run_analysis(path, mode)
            fwhm = ", ".join(f"{v:.4f}" for v in r["fwhm"])
            print(
                f"   {mode:<14} {r['seconds']:6.1f} s   peak {_mib(r['peak'])} = {r['peak'] / stack:.2f}× the stack;"
                f" {r['accepted']} beads accepted, median FWHM x, y, z {fwhm} µm"
            )

        print(
            "\n   read through bioio (not the TIFF fast path): time and process peak, then the same under"
            "\n   tracemalloc (one plane read before tracing starts, so that the libraries are loaded; traced ="
            "\n   the run's allocations, numpy's included):"
        )
        for name, src in runs:
            r, traced = run_analysis(path, "bioio", src), run_analysis(path, "bioio traced", src)
            fwhm = ", ".join(f"{v:.4f}" for v in r["fwhm"])
            print(
                f"   {name:<14} {r['seconds']:6.1f} s   process peak {_mib(r['peak'])}; traced peak "
                f"{_mib(traced['traced'])} = {traced['traced'] / stack:.2f}× the stack; "
                f"{r['accepted']} beads accepted, median FWHM x, y, z {fwhm} µm"
            )

        big_planes = math.ceil(2 * limit / (1024 * 1024 * 2))
        big = folder / "larger_than_limit.tif"
        seconds = write_stack(big, (big_planes, 1024, 1024), 40, seed=100)
        big_bytes = big_planes * 1024 * 1024 * 2
        print(
            f"\n3. a stack of {big_planes} × 1024² ({_mib(big_bytes)}), larger than a limit of {_mib(limit)}"
            f" (written in {seconds:.0f} s), lazy, under tracemalloc:"
        )
        for mode, name in (("traced", "TIFF fast path"), ("bioio traced", "through bioio")):
            for label, src in runs if mode == "bioio traced" else runs[:1]:
                r = run_analysis(big, mode, src)
                print(
                    f"   {name}, {label}: peak traced allocations {_mib(r['traced'])} = "
                    f"{r['traced'] / big_bytes:.2f}× the stack, {r['traced'] / limit:.2f}× the limit; "
                    f"process peak {_mib(r['peak'])}; {r['seconds']:.1f} s; {r['accepted']} beads accepted"
                )
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
