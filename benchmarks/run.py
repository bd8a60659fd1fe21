"""Automatic runs: ``microscope-qc run`` over many small QC files, one process against several, measured now.

Writes N small synthetic QC files (a third each PSF bead stacks, flat fields and two-colour bead
stacks, each with its own seed, from the bundled sample makers) and a configuration, then runs
``microscope-qc run FOLDER --config qc.yaml`` in a fresh interpreter (start-up, imports and the
workers' start included) with

- ``--workers 1`` (the baseline: every file in the command's own process),
- ``--workers 2`` (a local process pool),
- ``--scheduler ADDRESS`` of a dask ``LocalCluster`` of 2 worker processes started beforehand (as
  an existing cluster would be; its start is not timed, the workers' imports are), once with dask's
  default worker environment and once without its ``MALLOC_TRIM_THRESHOLD_=65536``,

each into its own QC history so that every run analyses every file. Printed: wall time, files/s
and the speed-up over ``--workers 1``, all measured in this run; also the mean time one file took
inside its worker (from summary.json). Nothing is quoted from elsewhere.

Run:  python benchmarks/run.py [--files 200] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

CONFIG = """\
rules:
- name: PSF
  match: {glob: "psf_*.ome.tif"}
  measurement: psf
  instrument_name: Scope A
- name: Field
  match: {glob: "flat_*.ome.tif"}
  measurement: field
  instrument_name: Scope A
- name: Co-registration
  match: {glob: "coreg_*.ome.tif"}
  measurement: coregistration
  instrument_name: Scope B
"""


def _write(kind_seed_path: tuple[str, int, str]) -> None:
    from microscope_qc.measurements.sample_files import write_beads, write_flat, write_multicolour
    from microscope_qc.samples import (
        BeadSampleSpec,
        FlatSampleSpec,
        make_bead_stack,
        make_flat_field,
        make_multicolour_beads,
    )

    kind, seed, name = kind_seed_path
    path = Path(name)
    if kind == "psf":
        spec = BeadSampleSpec(shape=(40, 128, 128), n_beads=4, min_separation_um=2.0, seed=seed)
        write_beads(make_bead_stack(spec), path, False)
    elif kind == "flat":
        flat = FlatSampleSpec(shape=(128, 128), centre_yx=(66.0, 60.0), sigma_yx=(110.0, 110.0), seed=seed)
        write_flat(make_flat_field(flat), path, False)
    else:
        spec = BeadSampleSpec(shape=(40, 128, 128), n_beads=4, min_separation_um=2.0, hot_pixels=0, seed=seed)
        write_multicolour(make_multicolour_beads(spec), path, False)


def make_files(folder: Path, n: int) -> None:
    """Write ``n`` QC files, a third of each kind, with two processes."""
    kinds = ("psf", "flat", "coreg")
    todo = [(kinds[k % 3], k, str(folder / f"{kinds[k % 3]}_{k:04d}.ome.tif")) for k in range(n)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_write, todo))


def timed_run(folder: Path, config: Path, out: Path, name: str, extra: list[str]) -> tuple[float, dict]:
    """One ``microscope-qc run`` in a fresh interpreter: its wall time and its summary."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    argv = [sys.executable, "-m", "microscope_qc.cli", "run", str(folder), "--config", str(config)]
    argv += ["--out", str(out), "--run-name", name, "--history", str(out / f"{name}.sqlite"), "-q", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    summary = json.loads((out / name / "summary.json").read_text())
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return wall, summary


def main() -> None:
    """Run the benchmark and print what was measured."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200, help="how many QC files (default 200)")
    parser.add_argument("--quick", action="store_true", help="24 files, to try it out")
    opts = parser.parse_args()
    n = 24 if opts.quick else opts.files
    with tempfile.TemporaryDirectory(prefix="qc-run-bench-") as tmp:
        root = Path(tmp)
        folder, out, config = root / "data", root / "runs", root / "qc.yaml"
        folder.mkdir()
        config.write_text(CONFIG)
        t0 = time.perf_counter()
        make_files(folder, n)
        print(f"{n} QC files written in {time.perf_counter() - t0:.1f} s ({os.cpu_count()} CPUs seen)")
        rows = []
        print(f"load average before the runs: {os.getloadavg()[0]:.1f} (other processes share the CPUs)")
        rows.append(("--workers 1", *timed_run(folder, config, out, "w1", ["--workers", "1"])))
        rows.append(("--workers 2", *timed_run(folder, config, out, "w2", ["--workers", "2"])))
        try:
            from distributed import LocalCluster
        except ImportError:
            print("dask distributed is not installed: the cluster run is left out")
        else:
            import dask

            with LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster:
                rows.append(
                    (
                        "dask LocalCluster, 2 workers",
                        *timed_run(folder, config, out, "dask", ["--scheduler", cluster.scheduler_address]),
                    )
                )
            # dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ):
            # the same cluster without it, to see what that costs these analyses
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
            environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            with (
                dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
                LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cluster,
            ):
                rows.append(
                    (
                        "  the same, no MALLOC_TRIM_",
                        *timed_run(folder, config, out, "dask2", ["--scheduler", cluster.scheduler_address]),
                    )
                )
    print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
    base = rows[0][1]
    print(f"\n{'how':<30}{'wall s':>9}{'files/s':>9}{'speed-up':>10}{'analysed':>10}{'s/file in worker':>18}")
    for how, wall, summary in rows:
        c = summary["counts"]
        inner = [f["seconds"] for f in summary["files"] if f["seconds"]]
        mean = sum(inner) / len(inner) if inner else float("nan")
        print(
            f"{how:<30}{wall:>9.1f}{n / wall:>9.2f}{base / wall:>9.2f}×{c['analysed']:>7}/{n:<3}{mean:>14.2f}"
        )


if __name__ == "__main__":
    main()
