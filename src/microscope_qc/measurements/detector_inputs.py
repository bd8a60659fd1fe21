"""The detector command's inputs: folders of frames, the frame table, dark files, regions.

* A folder is one series: its TIFF files in name order (``frames.csv`` or ``frames.yaml`` in it
  is its frame table unless ``--frame-table`` names one).
* Every plane of every file is a frame, in order (time points, then channels, then z), read
  one at a time (:class:`LazyFrames`).
* The frame table (CSV or YAML) gives each frame's exposure time, photons and kind; one row per
  frame, one row per pair, or a ``frames`` column saying how many consecutive frames a row covers.
* Regions: rectangles ``y0,x0,y1,x1`` (corner pixels included) or ImageJ ROI files (``.roi``) and
  ROI sets (``.zip``) read with ``roifile``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from microscope_qc.io import ImageData

__all__ = [
    "IMAGE_SUFFIXES",
    "expand_inputs",
    "LazyFrames",
    "FrameTable",
    "read_frame_table",
    "find_frame_table",
    "parse_roi_spec",
    "imagej_roi_masks",
]

IMAGE_SUFFIXES = (".tif", ".tiff")
_TABLE_NAMES = ("frames.csv", "frames.yaml", "frames.yml")


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Replace each folder by its TIFF files in name order (an empty folder stays, to be refused by the reader).

    Parameters
    ----------
    paths : list of Path
        Files and folders as given.

    Returns
    -------
    list of Path
        Files.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            out.extend(files or [p])
        else:
            out.append(p)
    return out


class LazyFrames:
    """Every plane of a list of opened images as a sequence of (Y, X) frames, each read when indexed.

    Parameters
    ----------
    images : list of ImageData
        The opened images (their data lazy, (C, Z, Y, X)).
    channels : list of int, optional
        Only these channels.
    """

    def __init__(self, images: list[ImageData], channels: list[int] | None = None) -> None:
        self._planes: list[tuple[Any, int, int]] = []
        for im in images:
            c_count, z_count = int(im.data.shape[0]), int(im.data.shape[1])
            for c in channels if channels is not None else range(c_count):
                if not 0 <= c < c_count:
                    raise AnalysisError(f"{im.path}: channel {c} does not exist (it has {c_count}).")
                for z in range(z_count):
                    self._planes.append((im.data, c, z))
        self.dtype = images[0].dtype if images else None

    def __len__(self) -> int:
        return len(self._planes)

    def __getitem__(self, i: int) -> npt.NDArray[Any]:
        import numpy as np

        data, c, z = self._planes[i]
        return np.asarray(data[c, z])


class FrameTable:
    """Per-frame exposure time (ms), photons and dark flag, as read from a frame table."""

    def __init__(
        self,
        exposure_ms: list[float] | None,
        photons: list[float] | None,
        dark: list[bool] | None,
        source: str,
    ) -> None:
        self.exposure_ms = exposure_ms
        self.photons = photons
        self.dark = dark
        self.source = source


_EXPOSURE_COLUMNS = {"exposure_ms": 1.0, "exposure_s": 1000.0, "exposure_us": 0.001}


def _rows_of(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"Cannot read the frame table {path} ({exc}).") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AnalysisError(f"The frame table {path} is not valid YAML ({exc}).") from None
        if isinstance(doc, dict):
            doc = doc.get("frames")
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise AnalysisError(
                f"The frame table {path} must be a list of rows (or 'frames:' holding one), each with exposure_ms, "
                "and optionally photons, kind and frames."
            )
        return [{str(k).strip().lower(): v for k, v in r.items()} for r in doc]
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise AnalysisError(f"The frame table {path} is empty.")
    return [{str(k).strip().lower(): v for k, v in r.items() if k is not None} for r in reader]


def _number(value: Any, column: str, row: int, path: Path) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise AnalysisError(
            f"Frame table {path}, row {row + 1}: {column} is {value!r}, not a number."
        ) from None
    if not math.isfinite(x) or x < 0:
        raise AnalysisError(
            f"Frame table {path}, row {row + 1}: {column} must be a finite number ≥ 0, not {value!r}."
        )
    return x


def read_frame_table(path: Path, n_frames: int) -> FrameTable:
    """Read a frame table and expand it to one entry per frame.

    Parameters
    ----------
    path : Path
        A CSV (header row) or YAML (list of mappings) file with ``exposure_ms`` (or ``exposure_s``,
        ``exposure_us``), and optionally ``photons``, ``kind`` (bright or dark) and ``frames``.
    n_frames : int
        The number of frames in the series.

    Returns
    -------
    FrameTable
        Per-frame values.

    Raises
    ------
    AnalysisError
        An unreadable table, a missing or non-numeric column, an unknown kind, or a row count
        that does not fit the frames.
    """
    rows = _rows_of(path)
    if not rows:
        raise AnalysisError(f"The frame table {path} has no rows.")
    columns = set(rows[0])
    exp_col = next((c for c in _EXPOSURE_COLUMNS if c in columns), None)
    if exp_col is None and "photons" not in columns:
        raise AnalysisError(
            f"The frame table {path} needs an exposure_ms (or exposure_s, exposure_us) column, or photons; it has "
            f"{', '.join(sorted(columns))}."
        )
    if "frames" in columns:
        counts = [int(_number(r.get("frames"), "frames", i, path)) for i, r in enumerate(rows)]
    elif len(rows) == n_frames:
        counts = [1] * len(rows)
    elif 2 * len(rows) == n_frames:
        counts = [2] * len(rows)
    else:
        raise AnalysisError(
            f"The frame table {path} has {len(rows)} rows for {n_frames} frames: give one row per frame, one per "
            "pair, or a 'frames' column with how many consecutive frames each row describes."
        )
    if sum(counts) != n_frames:
        raise AnalysisError(
            f"The frame table {path} describes {sum(counts)} frames but the series has {n_frames}."
        )
    exposure: list[float] | None = [] if exp_col else None
    photons: list[float] | None = [] if "photons" in columns else None
    dark: list[bool] | None = [] if "kind" in columns else None
    for i, (r, n) in enumerate(zip(rows, counts, strict=True)):
        if exposure is not None and exp_col is not None:
            exposure += [_number(r.get(exp_col), exp_col, i, path) * _EXPOSURE_COLUMNS[exp_col]] * n
        if photons is not None:
            photons += [_number(r.get("photons"), "photons", i, path)] * n
        if dark is not None:
            kind = str(r.get("kind", "")).strip().lower()
            if kind not in ("bright", "dark"):
                raise AnalysisError(
                    f"Frame table {path}, row {i + 1}: kind is {r.get('kind')!r}; use bright or dark."
                )
            dark += [kind == "dark"] * n
    return FrameTable(exposure, photons, dark, str(path))


def find_frame_table(paths: list[Path]) -> Path | None:
    """The frame table beside a series: ``<stem>_frames.csv|yaml`` next to its first file, or ``frames.csv|yaml`` in its folder.

    Parameters
    ----------
    paths : list of Path
        The series' files.

    Returns
    -------
    Path or None
        The table, if one exists.
    """
    if not paths:
        return None
    first = paths[0]
    stem = first.name.split(".")[0]
    for name in (f"{stem}_frames.csv", f"{stem}_frames.yaml", f"{stem}_frames.yml", *_TABLE_NAMES):
        candidate = first.parent / name
        if candidate.is_file():
            return candidate
    return None


def parse_roi_spec(text: str) -> list[tuple[str, Any]]:
    """Parse one ``--roi``: a rectangle ``y0,x0,y1,x1`` (pixels, corners included) or an ImageJ ``.roi``/``.zip``.

    Parameters
    ----------
    text : str
        The SPEC as given.

    Returns
    -------
    list of (name, spec)
        ``spec`` is ``("rect", (y0, x0, y1, x1))`` or ``("imagej", ImagejRoi)``; masks are made
        when the frame size is known (:func:`roi_masks`).

    Raises
    ------
    AnalysisError
        Neither a valid rectangle nor a readable ImageJ ROI file.
    """
    example = "e.g. --roi 10,10,60,60 or --roi RoiSet.zip"
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 4:
        try:
            y0, x0, y1, x1 = (int(p) for p in parts)
        except ValueError:
            raise AnalysisError(
                f"--roi {text!r}: a rectangle is four whole numbers y0,x0,y1,x1 ({example})."
            ) from None
        if not (0 <= y0 <= y1 and 0 <= x0 <= x1):
            raise AnalysisError(f"--roi {text!r}: need 0 ≤ y0 ≤ y1 and 0 ≤ x0 ≤ x1 ({example}).")
        return [(f"rectangle {y0},{x0},{y1},{x1}", ("rect", (y0, x0, y1, x1)))]
    path = Path(text)
    if path.suffix.lower() in (".roi", ".zip"):
        if not path.is_file():
            raise AnalysisError(f"--roi {text!r}: no such file ({example}).")
        import roifile

        try:
            rois = roifile.roiread(path)
        except Exception as exc:  # noqa: BLE001 (roifile raises several types for a damaged file)
            raise AnalysisError(
                f"--roi {text!r}: not an ImageJ ROI file ({type(exc).__name__}: {exc})."
            ) from None
        rois = rois if isinstance(rois, list) else [rois]
        if not rois:
            raise AnalysisError(f"--roi {text!r}: the ROI set is empty.")
        return [(r.name or f"{path.stem} #{i + 1}", ("imagej", r)) for i, r in enumerate(rois)]
    raise AnalysisError(
        f"--roi {text!r}: not a rectangle y0,x0,y1,x1 nor an ImageJ .roi/.zip file ({example})."
    )


def imagej_roi_masks(rois: list[Any], shape: tuple[int, int]) -> list[npt.NDArray[np.bool_]]:
    """Masks of ImageJ ROIs as ImageJ fills them: rectangles exactly, other shapes by pixel centre.

    A rectangle covers ``[top, bottom) × [left, right)``; an oval the pixels whose centre lies
    inside the ellipse of its bounding box; a polygon (or freehand, traced) those whose centre
    lies inside it (ImageJ's polygon filler uses the same pixel-centre rule; its ovals may differ
    by an edge pixel).

    Parameters
    ----------
    rois : list of roifile.ImagejRoi
        The ROIs.
    shape : (int, int)
        The frame's (Y, X).

    Returns
    -------
    list of ndarray
        One boolean mask per ROI.

    Raises
    ------
    AnalysisError
        A line or point ROI (no area) or one outside the frame.
    """
    import numpy as np
    from roifile import ROI_TYPE
    from skimage.draw import polygon2mask

    out = []
    h, w = shape
    for r in rois:
        name = r.name or "ROI"
        mask = np.zeros(shape, bool)
        t = r.roitype
        if t == ROI_TYPE.RECT and not r.subpixelresolution:
            mask[max(r.top, 0) : min(r.bottom, h), max(r.left, 0) : min(r.right, w)] = True
        elif t == ROI_TYPE.OVAL:
            cy, cx = (r.top + r.bottom) / 2, (r.left + r.right) / 2
            ry, rx = (r.bottom - r.top) / 2, (r.right - r.left) / 2
            yy, xx = np.mgrid[0:h, 0:w]
            mask = ((yy + 0.5 - cy) / ry) ** 2 + ((xx + 0.5 - cx) / rx) ** 2 <= 1.0
        elif t in (ROI_TYPE.POLYGON, ROI_TYPE.FREEHAND, ROI_TYPE.TRACED, ROI_TYPE.RECT):
            xy = np.asarray(r.coordinates(), float)
            mask = polygon2mask(shape, np.column_stack([xy[:, 1] - 0.5, xy[:, 0] - 0.5]))
        else:
            raise AnalysisError(
                f"ImageJ ROI {name!r} is a {t.name.lower()}, not an area: draw a rectangle, oval or polygon."
            )
        if not mask.any():
            raise AnalysisError(f"ImageJ ROI {name!r} lies outside the {h} × {w} frames.")
        out.append(np.asarray(mask, bool))
    return out


def roi_masks(
    specs: list[tuple[str, Any]], shape: tuple[int, int]
) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """Masks of parsed ``--roi`` specs for frames of ``shape``.

    Parameters
    ----------
    specs : list of (name, spec)
        From :func:`parse_roi_spec`.
    shape : (int, int)
        The frame's (Y, X).

    Returns
    -------
    list of (name, mask)
        The regions.

    Raises
    ------
    AnalysisError
        A rectangle outside the frame.
    """
    import numpy as np

    out = []
    for name, (kind, value) in specs:
        if kind == "rect":
            y0, x0, y1, x1 = value
            if y1 >= shape[0] or x1 >= shape[1]:
                raise AnalysisError(f"--roi {name}: outside the {shape[0]} × {shape[1]} frames.")
            mask = np.zeros(shape, bool)
            mask[y0 : y1 + 1, x0 : x1 + 1] = True
            out.append((name, mask))
        else:
            out.append((name, imagej_roi_masks([value], shape)[0]))
    return out
