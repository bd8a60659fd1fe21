"""``microscope-qc``: every measurement headless, in batch, with the same outputs as the widgets.

    microscope-qc psf FILE... --out DIR [options]
    microscope-qc sample psf-beads OUT.ome.tif
    microscope-qc list

Exit status: 0 when every file was analysed (whatever the verdicts; add ``--strict`` to
exit 3 on a failed verdict), 2 when any file could not be analysed (bad input, missing
settings, existing outputs) — the message says which and why.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path

from microscope_qc import __version__
from microscope_qc.instrument import SettingsError
from microscope_qc.io import ImageReadError, read_image, sha256_file
from microscope_qc.measurements import MEASUREMENTS, add_common_arguments, get_measurement
from microscope_qc.report import ExportExistsError, InputInfo, export_result
from microscope_qc.results import AnalysisError, Result

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2
EXIT_FAILED_VERDICT = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="microscope-qc",
        description="Light-microscope quality control (QUAREP-LiMi): the napari-microscope-qc analyses, headless.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for m in MEASUREMENTS.values():
        p = sub.add_parser(m.name, help=m.title, description=f"{m.title}. {m.summary}")
        p.add_argument(
            "files", nargs="+", type=Path, metavar="FILE", help="image files (TIFF, OME-TIFF, ...)"
        )
        p.add_argument(
            "--out", "-o", type=Path, required=True, help="output folder; one sub-folder per input file"
        )
        p.add_argument(
            "--overwrite", action="store_true", help="replace existing results (never done silently)"
        )
        p.add_argument(
            "--strict", action="store_true", help=f"exit {EXIT_FAILED_VERDICT} if any verdict fails"
        )
        p.add_argument("--quiet", "-q", action="store_true", help="print only the summary table and errors")
        add_common_arguments(p)
        m.add_arguments(p)
        p.set_defaults(measurement=m.name)
    s = sub.add_parser(
        "sample", help="write a synthetic sample with known truth", description="Write a synthetic sample."
    )
    s.add_argument(
        "kind", choices=["psf-beads", "psf-aberrated", "flat", "flat-misaligned", "two-colour-beads"]
    )
    s.add_argument("path", type=Path, help="output .ome.tif")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--overwrite", action="store_true")
    sub.add_parser("list", help="list the measurements")
    return parser


def _summary_rows(path: Path, result: Result, columns) -> list[list[str]]:
    rows = []
    channels = sorted({m.channel for m in result.metrics if m.channel is not None}) or [None]
    for c in channels:
        row = [path.name, "" if c is None else str(c)]
        for name in columns:
            try:
                m = result.metric(name, c)
            except KeyError:
                row.append("—")
                continue
            if isinstance(m.value, float) and not math.isfinite(m.value):
                row.append("—")
            elif m.uncertainty is not None and math.isfinite(m.uncertainty):
                row.append(f"{m.value:.3f} ± {m.uncertainty:.3f}")
            elif float(m.value).is_integer():
                row.append(f"{int(m.value)}")
            else:
                row.append(f"{m.value:.3f}")
        verdicts = [v for v in result.verdicts if v.channel == c]
        row.append("—" if not verdicts else ("PASS" if all(v.passed for v in verdicts) else "FAIL"))
        rows.append(row)
    return rows


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)))


def _out_dirs(groups: list[list[Path]]) -> list[str]:
    """One output folder name per analysis: the file stem, made unique when stems collide."""
    names = [g[0].name.split(".")[0] + ("_combined" if len(g) > 1 else "") for g in groups]
    out = []
    for name, g in zip(names, groups, strict=True):
        if names.count(name) > 1 and g[0].exists():
            name = f"{name}_{sha256_file(g[0])[:8]}"
        out.append(name)
    return out


def _input_info(paths: list[Path], images) -> InputInfo:
    first = images[0]
    combined = None
    if len(paths) > 1:
        combined = [{"path": str(p.resolve()), "sha256": sha256_file(p)} for p in paths]
    return InputInfo(
        str(paths[0].resolve()),
        sha256_file(paths[0]),
        first.shape,
        str(first.dtype),
        first.metadata.as_dict(),
        combined,
    )


def _run_measurement(args: argparse.Namespace) -> int:
    m = get_measurement(args.measurement)
    groups = m.jobs(args) if m.jobs is not None else [[f] for f in args.files]
    rows, failures, failed_verdicts = [], 0, 0
    for paths, stem in zip(groups, _out_dirs(groups), strict=True):
        label = paths[0].name if len(paths) == 1 else f"{paths[0].name} (+{len(paths) - 1} combined)"
        t0 = time.perf_counter()
        try:
            images = [read_image(p) for p in paths]

            def progress(frac: float, msg: str, name: str = label) -> None:
                if not args.quiet:
                    print(f"\r  {name}: {frac:4.0%} {msg[:60]:<60}", end="", file=sys.stderr, flush=True)

            result = m.run(images, args, progress)
            if not args.quiet:
                print(file=sys.stderr)
            out_dir = args.out / stem
            info = _input_info(paths, images)
            written = export_result(result, out_dir, info, m.figures, f"{m.title}: {label}", args.overwrite)
            if m.after_export is not None:
                written.update(m.after_export(result, out_dir, args))
        except (ImageReadError, AnalysisError, SettingsError, ExportExistsError, FileExistsError) as exc:
            if not args.quiet:
                print(file=sys.stderr)
            print(f"error: {label}: {exc}", file=sys.stderr)
            failures += 1
            continue
        for w in result.warnings:
            print(f"warning: {label}: {w}", file=sys.stderr)
        failed_verdicts += not result.passed
        rows.extend(_summary_rows(paths[0], result, m.table_columns))
        if not args.quiet:
            print(f"  {label}: {time.perf_counter() - t0:.2f} s → {out_dir}", file=sys.stderr)
    if rows:
        _print_table(["file", "ch", *m.table_columns, "verdict"], rows)
    if failures:
        print(f"{failures} of {len(groups)} analyses could not be done.", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.strict and failed_verdicts:
        return EXIT_FAILED_VERDICT
    return 0


def _write_sample(args: argparse.Namespace) -> int:
    import json

    from microscope_qc import samples
    from microscope_qc.io import write_ome_tiff

    stem = args.path.name.split(".")[0]
    try:
        if args.kind.startswith("psf"):
            make = {"psf-beads": samples.psf_beads_sample, "psf-aberrated": samples.psf_aberrated_sample}[
                args.kind
            ]
            sample = make() if args.seed is None else make(seed=args.seed)
            md = sample.metadata
            write_ome_tiff(
                args.path,
                sample.data[None],
                voxel_size_um=md["voxel_size_um"],
                channel_names=["beads"],
                wavelength_ex_nm=md["wavelength_ex_nm"],
                wavelength_em_nm=md["wavelength_em_nm"],
                na=md["na"],
                immersion="oil",
                immersion_index=md["immersion_index"],
                modality=md["modality"],
                overwrite=args.overwrite,
            )
            truth = args.path.with_name(stem + "_truth.csv")
            sample.truth.to_csv(truth, index=False)
            written = [args.path, truth]
        elif args.kind == "two-colour-beads":
            sample = (
                samples.coregistration_sample()
                if args.seed is None
                else samples.coregistration_sample(seed=args.seed)
            )
            sp = sample.spec
            write_ome_tiff(
                args.path,
                sample.data,
                voxel_size_um=sp.voxel_size_um,
                channel_names=[t.name for t in sample.transforms],
                wavelength_ex_nm=[t.wavelength_ex_nm for t in sample.transforms],
                wavelength_em_nm=[t.wavelength_em_nm for t in sample.transforms],
                na=sp.na,
                immersion="oil",
                immersion_index=sp.immersion_index,
                modality=sp.modality,
                overwrite=args.overwrite,
            )
            truth = args.path.with_name(stem + "_truth.csv")
            sample.truth.to_csv(truth, index=False)
            written = [args.path, truth]
        else:
            make = {
                "flat": samples.flat_field_sample,
                "flat-misaligned": samples.flat_field_misaligned_sample,
            }[args.kind]
            sample = make() if args.seed is None else make(seed=args.seed)
            write_ome_tiff(
                args.path, sample.data[None, None], channel_names=["flat"], overwrite=args.overwrite
            )
            written = [args.path]
            if sample.dark is not None:
                dark = args.path.with_name(stem + "_dark.ome.tif")
                write_ome_tiff(
                    dark, sample.dark[None, None], channel_names=["dark"], overwrite=args.overwrite
                )
                written.append(dark)
            truth = args.path.with_name(stem + "_truth.json")
            truth.write_text(json.dumps({**sample.truth, "dust_yx_radius": sample.dust}, indent=2))
            written.append(truth)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``microscope-qc`` console script."""
    logging.getLogger("bioio").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="bioio.*")
    warnings.filterwarnings("ignore", module="bioio_tifffile.*")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for m in MEASUREMENTS.values():
            print(f"{m.name:<16}{m.title}")
        return 0
    if args.command == "sample":
        return _write_sample(args)
    return _run_measurement(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
