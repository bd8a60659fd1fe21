"""Acquisition metadata of plain (non-OME) TIFF files and their acquisition logs, each value with its origin.

OME-TIFF goes through bioio's OME reader (:mod:`microscope_qc.io`); everything else a TIFF
writer leaves behind is read here with tifffile, in this order of precedence per axis:

1. **Micro-Manager**: the per-image ``MicroManagerMetadata`` tag (51123, JSON) ``PixelSizeUm``
   (or ``PixelSize_um``), and the dataset summary (from the file header, or embedded in the
   image metadata by Micro-Manager 1.4) ``PixelSize_um``, ``PixelAspect``, ``z-step_um`` and
   ``StartTime``/``Time``.
2. **ImageJ** hyperstack description: ``unit`` (``yunit``, ``zunit`` where they differ) with
   XResolution/YResolution in pixels per unit, and ``spacing`` for z.
3. **MetaMorph MetaSeries** XML description: ``spatial-calibration-x``/``-y`` with
   ``spatial-calibration-units``, and ``acquisition-time-local``.
4. **tifffile's JSON description** (tifffile's default writer): ``PhysicalSizeX``/``Y``/``Z``
   with ``PhysicalSize?Unit`` (µm when absent), the names tifffile's OME writer uses.
5. **Amira-style** ``BoundingBox xmin xmax ymin ymax zmin zmax`` description (Amira, MIB, the
   Janelia LabVIEW acquisition software): extents in µm between the first and last voxel
   centres, so a voxel is extent / (N − 1) as Amira and MIB read it (a single plane has no z).
6. **TIFF resolution tags** with a real ResolutionUnit: inch, centimetre, and the DNG
   millimetre/micrometre extensions (a screen DPI, more than 100 µm per pixel, is ignored).
   ResolutionUnit "none" is no unit: such files get no pixel size.

Acquisition logs beside the TIFF: a Janelia lattice light-sheet ``<prefix>_Settings.txt``
(``prefix`` a prefix of the TIFF's name) gives the acquisition date, the excitation laser of
the TIFF's channel (``_ch<N>_`` in its name, or the only one) and, as extras, the detection
magnification and the camera model.
"""

from __future__ import annotations

import re
import struct
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "UM_PER_UNIT",
    "length_unit_um",
    "bounding_box_voxel_um",
    "read_tiff_metadata",
    "read_settings_log",
]

#: A found value and the metadata path it came from.
Found = tuple[Any, str]

#: µm per unit for the length units TIFF writers use.
UM_PER_UNIT = {
    "um": 1.0,
    "µm": 1.0,
    "micron": 1.0,
    "microns": 1.0,
    "micrometer": 1.0,
    "micrometre": 1.0,
    "nm": 1e-3,
    "nanometer": 1e-3,
    "nanometre": 1e-3,
    "mm": 1e3,
    "millimeter": 1e3,
    "millimetre": 1e3,
    "cm": 1e4,
    "m": 1e6,
}

#: µm per unit of the TIFF ResolutionUnit values (2 inch, 3 cm; 4 mm and 5 µm are DNG extensions).
_RESOLUTION_UNIT_UM = {2: ("inch", 25400.0), 3: ("cm", 1e4), 4: ("mm", 1e3), 5: ("µm", 1.0)}

_BOUNDING_BOX = re.compile(r"BoundingBox((?:\s+[-+0-9.eE]+){6})")


def length_unit_um(unit: object) -> float | None:
    r"""µm per ``unit`` (ImageJ, Micro-Manager, OME spellings, incl. ``\u00B5m`` and the Greek µ), or None.

    Parameters
    ----------
    unit : object
        The unit as the file spells it.

    Returns
    -------
    float or None
        The factor to µm; None for unknown units (``pixel``, ``inch`` in ImageJ, empty).
    """
    text = str(unit or "").strip().lower().replace("\\u00b5", "µ").replace("\u03bc", "µ")
    return UM_PER_UNIT.get(text)


def bounding_box_voxel_um(description: str, sizes: tuple[int, int, int]) -> tuple[float | None, ...] | None:
    """(z, y, x) voxel size from an Amira-style ``BoundingBox`` description, or None if there is none.

    Parameters
    ----------
    description : str
        The TIFF ImageDescription.
    sizes : tuple of 3 int
        (Z, Y, X) number of planes, rows and columns.

    Returns
    -------
    tuple of float or None, or None
        (max − min) / (N − 1) per axis in µm; None for an axis with one sample or no extent.
    """
    match = _BOUNDING_BOX.search(description or "")
    if match is None:
        return None
    x0, x1, y0, y1, z0, z1 = (float(v) for v in match.group(1).split())
    out = []
    for lo, hi, n in ((z0, z1, sizes[0]), (y0, y1, sizes[1]), (x0, x1, sizes[2])):
        step = (hi - lo) / (n - 1) if n > 1 else 0.0
        out.append(step if step > 0 else None)
    return tuple(out)


