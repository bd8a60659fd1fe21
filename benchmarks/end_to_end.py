"""End-to-end benchmark: the whole ``microscope-qc`` process next to the analysis it runs, measured now.

For each job the data are written to a temporary folder as TIFF, then

- whole process: ``microscope-qc <measurement> FILE --out DIR ...`` in a fresh interpreter
  (start-up, imports, reading, analysis, results.json, CSV, report.html with its figures):
  wall time and CPU time (user + system; min of ``--repeat`` runs each) and the process's peak
  memory (max RSS);
- in this process, warm (imports done, min of ``--repeat``): reading the file into memory,
  the analysis the command runs (the same ``run`` with the same options, on the pixels already
  in memory) and the export (results.json, CSVs, report.html with its figures);
- start-up and imports: the whole process minus those three (derived, not measured apart);
- export as the user feels it: in a fresh interpreter, after reading and the analysis, the export
  with the imports it needs (the report modules, the figures' code), wall time (min of ``--repeat``).

With ``--baseline-src DIR`` (another checkout's ``src``, e.g. ``git worktree add /tmp/base main``),
each job's whole process is also run with that checkout, alternating with this one run by run, so
both see the same machine load: the honest before/after of a change.

Also ``microscope-qc --help`` and every sub-command's ``--help``, and the floor under every run: a
fresh interpreter that only imports the libraries the runs need. The load average is printed at
the start and the end: on a loaded machine compare a job with the floor of the same run (and
its CPU time), not with numbers from another run. Every number printed is
measured in this run; nothing is quoted from elsewhere. The child processes import this
checkout (``src`` beside this file), not an installed copy.

Run:  python benchmarks/end_to_end.py [--repeat 3] [--quick] [--only field ...] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from microscope_qc.cli import build_parser  # noqa: E402
from microscope_qc.io import ImageData, read_image  # noqa: E402
from microscope_qc.measurements import get_measurement  # noqa: E402
from microscope_qc.report import InputInfo, export_result  # noqa: E402

#: ``microscope-qc`` as its console script runs it, then this process's peak memory (Linux VmHWM:
#: the process's own, not counting the parent's pages before the child replaced them)
CLI = """
import sys
from microscope_qc.cli import main
code = main()
try:
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
except OSError:
    hwm = -1
print(f"@peak {hwm}", file=sys.stderr)
sys.exit(code)
"""


#: reading and the analysis as the command runs them, then the export timed with its imports
COLD_EXPORT = """
import sys, time
from pathlib import Path
from microscope_qc.cli import build_parser
from microscope_qc.io import read_image
from microscope_qc.measurements import get_measurement
args = build_parser().parse_args(sys.argv[1:])
m = get_measurement(args.measurement)
images = [read_image(Path(f)) for f in args.files]
result = m.cli.run(images, args, None)
t0 = time.perf_counter()
from microscope_qc.report import InputInfo, export_result
info = InputInfo(str(args.files[0]), None, images[0].shape, str(images[0].dtype), images[0].metadata.as_dict())
export_result(result, args.out / "cold", info, m.figures, "benchmark", overwrite=True)
print(f"@export {time.perf_counter() - t0}")
"""


@dataclass
class Job:
    """One measurement on one file: what the user types, and the data written for it."""

    title: str
    measurement: str
    file: Path
    options: list[str]

    def argv(self, out: Path) -> list[str]:
        """The command line after ``microscope-qc``."""
        return [self.measurement, str(self.file), "--out", str(out), "--overwrite", "--quiet", *self.options]


def compile_checkout(src: Path) -> int:
    """Byte-compile ``src`` as an installation does; the number of modules whose cache was missing or stale.

    pip writes the byte code when it installs the package; a checkout whose caches are stale (or
    a shell with ``PYTHONDONTWRITEBYTECODE`` set) would otherwise recompile the edited modules in
    every fresh process and time the compiler, not the program.
    """
    import compileall
    import importlib.util

    stale = 0
    for path in src.rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(path)))
        stale += not cached.exists() or cached.stat().st_mtime < path.stat().st_mtime
    compileall.compile_dir(str(src), quiet=1)
    return stale


def _child_env(src: Path = SRC) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(argv: list[str], src: Path = SRC) -> tuple[float, int, str, float]:
    """Run ``microscope-qc argv`` in a fresh interpreter (importing the package from ``src``).

    Returns wall seconds, peak RSS in bytes (-1 if unknown), stderr, and the CPU seconds (user +
    system) it used, which other processes on a loaded machine change less than the wall time.
    """
    t0, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [sys.executable, "-c", CLI, *argv], capture_output=True, text=True, env=_child_env(src)
    )
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode not in (0, 3):  # 3: a verdict failed, still a complete run
        raise RuntimeError(f"microscope-qc {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    peaks = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("@peak ")]
    return seconds, peaks[-1] if peaks else -1, proc.stderr, cpu


#: the libraries under the runs: numpy and tifffile (all the field command imports), pandas (the bead
#: analyses' tables); with SciPy's ndimage, spatial and fft: what the bead analyses imported before
#: they computed those in numpy (for a checkout given with --baseline-src that still does)
LIBRARY_FLOORS = (
    "pass",
    "import numpy",
    "import numpy, tifffile",
    "import numpy, pandas, tifffile",
    "import numpy, scipy.ndimage",
    "import numpy, scipy.ndimage, pandas, tifffile",
    "import numpy, scipy.ndimage, pandas, tifffile, scipy.spatial, scipy.fft",
)


def python_process(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c code`` in a fresh interpreter."""
    t0, cpu0 = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", code], check=True, env=_child_env())
    return time.perf_counter() - t0, _children_cpu() - cpu0


