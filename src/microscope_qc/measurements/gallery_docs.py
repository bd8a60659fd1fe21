"""The gallery as text: ``sample --list``, napari's menu names, the truth record, docs/gallery.md.

Free of NumPy: ``microscope-qc sample --list`` imports this and the registry only.
"""

from __future__ import annotations

from typing import Any

from microscope_qc.findings import FAULTS
from microscope_qc.measurements import REGISTRY, find_sample
from microscope_qc.measurements.gallery_text import COMMAND_OPTIONS

__all__ = ["GROUPS", "display_name", "gallery_record", "gallery_listing", "gallery_markdown"]

#: the measurement's name in File ▸ Open Sample and in ``sample --list``
GROUPS: dict[str, str] = {
    "psf": "PSF",
    "field": "Field",
    "coregistration": "Co-registration",
    "detector": "Detector",
    "light-source": "Light source",
    "stage": "Stage",
    "resolution": "Resolution",
    "mirror": "Mirror",
    "image-quality": "Image quality",
    "pattern": "Pattern slide",
}


def display_name(key: str) -> str:
    """The sample's name in napari's File ▸ Open Sample menu, e.g. "PSF ▸ Coma: 0.15 waves RMS along x".

    Parameters
    ----------
    key : str
        The sample's key.

    Returns
    -------
    str
        Its display name.
    """
    m, s = find_sample(key)
    return f"{GROUPS.get(m.name, m.name)} ▸ {s.title}"


def gallery_record(key: str) -> dict[str, Any]:
    """The sample's key, title, faults, notes and explanation: what every truth carries.

    Parameters
    ----------
    key : str
        The sample's key.

    Returns
    -------
    dict
        ``{"sample", "measurement", "title", "faults", "notes", "explanation"}``.
    """
    m, s = find_sample(key)
    return {
        "sample": s.key,
        "measurement": m.name,
        "title": s.title,
        "faults": list(s.faults),
        "notes": list(s.notes),
        "explanation": s.explanation,
    }


def gallery_listing() -> str:
    """The gallery as ``microscope-qc sample --list`` prints it: by measurement, one line per sample.

    Returns
    -------
    str
        Lines of key, faults (or "good") and title, under a heading per measurement.
    """
    lines: list[str] = []
    every = [s for m in REGISTRY for s in m.samples]
    width = max(len(s.key) for s in every)
    fault_width = max(len(", ".join(s.faults)) for s in every)
    for m in REGISTRY:
        if not m.samples:
            continue
        lines.append(f"{GROUPS.get(m.name, m.name)} ({m.name})")
        for s in m.samples:
            faults = ", ".join(s.faults) or "good"
            lines.append(f"  {s.key:<{width}}  {faults:<{fault_width}}  {s.title}")
    return "\n".join(lines)


def gallery_markdown() -> str:
    """docs/gallery.md: every sample by measurement, its faults, what to look for and how to run it.

    Returns
    -------
    str
        The Markdown text (``tests/test_gallery.py`` checks that docs/gallery.md is this).
    """
    out = [
        "# The sample gallery",
        "",
        "Synthetic instruments with known truth, good and faulty, for teaching and for testing the",
        "diagnosis. Each is written by `microscope-qc sample KEY FILE` (its truth, with `faults`, `notes` and",
        "`explanation`, goes to `<stem>_truth.json` beside it) and opens from napari's *File ▸ Open",
        'Sample ▸ Microscope QC* (the truth in the layer\'s `metadata["truth"]`).',
        "`microscope-qc sample --list` prints this list. The PSF samples come from a vectorial model",
        "(Gibson–Lanni via `psfmodels`, or a vectorial pupil with Zernike phase for astigmatism, coma",
        "and the dirty lens) with pixel integration, the bead's size, camera offset, Poisson and read",
        "noise; z increases deeper into the sample.",
        "",
        "This page is generated:",
        "`python -c 'from microscope_qc.measurements.gallery_docs import gallery_markdown as g; "
        'print(g(), end="")\' > docs/gallery.md`.',
    ]
    for m in REGISTRY:
        if not m.samples:
            continue
        out += ["", f"## {GROUPS.get(m.name, m.name)} (`microscope-qc {m.name}`)"]
        for s in m.samples:
            stem = s.key.replace("-", "_")
            path = stem + s.suffixes[0]
            options = " ".join(o.format(stem=stem) for o in COMMAND_OPTIONS.get(s.key, ()))
            run = f"microscope-qc {m.name} {path} --out results {options}".rstrip()
            faults = (
                "; ".join(f"**{FAULTS[c].title}** (`{c}`): {FAULTS[c].remedy}" for c in s.faults)
                if s.faults
                else "none (a good instrument)"
            )
            out += [
                "",
                f"### `{s.key}`: {s.title}",
                "",
                s.explanation,
                "",
                f"- Faults: {faults}",
                *(
                    [f"- Noted, within tolerance: {', '.join(f'{FAULTS[c].title} (`{c}`)' for c in s.notes)}"]
                    if s.notes
                    else []
                ),
                f"- Try it: `microscope-qc sample {s.key} {path}`, then `{run}`",
            ]
    return "\n".join(out) + "\n"
