"""What each gallery sample shows and what to look for: one paragraph per sample key (the workshop's text).

Kept apart from the entries so that the registry stays readable; ``docs/gallery.md`` is
generated from these and the entries' faults (``tests/test_gallery.py`` checks it is current).
"""

from __future__ import annotations

__all__ = ["EXPLANATIONS", "COMMAND_OPTIONS", "PSF_GALLERY_KEYS"]

EXPLANATIONS: dict[str, str] = {
    # ---------------------------------------------------------------------------------- PSF
    "psf-beads": (
        "The classic teaching stack: 24 beads with a Gaussian PSF of known width (lateral FWHM "
        "0.22 µm, axial 0.65 µm), Poisson and read noise, five hot pixels. Nothing is wrong: the "
        "measured FWHM should match the truth table within its standard error."
    ),
    "psf-aberrated": (
        "Gaussian beads on a focal plane tilted by 0.01/0.02 µm per µm (y/x) with 0.6 µm of field "
        "curvature; the spot is also elliptical (FWHM 1.4:1, long axis at 30°) and stays so through "
        "focus. Look at the focus map: a plane plus a bowl. The elliptical spot is not astigmatism: "
        "astigmatism gives two line foci at different depths, at right angles, with a round spot "
        "between them, and the analysis finds no focal separation here. A spot elongated the same "
        "way at every depth points to the acquisition (drift or vibration during the exposure, "
        "anisotropic pixels), not to one optical aberration, so no fault is named for it."
    ),
    "psf-good": (
        "A good NA 1.4 oil objective imaging 100 nm beads in an index-matched medium, rendered from "
        "the vectorial Gibson–Lanni model with pixel integration, bead size, camera offset and "
        "noise. Lateral FWHM about 0.22 µm and axial about 0.52 µm (model values in the truth); "
        "the axial profile is symmetric and the focus is flat across the field. Use it as the "
        "reference the faulty objectives are compared with."
    ),
    "psf-spherical-water": (
        "The same oil objective focused 6 µm into water (refractive-index mismatch −0.19): "
        "spherical aberration. The axial profile is stretched to about twice the design FWHM and "
        "is asymmetric, a long tail towards the coverslip (negative axial asymmetry, z deeper "
        "positive) and interference side lobes deeper in; the peak is dimmer and the focus lies "
        "0.66 µm deeper on the stage than the bead. Check the immersion medium, use a silicone or "
        "water objective for deep aqueous samples, or mount in an index-matched medium."
    ),
    "psf-spherical-coverslip": (
        "A water-immersion objective (NA 1.2) with its correction collar at 170 µm, used with a "
        "140 µm (#1) coverslip: 30 µm too thin. Spherical aberration again, stronger than the "
        "index mismatch: the axial FWHM is three times the design value, with the long tail "
        "towards the coverslip. A thicker-than-design coverslip gives the opposite sign. Check the "
        "coverslip (#1.5H, 170 µm) and set the collar."
    ),
    "psf-astigmatism": (
        "Astigmatism of 0.15 waves RMS with its axis at 30° (a stressed filter, a tilted element), "
        "rendered from a vectorial pupil with a Zernike phase. Above and below focus the bead "
        "stretches into two perpendicular lines; the two line foci are 0.47 µm apart (truth: "
        "line_focus_*). In focus the spot is round but wide. Look at the XY views of planes above "
        "and below focus and at the astigmatic focal separation and its axis."
    ),
    "psf-coma": (
        "Coma of 0.08 waves RMS along +x (a decentred lens, a tilted coverslip): the spot grows a "
        "comet tail towards +x and its centroid moves the same way, +x, both above and below "
        "focus (0.15 µm at ±0.5 µm for a centroid in a 0.35 µm Gaussian window, truth: "
        "centroid_shift_*), so the XZ view bends like a banana. The lateral FWHM is wider along x "
        "than along y."
    ),
    "psf-tilt": (
        "A good objective, but the beads' focus climbs 0.04 µm for every µm along x (2.3°): a "
        "tilted coverslip or stage insert. Each bead is fine; the focus map is a tilted plane with "
        "0.8 µm between the left and right edges. Level the sample holder."
    ),
    "psf-field-curvature": (
        "A good PSF on a curved focal surface: the focus is 1 µm deeper at the field corners than "
        "at the centre (a paraboloid), as with a non-plan objective. The focus map is a bowl; "
        "beads at the edge look out of focus in the central plane."
    ),
    "psf-dirty-objective": (
        "A dirty front lens, modelled as a smooth random phase over the pupil (0.12 waves RMS, "
        "correlated over a tenth of its radius, its low-order Zernike terms removed): light is "
        "scattered out of the core into a halo. The core's FWHM barely changes, but the peak drops "
        "to 0.57 of a clean objective's (Strehl ratio, as Maréchal predicts) and 37 % of the "
        "in-focus light lies beyond 0.5 µm of the peak (8 % when clean). Look for low contrast, a "
        "speckled halo and a low signal-to-background for the photons; the PSF analysis, given the "
        "100 nm bead size, reads a Strehl ratio near 0.57 that no measured aberration explains (0.54 "
        "without the bead size), and a halo fraction four times a clean lens's. Clean the lens."
    ),
    "psf-undersampled": (
        "The good objective recorded with 130 nm pixels (e.g. 2 × 2 binning): the Nyquist pixel "
        "for NA 1.4 at 520 nm is λ/(4 NA) = 93 nm, so the pixel is 1.4 × too large. Beads are "
        "about two pixels wide; the FWHM fit is less precise and biased by pixelation. Turn binning "
        "off or zoom in."
    ),
    "psf-saturated": (
        "The good objective recorded too bright on a 16-bit camera: ten of the sixteen beads' "
        "peaks clip at 65535 (truth: saturated_beads). Clipped peaks are flat-topped, so fitted widths are too "
        "large and intensities wrong. Lower the exposure, the gain or the laser power."
    ),
    # -------------------------------------------------------------------------------- field
    "flat-field": (
        "A typical widefield flat of a fluorescent slide: the illumination centre 20 px off, "
        "about 25 % fall-off to the corners, six small dust specks dimming up to 30 %, and a dark "
        "image with a 100 ADU offset. Look at the dust map: the specks cover far less than 1 % of "
        "the field, so the findings note them rather than fail the instrument; a flat-field "
        "correction removes them as long as they stay put."
    ),
    "flat-field-misaligned": (
        "A badly misaligned lamp: the illumination centre near the top-right corner and strong "
        "fall-off across the field, plus three dust specks. The illumination-centre marker sits "
        "far from the image centre and the profiles are lopsided; realign the lamp or fibre and "
        "the field diaphragm. The misalignment is the fault: the uneven field follows from it (the "
        "findings say to realign first and measure again) and the specks are only noted."
    ),
    "field-good": (
        "A well-aligned lamp: illumination centred, about 17 % fall-off to the corners, no dust, "
        "a 100 ADU dark offset removed by the dark image. Nothing to fix."
    ),
    "field-off-centre": (
        "A misaligned fibre: the illumination centre is at (20, 490) px, near the top-right corner "
        "(92 % of the half-diagonal from the image centre), no dust. The centring accuracy falls "
        "below 50 % and the far corner is dim, which the misalignment explains. The centre marker "
        "and the lopsided profiles give it away; realign the fibre or lamp."
    ),
    "field-dust": (
        "A centred lamp with a dusty camera window or filter: twelve small dark specks dimming up "
        "to 30 % (their positions are in the truth). The smooth illumination fit is good; the "
        "residual map shows the specks. Clean the surfaces near an image plane."
    ),
    # ------------------------------------------------------------------------ co-registration
    "two-colour-beads": (
        "TetraSpeck-like beads in green and red: the red channel is 45/−60 nm off laterally and "
        "180 nm axially, with 0.1 % magnification and a 0.05° rotation. The distance is 0.4 of "
        "the resolution (MetroloJ's ratio), within tolerance: a typical, acceptable objective. "
        "Compare the measured shifts, magnification and rotation with the truth."
    ),
    "coregistration-good": (
        "Two-colour beads on well-corrected optics: the red channel 10/−8 nm laterally and 40 nm "
        "axially off the green, far below the resolution. Nothing to fix."
    ),
    "coregistration-wrong-dichroic": (
        "A wrong or wedged dichroic in the red path: the red channel is 250/−180 nm (about 300 nm) "
        "off laterally and 120 nm axially, larger than the lateral resolution. Overlays show "
        "red-green fringes on every bead; check the dichroic and filter cube."
    ),
    # -------------------------------------------------------------------------------- detector
    "detector-scmos": (
        "A healthy sCMOS camera's EMVA 1288 series: read noise 1.6 e⁻ with a per-pixel spread, "
        "small DSNU and PRNU, six hot pixels (normal for a sensor: noted, not a fault). The "
        "photon-transfer curve gives the gain and the read noise as in the truth."
    ),
    "detector-ccd": (
        "A healthy cooled CCD: read noise 6 e⁻ (usual for a CCD, high for an sCMOS), low dark "
        "current, four hot pixels (noted). Compare the measured gain, read noise and full well with "
        "the truth."
    ),
    "detector-emccd": (
        "A healthy EMCCD at gain 100: the excess noise factor of 2 doubles the photon-transfer "
        "variance; the analysis must account for it to get the right gain. Three hot pixels are "
        "noted."
    ),
    "detector-pmt": (
        "A PMT-like point detector: multiplicative noise (excess noise 1.3) and a large gain. "
        "Photon counting statistics still give its conversion gain."
    ),
    "detector-noisy": (
        "An sCMOS camera gone bad: read noise 6 e⁻ against 1.6 e⁻ on the datasheet, dark current "
        "ten times higher and 80 hot pixels (1 % of the sensor). The dark frames' noise and the "
        "hot-pixel map give it away (run with the camera type and the datasheet value, as below); "
        "check the cooling and the read-out mode."
    ),
    # ---------------------------------------------------------------------------- light source
    "light-source-log": (
        "A stable laser's two-hour power-meter log: 5 % low at switch-on, settling within ±1 % "
        "after about 8 minutes, 0.2 % ripple and 0.5 %/h drift. A normal source: wait for the "
        "warm-up before imaging."
    ),
    "light-source-pulsed": (
        "Three pulsed lasers interleaved in one log, each with known stability: the analysis "
        "separates them by level. Nothing is wrong."
    ),
    "light-source-linearity": (
        "Twelve power set-points with a linear response: the fit's slope and R² are as in the "
        "truth. Nothing is wrong."
    ),
    "light-source-series": (
        "An image series of a uniform sample with a 1 % ripple and a known dark level: the "
        "stability measured from images. Nothing is wrong."
    ),
    "light-source-unstable": (
        "An unstable laser: 20 % low at switch-on, rising with a 15-minute time constant (about an "
        "hour to settle within ±1 %, truth: warmup_time_s), 0.8 % ripple and 0.5 % reading-to-"
        "reading noise, fifty times a healthy source's. Both the warm-up and the short-term "
        "stability are faults; check the driver and its temperature control."
    ),
    # ------------------------------------------------------------------------------------ stage
    "stage-repeatability": (
        "The QUAREP WG6 repeatability series of a good stage: 50 nm SD after 300 µm moves, 100 nm "
        "after 3 mm, and 80/60 nm backlash (x/y), within a typical specification."
    ),
    "stage-drift": (
        "A bead time-lapse: 1 µm settling after the move, then a steady drift of about 1.6 µm/h "
        "in 3D, with frames where the bead is missing or doubled. The drift is the fault: let the "
        "system equilibrate, check the temperature and the focus lock."
    ),
    "stage-backlash": (
        "The repeatability series of a stage with 0.6 µm (x) and 0.5 µm (y) backlash: positions "
        "approached from + and from − form two clusters. Approach from one side, or service the "
        "stage."
    ),
    # ------------------------------------------------------------------------------- resolution
    "resolution-pair": (
        "Two independent noisy images of a band-limited structure with a resolution of 0.2 µm (4 px "
        "of 50 nm): FRC and decorrelation should both find it. With the optics given (NA 1.4, 520 nm "
        "emission) that is 1.08 × Abbe's limit λem / (2 NA) = 0.186 µm, as a good image gives. "
        "Nothing is wrong."
    ),
    "resolution-undersampled": (
        "The same optics (0.2 µm) recorded with 90 nm pixels: the resolution is 2.2 px, within a "
        "quarter of the 2-px Nyquist limit below which no pixel grid can record detail. The FRC "
        "crosses its threshold just short of the grid's last frequency, so the pixel, not the "
        "objective, bounds what the image can show; practice asks for 2.3–3 px per resolution "
        "element. Look at the resolution in pixels, not in µm (which is close to Abbe's limit). "
        "Use a smaller pixel (zoom, binning off)."
    ),
    "resolution-blurred": (
        "A pair whose finest detail is 0.5 µm, 2.7 × Abbe's 0.186 µm for NA 1.4 at 520 nm: defocus, "
        "spherical aberration or a dirty lens has removed the fine detail. Look at the ratio to "
        "theory; the pixel (50 nm, 10 px per resolution) is not the cause. Check the focus, the "
        "coverslip and immersion and the objective's cleanliness."
    ),
    # ----------------------------------------------------------------------------------- mirror
    "mirror-xz": (
        "An XZ image of a good confocal's reflection from a mirror (NA 1.4 oil, 488 nm): axial FWHM "
        "0.267 µm at the centre, 1.15 × the 0.232 µm point-pinhole theory (a pinhole of about 1 Airy "
        "unit gives that excess), 8 % broader at the edges. The mirror is slightly tilted (0.1 µm "
        "across the field): the ROI-averaged MetroloJ profile is a little broader than the bands, "
        "which the tilt does not affect. Nothing is wrong with the microscope."
    ),
    "mirror-pinhole-open": (
        "The same confocal with the pinhole left wide open (or spherical aberration from a wrong "
        "immersion or collar setting, which broadens the axial response the same way): the axial "
        "FWHM is 0.70 µm, 3 × the theory, beyond MetroloJ_QC's tolerance of 2. Look at the ratio to "
        "theory: the bands all agree, so it is not the field. Close the pinhole to 1 Airy unit, then "
        "check the immersion and the collar."
    ),
    "mirror-uneven": (
        "Good at the centre (0.267 µm, 1.15 × theory) but 80 % broader at the edges of the field: the "
        "CV of the band FWHMs is near 19 %. The MetroloJ ratio, averaged over the whole width, stays "
        "within tolerance; only the per-band fits show the problem. Check the scan optics' alignment "
        "and the objective's field flatness, or image in the centre."
    ),
    # ---------------------------------------------------------------------------- image quality
    "image-quality": (
        "A 12-bit image in a 16-bit file with exactly 100 saturated pixels (a 10 × 10 block at "
        "4095) and 100 pixels clipped at zero: both are faults of the acquisition settings."
    ),
    "image-quality-good": (
        "In-focus beads from the vectorial PSF with 65 nm pixels (Nyquist 93 nm) on a 12-bit "
        "camera, well within range. Nothing to fix."
    ),
    "image-quality-saturated": (
        "The same beads recorded too bright: many peaks clip at 4095 (the count is in the truth). "
        "Lower the exposure, gain or laser power."
    ),
    "image-quality-undersampled": (
        "The same beads with 160 nm pixels, 1.7 × the Nyquist pixel: beads are one or two pixels "
        "wide and fine detail aliases. Use a smaller pixel."
    ),
}

