"""The run configuration: a full example parsed, and each kind of mistake named by file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from microscope_qc.autorun.config import ConfigError, MetadataCondition, load_config
from microscope_qc.profiles import InstrumentProfile, Objective, save_profile

FULL = """\
out: runs                       # line 1
history: qc/history.sqlite
stable_seconds: 5
rules:
- name: PSF 63x
  match:
    glob: ["psf_*.tif", "beads/*.ome.tif"]
    metadata: {na: {min: 1.3}, modality: [confocal, widefield]}
  measurement: psf
  instrument: scope-a.yaml
  objective: 63x oil
  settings: {threshold: 8, bead-diameter: 0.17, method: metroloj}
- match: {regex: '_flat\\d*\\.tiff?$'}
  measurement: field
  instrument_name: Scope B
"""


def _profile(folder: Path) -> Path:
    profile = InstrumentProfile(
        name="Scope A",
        modality="confocal",
        objectives=[Objective("63x oil", 63, 1.4, "oil", 1.518)],
    )
    return save_profile(profile, folder / "scope-a.yaml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qc.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_full_configuration(tmp_path):
    _profile(tmp_path)
    config = load_config(_write(tmp_path, FULL))
    assert config.out == tmp_path / "runs" and config.history == str(tmp_path / "qc" / "history.sqlite")
    assert config.stable_seconds == 5.0 and config.needs_metadata
    psf, field = config.rules
    assert psf.name == "PSF 63x" and psf.line == 5 and psf.measurement == "psf"
    assert psf.instrument == "Scope A" and psf.profile == (tmp_path / "scope-a.yaml").resolve()
    assert psf.options == ("--threshold", "8", "--bead-diameter", "0.17", "--method", "metroloj")
    assert psf.command_options()[:4] == ["--instrument", str(psf.profile), "--objective", "63x oil"]
    assert psf.metadata == (
        MetadataCondition("na", minimum=1.3),
        MetadataCondition("modality", values=("confocal", "widefield")),
    )
    assert psf.matches_name("PSF_3.TIF") and psf.matches_name("beads/x.ome.tif")
    assert not psf.matches_name("other/psf_3.txt")
    assert field.name == "rule 2" and field.instrument == "Scope B" and field.profile is None
    assert field.command_options() == ["--instrument-name", "Scope B"]
    assert field.matches_name("a/b/day_flat2.tif") and not field.matches_name("flat.tif")


def test_metadata_conditions():
    na = MetadataCondition("na", minimum=1.3)
    assert na.matches({"na": 1.4}) and not na.matches({"na": 1.2}) and not na.matches({"na": None})
    names = MetadataCondition("channel_names", values=("gfp*",))
    assert names.matches({"channel_names": ["DAPI", "GFP long"]}) and not names.matches(
        {"channel_names": ["RFP"]}
    )
    assert MetadataCondition("n_channels", values=(2.0,)).matches({"n_channels": 2})


BAD = [
    ("rules: [", "line 1", "not valid YAML"),
    ("a: &x [1]\nrules: *x\n", "line 2", "aliases (*name) are not allowed"),
    ("rule: []\n", "line 1", "unknown key 'rule'"),
    ("rules: []\n", "line 1", "none given"),
    (
        "rules:\n- match: {glob: a}\n  measurement: psff\n  instrument_name: A\n",
        "line 3",
        "expected one of: psf",
    ),
    ("rules:\n- match: {glob: a}\n  measurement: psf\n", "line 2", "instrument_name"),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument_name: A\n  settings:\n    treshold: 8\n",
        "line 6, rules[0].settings.treshold",
        "did you mean threshold",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument_name: A\n  settings:\n    threshold: 0.2\n",
        "line 6, rules[0].settings.threshold",
        "detection threshold must be at least 1",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument_name: A\n  settings: {method: best}\n",
        "line 5, rules[0].settings.method",
        "invalid choice",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument_name: A\n  settings: {out: x}\n",
        "rules[0].settings.out",
        "give --out to the run command",
    ),
    (
        "rules:\n- match: {regex: '(('}\n  measurement: psf\n  instrument_name: A\n",
        "line 2",
        "not a regular expression",
    ),
    (
        "rules:\n- match: {metadata: {numerical_aperture: 1}}\n  measurement: psf\n  instrument_name: A\n",
        "line 2",
        "unknown metadata",
    ),
    (
        "rules:\n- match: {metadata: {na: {min: 1.4, max: 1.2}}}\n  measurement: psf\n  instrument_name: A\n",
        "line 2",
        "above its max",
    ),
    (
        "rules:\n- match: {glob: a, glob: b}\n  measurement: psf\n  instrument_name: A\n",
        "line 2",
        "appears twice",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument: missing.yaml\n  objective: x\n",
        "line 4",
        "missing.yaml",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument: scope-a.yaml\n  objective: 10x\n",
        "line 5",
        "63x oil",
    ),
    (
        "rules:\n- match: {glob: a}\n  measurement: psf\n  instrument_name: A\n  objective: 10x\n",
        "line 5",
        "instrument profile",
    ),
    (
        "stable_seconds: soon\nrules:\n- {match: {glob: a}, measurement: psf, instrument_name: A}\n",
        "line 1",
        "seconds",
    ),
    (
        "rules:\n- {name: x, match: {glob: a}, measurement: psf, instrument_name: A}\n"
        "- {name: x, match: {glob: b}, measurement: psf, instrument_name: A}\n",
        "line 3",
        "two rules are named 'x'",
    ),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD, ids=[b[2] for b in BAD])
def test_mistakes_are_named_by_file_line_and_key(tmp_path, text, where, what):
    _profile(tmp_path)
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and where in message and what in message, message


def test_a_missing_configuration(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
