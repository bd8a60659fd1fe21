"""The commands around the measurements: ``microscope-qc history ...`` and ``microscope-qc instrument ...``.

Their parsers are built with the others by :func:`microscope_qc.cli.build_parser`; the heavy
modules (the history store, profiles) are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from microscope_qc.cli_messages import EXIT_BAD_INPUT, error_message
from microscope_qc.history import HistoryError
from microscope_qc.measurements import DeferredParser, check_tolerance_metrics, load_checked_profile

if TYPE_CHECKING:
    from microscope_qc.profiles import InstrumentProfile

    _SubParsers = argparse._SubParsersAction[DeferredParser]

__all__ = ["add_history_commands", "run_history", "add_instrument_commands", "run_instrument"]

# -------------------------------------------------------------------------------- history


def _date(text: str) -> str:
    from microscope_qc.periods import PeriodError, period_bound

    try:
        return period_bound(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default_history() -> str:
    from microscope_qc.history.locations import default_history_url  # light: no database driver

    return default_history_url()


def add_history_commands(sub: _SubParsers) -> None:
    """Add ``history`` and its actions (list, show, trend, report, export, import).

    Parameters
    ----------
    sub : argparse sub-parsers
        The top-level command's sub-parsers.
    """
    h = sub.add_parser("history", help="the QC history: list, show, trend, report, export, import")
    h.add_argument(
        "--history",
        metavar="LOCATION",
        help=f"database file or SQLAlchemy URL (default: {_default_history()}; "
        "$MICROSCOPE_QC_HISTORY sets another)",
    )
    hs = h.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    ls = hs.add_parser("list", help="list runs")
    ls.add_argument("--instrument")
    ls.add_argument("--measurement")
    ls.add_argument(
        "--from", dest="start", type=_date, metavar="DATE", help="first day (YYYY-MM-DD), inclusive"
    )
    ls.add_argument("--to", dest="end", type=_date, metavar="DATE", help="last day (YYYY-MM-DD), inclusive")
    sh = hs.add_parser("show", help="one run with its metrics and verdicts")
    sh.add_argument("uuid")
    tr = hs.add_parser("trend", help="a metric over time, with the drift indicator")
    tr.add_argument("--instrument", required=True)
    tr.add_argument("--metric", required=True)
    tr.add_argument("--channel", type=int)
    tr.add_argument("--last", type=int, default=10, help="runs in the drift test (default 10)")
    tr.add_argument("--plot", type=Path, metavar="PNG", help="also draw the trend to this file")
    rp = hs.add_parser("report", help="performance across a period: HTML, PDF, JSON (and an OME companion)")
    rp.add_argument("--instrument", required=True)
    rp.add_argument(
        "--from",
        dest="start",
        type=_date,
        required=True,
        metavar="DATE",
        help="first day (YYYY-MM-DD), inclusive",
    )
    rp.add_argument(
        "--to", dest="end", type=_date, required=True, metavar="DATE", help="last day (YYYY-MM-DD), inclusive"
    )
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument(
        "--ome-companion", action="store_true", help="also write the summary as OME key-value annotations"
    )
    rp.add_argument("--overwrite", action="store_true")
    ex = hs.add_parser("export", help="the whole history as CSV or Parquet")
    ex.add_argument("folder", type=Path)
    ex.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ex.add_argument("--overwrite", action="store_true")
    im = hs.add_parser("import", help="read an export back (runs already present are skipped)")
    im.add_argument("folder", type=Path)


def run_history(args: argparse.Namespace) -> int:
    """Run a ``history`` action.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int
        The exit status (2 with a one-line message when the history cannot be used).
    """
    from microscope_qc.history import HistoryNotFound, HistoryStore, detect_drift

    try:
        cmd = args.history_command
        # only import writes into the history; reading a location that holds none must not create it
        store = HistoryStore(args.history, create=cmd == "import")
        if cmd == "list":
            df = store.runs(args.instrument, args.measurement, args.start, args.end)
            cols = [
                "uuid",
                "instrument",
                "measurement",
                "objective",
                "channel",
                "acquired_at",
                "analysed_at",
                "passed",
            ]
            print(df[cols].to_string(index=False) if len(df) else "no runs")
        elif cmd == "show":
            run = store.run(args.uuid)
            for k, v in run["run"].items():
                if k not in ("id", "settings_json"):
                    print(f"{k:18}{v}")
            print("\nmetrics:\n" + run["metrics"].to_string(index=False))
            print("\nverdicts:\n" + run["verdicts"].to_string(index=False))
        elif cmd == "trend":
            series = store.metric_series(args.instrument, args.metric, args.channel)
            if series.empty:
                print(f"no values of {args.metric} for {args.instrument}")
                return 0
            print(series[["time", "value", "uncertainty", "unit", "passed", "uuid"]].to_string(index=False))
            drift = detect_drift(series, args.last)
            print(drift.text)
            if args.plot:
                from matplotlib.figure import Figure

                from microscope_qc.history.report import draw_trend

                fig = Figure(figsize=(7, 3))
                draw_trend(
                    fig.add_subplot(),
                    series,
                    args.metric,
                    store.thresholds(args.instrument, args.metric),
                    drift,
                )
                fig.tight_layout()
                fig.savefig(args.plot, dpi=100)
                print(f"wrote {args.plot}")
        elif cmd == "report":
            from microscope_qc.history.report import period_report

            rep = period_report(store, args.instrument, args.start, args.end)
            paths = rep.write(args.out, overwrite=args.overwrite, ome_companion=args.ome_companion)
            print(rep.methods_text)
            print("wrote " + ", ".join(str(p) for p in paths.values()))
        elif cmd == "export":
            paths = store.export(args.folder, args.format, args.overwrite)
            print("wrote " + ", ".join(str(p) for p in paths.values()))
        elif cmd == "import":
            print(f"imported {store.import_(args.folder)} new runs")
    except HistoryNotFound as exc:
        print(
            f"error: {exc} Check --history (or $MICROSCOPE_QC_HISTORY), or record runs first with --record.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except (HistoryError, FileExistsError) as exc:
        print(f"error: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


# -------------------------------------------------------------------------------- instruments


def add_instrument_commands(sub: _SubParsers) -> None:
    """Add ``instrument`` and its actions (new, show, edit).

    Parameters
    ----------
    sub : argparse sub-parsers
        The top-level command's sub-parsers.
    """
    ins = sub.add_parser("instrument", help="instrument profiles: new, show, edit")
    isub = ins.add_subparsers(dest="instrument_command", required=True, metavar="ACTION")
    new = isub.add_parser("new", help="create a profile (YAML or JSON by suffix)")
    new.add_argument("path", type=Path)
    new.add_argument("--name", required=True)
    new.add_argument(
        "--modality", default="widefield", choices=["widefield", "confocal", "spinning_disk", "multiphoton"]
    )
    new.add_argument("--facility", default="")
    new.add_argument("--overwrite", action="store_true")
    _add_edit_options(new)
    show = isub.add_parser("show", help="print and validate a profile")
    show.add_argument("path", type=Path)
    edit = isub.add_parser("edit", help="change a profile (validated before it is saved)")
    edit.add_argument("path", type=Path)
    edit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="name, modality, facility or pinhole_au",
    )
    edit.add_argument("--remove-objective", action="append", default=[], metavar="NAME")
    edit.add_argument("--remove-channel", action="append", default=[], metavar="NAME")
    _add_edit_options(edit)


def _add_edit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--objective",
        action="append",
        default=[],
        metavar="NAME:MAG:NA:IMMERSION:INDEX",
        help='e.g. "60x oil:60:1.4:oil:1.518"',
    )
    p.add_argument("--channel", action="append", default=[], metavar="NAME:EX:EM", help='e.g. "GFP:488:520"')
    p.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="METRIC:MIN:MAX",
        help='e.g. "fwhm_x_ratio::1.3" (empty = no limit)',
    )


def _apply_edits(profile: InstrumentProfile, args: argparse.Namespace) -> None:
    from microscope_qc.profiles import ChannelPreset, Objective, ProfileError, Tolerance

    def parts(text: str, n: int, what: str) -> list[str]:
        items = text.split(":")
        if len(items) != n:
            raise ProfileError(f"--{what} {text!r}: expected {n} fields separated by ':'.")
        return items

    def opt(v: str) -> float | None:
        return float(v) if v.strip() else None

    try:
        for text in args.objective:
            name, mag, na, imm, idx = parts(text, 5, "objective")
            profile.objectives = [o for o in profile.objectives if o.name != name]
            profile.objectives.append(Objective(name, float(mag), float(na), imm, float(idx)))
        for text in args.channel:
            name, ex, em = parts(text, 3, "channel")
            profile.channels = [c for c in profile.channels if c.name != name]
            profile.channels.append(ChannelPreset(name, opt(ex), opt(em)))
        for text in args.tolerance:
            metric, lo, hi = parts(text, 3, "tolerance")
            profile.tolerances = [t for t in profile.tolerances if t.metric != metric]
            profile.tolerances.append(Tolerance(metric, opt(lo), opt(hi)))
    except ValueError as exc:
        raise ProfileError(f"Not a number: {exc}") from None


def run_instrument(args: argparse.Namespace) -> int:
    """Run an ``instrument`` action.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int
        The exit status (2 with a one-line message when the profile is not valid).
    """
    from microscope_qc.profiles import InstrumentProfile, ProfileError, save_profile

    try:
        if args.instrument_command == "new":
            profile = InstrumentProfile(name=args.name, modality=args.modality, facility=args.facility)
            _apply_edits(profile, args)
            check_tolerance_metrics(profile, "--tolerance")
            print(f"wrote {save_profile(profile, args.path, overwrite=args.overwrite)}")
        elif args.instrument_command == "show":
            import yaml

            print(
                yaml.safe_dump(load_checked_profile(args.path).to_dict(), sort_keys=False, allow_unicode=True)
            )
        else:
            profile = load_checked_profile(args.path)
            for item in args.set:
                key, _, value = item.partition("=")
                if key not in ("name", "modality", "facility", "pinhole_au"):
                    raise ProfileError(
                        f"--set {key}: only name, modality, facility and pinhole_au can be set this way."
                    )
                if key == "pinhole_au":
                    try:
                        setattr(profile, key, float(value) if value.strip() else None)
                    except ValueError:
                        raise ProfileError(
                            f"--set pinhole_au: the pinhole is a number of Airy units, not {value!r}."
                        ) from None
                else:
                    setattr(profile, key, value)
            profile.objectives = [o for o in profile.objectives if o.name not in args.remove_objective]
            profile.channels = [c for c in profile.channels if c.name not in args.remove_channel]
            _apply_edits(profile, args)
            check_tolerance_metrics(profile, "--tolerance")
            print(f"wrote {save_profile(profile, args.path, overwrite=True)}")
    except (ProfileError, FileExistsError) as exc:
        print(f"error: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