#: the optics of the mirror samples (``samples.mirror.GALLERY_OPTICS``): NA 1.4 oil, 488 nm reflected
_MIRROR_OPTICS = ("--na", "1.4", "--immersion-index", "1.518", "--wavelength-ex", "488")

#: the second image and the optics of the resolution samples (``samples.resolution.GALLERY_OPTICS``)
_RESOLUTION_PAIR = ("--pair", "{stem}_pair.ome.tif", "--na", "1.4", "--wavelength-em", "520")

#: the bead diameter the PSF gallery renders (``GalleryBeadSpec.bead_diameter_um``): its size correction
_BEAD = ("--bead-diameter", "0.1")

#: the vectorial PSF gallery's samples (``gallery.PSF_GALLERY``, in its order): one bead stack each
PSF_GALLERY_KEYS = (
    "psf-good",
    "psf-spherical-water",
    "psf-spherical-coverslip",
    "psf-astigmatism",
    "psf-coma",
    "psf-tilt",
    "psf-field-curvature",
    "psf-dirty-objective",
    "psf-undersampled",
    "psf-saturated",
)

#: the options a sample's measurement command needs beyond the file (``{stem}``: the image's stem)
COMMAND_OPTIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        PSF_GALLERY_KEYS,
        _BEAD,
    ),
    "resolution-pair": _RESOLUTION_PAIR,
    "resolution-undersampled": _RESOLUTION_PAIR,
    "resolution-blurred": _RESOLUTION_PAIR,
    "stage-repeatability": ("--moves", "{stem}_moves.csv"),
    "stage-backlash": ("--moves", "{stem}_moves.csv"),
    "stage-drift": ("--mode", "drift", "--frame-interval", "30", "--stabilisation-threshold", "0.1"),
    "mirror-xz": _MIRROR_OPTICS,
    "mirror-pinhole-open": _MIRROR_OPTICS,
    "mirror-uneven": _MIRROR_OPTICS,
    "light-source-series": ("--frame-interval", "2", "--dark-level", "100"),
    "detector-scmos": ("--camera", "scmos"),
    "detector-ccd": ("--camera", "ccd"),
    "detector-emccd": ("--camera", "emccd"),
    "detector-pmt": ("--camera", "pmt"),
    "detector-noisy": ("--camera", "scmos", "--datasheet-read-noise", "1.6"),
}