def cold_export(job: Job, out: Path) -> float:
    """Seconds of the export, imports included, in a fresh interpreter after the analysis."""
    proc = subprocess.run(
        [sys.executable, "-c", COLD_EXPORT, *job.argv(out)], capture_output=True, text=True, env=_child_env()
    )
    if proc.returncode != 0:
        raise RuntimeError(f"export of {job.title} failed: {proc.stderr}")
    return float(next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("@export ")))


def best(fn, repeat: int) -> float:
    """Minimum wall time of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_jobs(folder: Path, quick: bool, only: list[str] | None = None) -> list[Job]:
    """Write the data of every job (synthetic, with known truth) as the acquisition software would.

    ``only``: the measurements whose jobs are wanted (None: all); the PSF data are written only for them.
    """
    from microscope_qc.samples import (
        BeadSampleSpec,
        FlatSampleSpec,
        make_bead_stack,
        make_flat_field,
        make_multicolour_beads,
    )

    psf_shape = (64, 512, 512) if quick else (64, 1024, 1024)
    n_psf = 50 if quick else 200
    optics = ["--na", "1.4", "--immersion-index", "1.518", "--modality", "widefield"]
    jobs = []

    spec = BeadSampleSpec(shape=psf_shape, n_beads=n_psf, seed=42, z_margin_um=2.5)
    path = folder / "psf_beads.tif"
    if not only or "psf" in only:
        tifffile.imwrite(path, make_bead_stack(spec).data, photometric="minisblack")
    vox = [str(v) for v in spec.voxel_size_um]
    psf_options = [*optics, "--voxel-size", *vox, "--wavelength-ex", "488", "--wavelength-em", "520"]
    jobs.append(
        Job(
            f"PSF, {psf_shape[0]} × {psf_shape[1]}², {n_psf} beads",
            "psf",
            path,
            [*psf_options, "--bead-diameter", "0.1"],
        )
    )

    n = 1024 if quick else 2048
    flat = make_flat_field(
        FlatSampleSpec(shape=(n, n), centre_yx=(0.54 * n, 0.46 * n), sigma_yx=(0.82 * n, 0.82 * n))
    )
    path = folder / "flat.tif"
    tifffile.imwrite(path, flat.data, photometric="minisblack")
    jobs.append(Job(f"field, {n}²", "field", path, []))

    spec = BeadSampleSpec(shape=(64, 512, 512), n_beads=20, seed=7, hot_pixels=0)
    two = make_multicolour_beads(spec)
    path = folder / "two_colour.tif"
    tifffile.imwrite(path, two.data, photometric="minisblack", metadata={"axes": "CZYX"})
    ex = [str(t.wavelength_ex_nm) for t in two.transforms]
    em = [str(t.wavelength_em_nm) for t in two.transforms]
    jobs.append(
        Job(
            "co-registration, 2 × 64 × 512², 20 beads",
            "coregistration",
            path,
            [
                *optics,
                "--voxel-size",
                *[str(v) for v in spec.voxel_size_um],
                "--wavelength-ex",
                *ex,
                "--wavelength-em",
                *em,
            ],
        )
    )

    spec = BeadSampleSpec(shape=(31, 256, 256), n_beads=1, seed=3, z_margin_um=1.5)
    path = folder / "single_bead.tif"
    tifffile.imwrite(path, make_bead_stack(spec).data, photometric="minisblack")
    jobs.append(Job("PSF, one bead, 31 × 256²", "psf", path, psf_options))
    return jobs


def in_process(job: Job, out: Path, repeat: int) -> dict[str, float]:
    """Reading, analysis and export of the job in this (warm) process: best seconds each."""
    m = get_measurement(job.measurement)
    args = build_parser().parse_args(job.argv(out))
    image = read_image(job.file)

    def read() -> np.ndarray:
        return np.asarray(read_image(job.file).data)

    loaded = ImageData(data=read(), metadata=image.metadata, path=job.file, dims_in_file=image.dims_in_file)
    result = m.cli.run([loaded], args, None)  # warm: imports, caches
    info = InputInfo(str(job.file), None, loaded.shape, str(loaded.dtype), loaded.metadata.as_dict())

    def export() -> None:
        export_result(result, out / "in_process", info, m.figures, job.title, overwrite=True)

    export()
    return {
        "read": best(read, repeat),
        "analysis": best(lambda: m.cli.run([loaded], args, None), repeat),
        "export": best(export, repeat),
        "bytes": float(loaded.data.nbytes),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (the minimum is printed)")
    ap.add_argument("--quick", action="store_true", help="smaller PSF and field data, for a quick check")
    ap.add_argument(
        "--only",
        choices=["psf", "field", "coregistration"],
        action="append",
        help="run only these measurements' jobs (repeatable; default all), and skip the --help timings",
    )
    ap.add_argument(
        "--baseline-src",
        type=Path,
        help="also run each job's whole process with this checkout's src folder, alternating with this one",
    )
    args = ap.parse_args()
    baseline = args.baseline_src.resolve() if args.baseline_src else None
    if baseline is not None and not (baseline / "microscope_qc").is_dir():
        ap.error(f"--baseline-src {baseline} holds no microscope_qc package")

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s); min of {args.repeat} runs; this checkout: {SRC}"
    )
    if baseline is not None:
        print(
            f"baseline checkout: {baseline} (whole process only, alternating run by run with this checkout)"
        )
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    stale = compile_checkout(SRC) + (compile_checkout(baseline) if baseline is not None else 0)
    print(f"byte code written first, as an installation does: {stale} module(s) were stale")
    if not args.only:
        print("\nmicroscope-qc ... --help, whole process:")
        commands = [[], ["psf"], ["field"], ["coregistration"], ["sample"], ["history"], ["instrument"]]
        for cmd in commands:
            times = [run_process([*cmd, "--help"])[0] for _ in range(args.repeat)]
            print(f"  {' '.join(['microscope-qc', *cmd, '--help']):<42} {min(times):6.2f} s")

    print(
        "\nthe floor under every run: a fresh interpreter importing the libraries the runs need (wall, CPU):"
    )
    for imports in LIBRARY_FLOORS:
        times = [python_process(imports) for _ in range(args.repeat)]
        wall, cpu = min(t[0] for t in times), min(t[1] for t in times)
        print(f"  python -c {imports!r:<70} {wall:6.2f} s {cpu:6.2f} s CPU")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        jobs = [
            j for j in make_jobs(folder, args.quick, args.only) if not args.only or j.measurement in args.only
        ]
        print(f"\n(data written in {time.perf_counter() - t0:.0f} s)")
        header = (
            f"{'job':<42} {'whole':>7} {'CPU':>6} {'read':>6} {'analysis':>9} {'export':>7} {'start-up':>9} "
            f"{'peak memory':>22} {'export, fresh':>14}"
        )
        print(
            "\nwhole process next to its parts (seconds; CPU: the whole process's user + system time, which a"
        )
        print("loaded machine changes less than the wall time; start-up = whole − read − analysis − export;")
        print("export, fresh: the export with the imports it needs, in a fresh process after the analysis):")
        print(header)
        print("-" * len(header))
        for job in jobs:
            out = folder / f"out_{job.file.stem}"
            runs, base_runs = [], []
            for _ in range(args.repeat):
                runs.append(run_process(job.argv(out)))
                if baseline is not None:
                    base_runs.append(run_process(job.argv(out / "baseline"), baseline))
            whole = min(r[0] for r in runs)
            cpu = min(r[3] for r in runs)
            peak = max(r[1] for r in runs)
            part = in_process(job, out, args.repeat)
            startup = whole - part["read"] - part["analysis"] - part["export"]
            ratio = peak / part["bytes"]
            memory = f"{peak / 2**20:5.0f} MiB ({ratio:.1f}× data)"
            fresh = min(cold_export(job, out) for _ in range(args.repeat))
            print(
                f"{job.title:<42} {whole:7.2f} {cpu:6.2f} {part['read']:6.2f} {part['analysis']:9.2f} "
                f"{part['export']:7.2f} {startup:9.2f} {memory:>22} {fresh:14.2f}"
            )
            if base_runs:
                b_whole, b_cpu = min(r[0] for r in base_runs), min(r[3] for r in base_runs)
                b_peak = max(r[1] for r in base_runs)
                print(
                    f"{'  baseline checkout, same job':<42} {b_whole:7.2f} {b_cpu:6.2f} {'':>6} {'':>9} {'':>7} "
                    f"{'':>9} {b_peak / 2**20:5.0f} MiB{'':>13}"
                )
        print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
        print(
            "\npeak memory is the whole process's (interpreter and libraries included; "
            f"`microscope-qc list` takes {run_process(['list'])[1] / 2**20:.0f} MiB); 'data' is the image in memory."
        )


if __name__ == "__main__":
    main()
