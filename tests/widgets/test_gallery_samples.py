"""Gallery samples through napari's File ▸ Open Sample: the layer carries the truth with its faults,
and the PSF dock pre-fills the optics of a faulty objective from it."""

from __future__ import annotations

import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

PLUGIN = "napari-microscope-qc"


@pytest.mark.parametrize(
    ("key", "faults"), [("psf-spherical-coverslip", ["spherical_aberration"]), ("field-dust", ["dust"])]
)
def test_open_sample_layer_carries_the_truth(make_napari_viewer, key, faults):
    from microscope_qc.measurements import all_samples

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, key)
    layer = viewer.layers[0]
    truth = layer.metadata["truth"]
    assert truth["sample"] == key and truth["faults"] == faults
    assert truth["explanation"] == all_samples()[key][1].explanation
    if key.startswith("psf-"):
        assert tuple(layer.scale) == pytest.approx((0.15, 0.065, 0.065))
        settings = layer.metadata["microscope_qc"]["settings"]
        assert settings["na"] == 1.2 and settings["immersion_index"] == 1.333


def test_psf_dock_prefills_a_gallery_objective(make_napari_viewer, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "psf-spherical-coverslip")
    _, w = ui.open_dock(viewer, "PSF / resolution (beads)")
    assert w.layer_combo.value is viewer.layers[0]
    assert float(w.na.value) == pytest.approx(1.2)


@pytest.mark.parametrize(
    ("key", "dock", "fields"),
    [
        ("image-quality-undersampled", "Image quality (QUAREP WG10)", {"na": "1.4"}),
        (
            "mirror-pinhole-open",
            "Axial resolution from a mirror (MetroloJ)",
            {"na": "1.4", "wavelength": "488"},
        ),
        ("resolution-undersampled", "Resolution without beads (FRC, decorrelation)", {"wavelength": "520"}),
    ],
)
def test_other_docks_prefill_the_optics_a_gallery_layer_carries(make_napari_viewer, ui, key, dock, fields):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, key)
    _, w = ui.open_dock(viewer, dock)
    w.layer_combo.value = viewer.layers[0]
    for name, value in fields.items():
        field = w.optics[name] if hasattr(w, "optics") else getattr(w, name)
        assert field.value == value, name