def _positive(value: object) -> float | None:
    try:
        v = abs(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if 0 < v < float("inf") else None


def _iso_date(value: object, formats: tuple[str, ...]) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    for fmt in formats:
        try:
            return datetime.strptime(str(value).strip(), fmt).isoformat()
        except ValueError:
            continue
    return None


#: Values at byte 8 of a Micro-Manager file: its index-map header (multipage TIFF) or NDTiff's.
_MICROMANAGER_HEADERS = (54773648, 483729)


def _micromanager(tif: Any, page: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(image metadata, summary) of a Micro-Manager TIFF; empty dicts when absent."""
    import tifffile

    tag = page.tags.get(51123)
    image = tag.value if tag is not None and isinstance(tag.value, dict) else {}
    summary: dict[str, Any] = {}
    if image:
        try:  # the summary in the file header, which only Micro-Manager's own writer puts there
            fh = tif.filehandle
            fh.seek(8)
            if struct.unpack(tif.byteorder + "I", fh.read(4))[0] in _MICROMANAGER_HEADERS:
                header = tifffile.read_micromanager_metadata(fh, keys={"Summary"})
                summary = dict(header.get("Summary") or {})
        except Exception:  # a damaged header must not stop reading the tags
            summary = {}
    if not summary and isinstance(image.get("Summary"), dict):
        summary = dict(image["Summary"])  # Micro-Manager 1.4 repeats it in every image's metadata
    return image, summary


def read_tiff_metadata(path: str | Path, sizes: tuple[int, int, int]) -> dict[str, Found]:
    """Voxel size and acquisition details a plain TIFF records, with where each was found.

    Parameters
    ----------
    path : str or Path
        The TIFF file.
    sizes : tuple of 3 int
        (Z, Y, X) size of the image (for extents such as ``BoundingBox``).

    Returns
    -------
    dict
        ``voxel_size_um`` ((z, y, x), elements None where unknown), ``acquisition_date`` (ISO
        8601): each a (value, origin) pair, present only when found. Unreadable files give {}.
    """
    import tifffile

    out: dict[str, Found] = {}
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if not isinstance(page, tifffile.TiffPage):
                return out
            description = page.description or ""
            ij = tif.imagej_metadata or {}
            mm_image, mm_summary = _micromanager(tif, page)
            metaseries = tif.metaseries_metadata if page.is_metaseries else None
            shaped = (tif.shaped_metadata or ({},))[0] or {}
            res = [page.tags.get(n) for n in ("XResolution", "YResolution", "ResolutionUnit")]
            x_res, y_res = (t.value if t is not None else None for t in res[:2])
            res_unit = int(res[2].value) if res[2] is not None else 1
    except Exception:  # metadata must never stop reading the pixels
        return out

    def per_pixel(resolution: Any, um_per_unit: float) -> float | None:
        if not resolution or resolution[0] <= 0:
            return None
        return float(um_per_unit * resolution[1] / resolution[0])

    xy: list[tuple[float | None, float | None, str]] = []
    z: list[tuple[float, str]] = []
    # 1. Micro-Manager
    size = _positive(mm_image.get("PixelSizeUm", mm_image.get("PixelSize_um")))
    where = "Micro-Manager image metadata PixelSizeUm"
    if size is None:
        size = _positive(mm_summary.get("PixelSize_um", mm_summary.get("PixelSizeUm")))
        where = "Micro-Manager summary PixelSize_um"
    if size is not None:
        aspect = _positive(mm_summary.get("PixelAspect")) or 1.0
        xy.append((size * aspect, size, where + (f" × PixelAspect {aspect:g} (y)" if aspect != 1 else "")))
    step = _positive(mm_summary.get("z-step_um"))
    if step is not None:
        z.append((step, "Micro-Manager summary z-step_um"))
    # 2. ImageJ
    if ij:
        unit = ij.get("unit")
        scale, scale_y = length_unit_um(unit), length_unit_um(ij.get("yunit", unit))
        if scale is not None and scale_y is not None:
            px, py = per_pixel(x_res, scale), per_pixel(y_res, scale_y)
            if px is not None and py is not None:
                xy.append((py, px, f"ImageJ unit={unit} with TIFF XResolution/YResolution"))
        zscale = length_unit_um(ij.get("zunit", unit))
        spacing = _positive(ij.get("spacing"))
        if zscale is not None and spacing is not None:
            z.append((spacing * zscale, f"ImageJ spacing (unit={ij.get('zunit', unit)})"))
    # 3. MetaMorph MetaSeries
    plane = (metaseries or {}).get("PlaneInfo") or {}
    ms_scale = length_unit_um(plane.get("spatial-calibration-units"))
    ms_x, ms_y = (_positive(plane.get(f"spatial-calibration-{a}")) for a in "xy")
    if ms_scale is not None and ms_x is not None and ms_y is not None:
        xy.append((ms_y * ms_scale, ms_x * ms_scale, "MetaSeries spatial-calibration-x/-y"))
    # 4. tifffile JSON description
    sh = {}
    for axis in "XYZ":
        value = _positive(shaped.get(f"PhysicalSize{axis}"))
        factor = length_unit_um(shaped.get(f"PhysicalSize{axis}Unit", "µm"))
        sh[axis] = value * factor if value is not None and factor is not None else None
    if sh["X"] is not None and sh["Y"] is not None:
        xy.append((sh["Y"], sh["X"], "tifffile description PhysicalSizeX/Y"))
    if sh["Z"] is not None:
        z.append((sh["Z"], "tifffile description PhysicalSizeZ"))
    # 5. Amira-style BoundingBox
    box = bounding_box_voxel_um(description, sizes)
    if box is not None:
        where = "ImageDescription BoundingBox (µm, first to last voxel centre: extent / (N − 1))"
        if box[1] is not None and box[2] is not None:
            xy.append((box[1], box[2], where))
        if box[0] is not None:
            z.append((box[0], where))
    # 6. TIFF resolution tags with a unit (unless ImageJ gave them its own unit above)
    if res_unit in _RESOLUTION_UNIT_UM and not (ij and length_unit_um(ij.get("unit")) is not None):
        name, factor = _RESOLUTION_UNIT_UM[res_unit]
        px, py = per_pixel(x_res, factor), per_pixel(y_res, factor)
        if px is not None and py is not None and not (res_unit == 2 and px > 100):
            xy.append((py, px, f"TIFF XResolution/YResolution (pixels per {name})"))

    if xy or z:
        (y_um, x_um, xy_origin) = xy[0] if xy else (None, None, "")
        (z_um, z_origin) = z[0] if z else (None, "")
        if xy_origin == z_origin:
            origin = xy_origin
        else:
            origin = "; ".join(
                o for o in (f"{xy_origin} (y, x)" if xy else "", f"{z_origin} (z)" if z else "") if o
            )
        out["voxel_size_um"] = ((z_um, y_um, x_um), origin)

    date = mm_summary.get("StartTime") or mm_summary.get("Time")
    iso = (
        _iso_date(date, ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"))
        if date
        else None
    )
    if iso:
        key = "StartTime" if mm_summary.get("StartTime") else "Time"
        out["acquisition_date"] = (iso, f"Micro-Manager summary {key}")
    elif plane.get("acquisition-time-local") is not None:
        iso = _iso_date(plane["acquisition-time-local"], ("%Y%m%d %H:%M:%S.%f",))
        if iso:
            out["acquisition_date"] = (iso, "MetaSeries acquisition-time-local")
    return out


_LASER_LINE = re.compile(r"^Excitation Filter, Laser, Power \(%\), Exp\(ms\) \((\d+)\)\s*:\s*(.*)$")


def read_settings_log(tiff: str | Path) -> dict[str, Found]:
    """What a Janelia lattice light-sheet ``<prefix>_Settings.txt`` beside ``tiff`` records.

    Parameters
    ----------
    tiff : str or Path
        The image file; the log is the ``*_Settings.txt`` in its folder whose prefix starts the
        image's name (the longest such prefix).

    Returns
    -------
    dict
        ``acquisition_date`` (ISO 8601), ``wavelength_ex_nm`` (one-element list: the laser of
        the image's channel), ``detection_magnification``, ``camera_model``: (value, origin)
        pairs, present only when found. {} without a log.
    """
    tiff = Path(tiff)
    try:
        logs = [
            p
            for p in tiff.parent.glob("*_Settings.txt")
            if tiff.stem.startswith(p.name[: -len("_Settings.txt")])
        ]
    except OSError:
        return {}
    if not logs:
        return {}
    log = max(logs, key=lambda p: len(p.name))
    try:
        text = log.read_text(encoding="latin-1")
    except OSError:
        return {}
    out: dict[str, Found] = {}
    lasers: dict[int, float] = {}
    section = ""
    for raw in text.replace("\r", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("*****"):
            section = line.strip("* ").strip()
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "General" and line.startswith("Date") and ":" in line:
            iso = _iso_date(line.split(":", 1)[1], ("%m/%d/%Y %I:%M:%S %p",))
            if iso:
                out["acquisition_date"] = (iso, f"{log.name}: General / Date")
        elif (m := _LASER_LINE.match(line)) is not None:
            fields = m.group(2).split()
            laser = _positive(fields[1]) if len(fields) > 1 else None
            if laser is not None:
                lasers[int(m.group(1))] = laser
        elif section == "Camera" and line.startswith("Model") and ":" in line:
            out["camera_model"] = (line.split(":", 1)[1].strip(), f"{log.name}: Camera / Model")
        elif section == "Detection optics" and line.startswith("Magnification ="):
            mag = _positive(line.split("=", 1)[1])
            if mag is not None:
                out["detection_magnification"] = (mag, f"{log.name}: [Detection optics] Magnification")
    channel = re.search(r"_ch(\d+)_", tiff.name)
    chosen = int(channel.group(1)) if channel else (next(iter(lasers)) if len(lasers) == 1 else None)
    if chosen is not None and chosen in lasers:
        out["wavelength_ex_nm"] = (
            [lasers[chosen]],
            f"{log.name}: Excitation Filter, Laser, Power (%), Exp(ms) ({chosen}) — the laser line",
        )
    return out
