"""Core error messages name settings by placeholder; each front-end renders its own wording."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from microscope_qc.cli import CLI_NAMES, error_message
from microscope_qc.errors import DEFAULT_NAMES, QCError
from microscope_qc.history import HistoryError
from microscope_qc.instrument import MicroscopeSettings, SettingsError
from microscope_qc.report import ExportExistsError
from microscope_qc.results import AnalysisError

PKG = Path(__file__).resolve().parents[1] / "src" / "microscope_qc"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
#: messages that name a command-line option on purpose: napari's reader tells the user how to open
#: another scene of a file with many, which only the command line (or Python) can do
ALLOWED: set[tuple[str, str]] = {
    ("reader.py", "--scene"),
    ("quiz/evidence.py", "--out"),
}  # the quiz runs the command


def _flags_in_messages(source: str) -> list[str]:
    """Every ``--flag`` in a string literal of the source that is not a docstring."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found += FLAG.findall(node.value)
    return found


def test_the_scanner_finds_flags():
    src = '"""Docstring may say --overwrite."""\nraise ValueError(f"give it (--voxel-size Z Y X, {x})")\n'
    assert _flags_in_messages(src) == ["--voxel-size"]
    assert _flags_in_messages('x = "a -- b, 1--2, {overwrite}"') == []


def test_no_command_line_flag_in_core_messages():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel == "cli.py" or rel.startswith(
            ("cli_", "measurements/", "widgets/", "autorun/")
        ):  # the command line itself (autorun is `microscope-qc run`)
            continue
        offenders += [(rel, f) for f in _flags_in_messages(path.read_text()) if (rel, f) not in ALLOWED]
    assert not offenders, f"core messages cite CLI flags (use a placeholder, see errors.py): {offenders}"


def test_render_substitutes_each_front_ends_wording():
    with pytest.raises(SettingsError) as info:
        MicroscopeSettings().require("voxel_size_um", "na")
    exc = info.value
    assert exc.fields == ["voxel_size_um", "na"]
    assert "{voxel_size_um}" in exc.template
    neutral = str(exc)
    assert "the voxel size (z, y, x in µm), the numerical aperture (NA)" in neutral
    assert "{" not in neutral and "--" not in neutral
    cli = exc.render(CLI_NAMES)
    assert "--voxel-size Z Y X (µm), --na." in cli and cli == error_message(exc)
    widget = exc.render({"voxel_size_um": "the voxel size fields"})
    assert "the voxel size fields, the numerical aperture (NA)" in widget  # missing names: neutral wording


def test_render_leaves_other_braces_alone():
    exc = AnalysisError("counts {'poor fit': 3}; {not_a_field} {overwrite}")
    assert exc.fields == ["overwrite"]
    assert str(exc) == "counts {'poor fit': 3}; {not_a_field} the overwrite option"
    assert error_message(ValueError("plain {overwrite}")) == "plain {overwrite}"


def test_error_types_keep_their_bases():
    for cls in (SettingsError, AnalysisError, ExportExistsError, HistoryError):
        assert issubclass(cls, QCError) and issubclass(cls, ValueError)
    assert issubclass(ExportExistsError, FileExistsError)
    assert issubclass(HistoryError, RuntimeError)


def test_cli_names_every_placeholder():
    assert set(CLI_NAMES) == set(DEFAULT_NAMES)
    assert all(v.startswith("--") for v in CLI_NAMES.values())


def test_export_and_model_messages_use_placeholders(tmp_path):
    from microscope_qc.report.coregistration import write_models

    class R:
        def models_document(self):
            return {}

    path = tmp_path / "registration.json"
    path.write_text("{}")
    with pytest.raises(ExportExistsError) as info:
        write_models(R(), path)
    assert info.value.fields == ["overwrite"] and "(--overwrite)" in error_message(info.value)


def test_history_message(tmp_path):
    from microscope_qc.history import HistoryStore

    bad = tmp_path / "not.db"
    bad.write_bytes(b"definitely not sqlite" + bytes(np.arange(16, dtype=np.uint8)))
    with pytest.raises(HistoryError) as info:
        HistoryStore(bad)
    assert info.value.fields == ["history"]
    assert "Point the history location at another file" in str(info.value)
    assert "Point --history at another file" in error_message(info.value)
