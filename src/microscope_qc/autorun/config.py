"""The configuration of automatic QC runs: which files are QC acquisitions, and how to analyse them.

A small YAML file (docs/automatic-runs.md)::

    out: /data/qc/runs            # where each run's folder is written (--out wins)
    history: /data/qc/history.sqlite
    stable_seconds: 10            # watch mode: a file is complete when its size held this long
    rules:
    - name: PSF 63x
      match: {glob: "psf_*.tif", metadata: {na: {min: 1.3}}}
      measurement: psf
      instrument: scope-a.yaml    # a profile (relative to this file), or instrument_name: "Scope A"
      objective: 63x oil
      settings: {threshold: 8}    # the measurement command's options, without "--"

Every rule is checked when the file is read, each option against the measurement command's own
parser (the same types, ranges and choices as on the command line); an error names the file, the
line, the key and what is expected.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from microscope_qc.io import AcquisitionMetadata

__all__ = ["ConfigError", "MetadataCondition", "Rule", "RunConfig", "load_config", "METADATA_KEYS"]

#: the metadata a rule's conditions may name: the file's acquisition metadata, and its shape
METADATA_KEYS = (
    "na",
    "immersion_index",
    "modality",
    "pinhole_au",
    "channel_names",
    "wavelength_ex_nm",
    "wavelength_em_nm",
    "voxel_size_um",
    "bit_depth",
    "n_channels",
    "n_planes",
)
#: the files a rule without glob or regex looks at
DEFAULT_GLOBS = ("*.tif", "*.tiff")
#: a configuration is a few kB; anything far larger is not one
_MAX_BYTES = 1_000_000
_TOP_KEYS = ("rules", "out", "history", "stable_seconds")
_RULE_KEYS = (
    "name",
    "match",
    "measurement",
    "instrument",
    "instrument_name",
    "objective",
    "channel_preset",
    "settings",
)
_MATCH_KEYS = ("glob", "regex", "metadata")
#: command options a rule may not set in ``settings``, and where they are set instead
_NOT_SETTINGS = {
    "files": "the files come from the folders the run looks in",
    "out": "give --out to the run command, or `out:` at the top of the configuration",
    "overwrite": "give --overwrite to the run command",
    "strict": "give --strict to the run command",
    "quiet": "give --quiet to the run command",
    "record": "every run is recorded",
    "history": "give --history to the run command, or `history:` at the top of the configuration",
    "instrument": "use the rule's `instrument:` key",
    "instrument_name": "use the rule's `instrument_name:` key",
    "objective": "use the rule's `objective:` key",
    "channel_preset": "use the rule's `channel_preset:` key",
    "compare_history": "not available in automatic runs",
}


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, line, key and what is expected."""


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


def _load_yaml(path: Path) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        # no aliases (*name), as for instrument profiles: nested aliases could expand without bound
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in this file; write the value out", mark
                )
            return super().compose_node(parent, index)

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Map:
        loader.flatten_mapping(node)
        out = _Map()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in out:
                raise ConfigError(f"{path}, line {line}: the key {key!r} appears twice in one mapping.")
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[key] = line
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ConfigError(f"{path} is {path.stat().st_size} bytes; a run configuration is a few kB.")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The configuration {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The configuration {path} cannot be read: {exc}.") from None
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {exc.problem or exc}.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}.") from None


@dataclass(frozen=True)
class MetadataCondition:
    """One condition on a file's metadata: equal to one of some values, or within a range.

    A text value is a glob (``"63x*"``, case-insensitive); a metadata value that is a list (one per
    channel) meets the condition when any of its elements does.
    """

    key: str
    values: tuple[str | float, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def _one(self, value: Any) -> bool:
        if value is None:
            return False
        if self.values:
            for want in self.values:
                if isinstance(want, str):
                    if fnmatch.fnmatch(str(value).lower(), want.lower()):
                        return True
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    if abs(float(value) - want) <= 1e-9 * max(1.0, abs(want)):
                        return True
            return False
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return (self.minimum is None or value >= self.minimum) and (
            self.maximum is None or value <= self.maximum
        )

    def matches(self, values: dict[str, Any]) -> bool:
        """Whether the file's metadata meets the condition (a value the file lacks never does).

        Parameters
        ----------
        values : dict
            :func:`metadata_values` of the file.

        Returns
        -------
        bool
            True when the condition holds.
        """
        value = values.get(self.key)
        if isinstance(value, list | tuple):
            return any(self._one(v) for v in value)
        return self._one(value)


def metadata_values(metadata: AcquisitionMetadata, shape: tuple[int, ...]) -> dict[str, Any]:
    """The values a rule's metadata conditions look at.

    Parameters
    ----------
    metadata : AcquisitionMetadata
        The file's metadata.
    shape : tuple of int
        Its (C, Z, Y, X) shape.

    Returns
    -------
    dict
        ``{key: value}`` for every key of :data:`METADATA_KEYS` (None when the file does not say).
    """
    out = {key: item["value"] for key, item in metadata.as_dict().items() if key in METADATA_KEYS}
    out["n_channels"] = shape[0] if shape else None
    out["n_planes"] = shape[1] if len(shape) > 1 else None
    return out


@dataclass(frozen=True)
class Rule:
    """Which files are one kind of QC acquisition, and how the measurement's command analyses them."""

    name: str
    #: the rule's line in the configuration
    line: int
    measurement: str
    globs: tuple[str, ...]
    regex: re.Pattern[str] | None
    metadata: tuple[MetadataCondition, ...]
    #: the instrument profile (absolute), or None when the rule gives ``instrument_name``
    profile: Path | None
    #: the name runs are recorded under (the profile's name, or ``instrument_name``)
    instrument: str
    objective: str | None
    channel_preset: tuple[str, ...]
    #: the measurement command's options from ``settings`` (e.g. ``("--threshold", "8")``)
    options: tuple[str, ...]

    def matches_name(self, relative: str) -> bool:
        """Whether a file's path (relative to the folder looked in, with ``/``) matches the patterns.

        A glob without ``/`` is matched against the file name, one with ``/`` against the whole
        relative path; both case-insensitively. A regex is searched in the relative path.

        Parameters
        ----------
        relative : str
            The path relative to its folder, with ``/`` separators.

        Returns
        -------
        bool
            True when a glob matches (or there is none) and the regex is found (or there is none).
        """
        name = relative.rsplit("/", 1)[-1].lower()
        if self.globs and not any(
            fnmatch.fnmatch(relative.lower() if "/" in g else name, g.lower()) for g in self.globs
        ):
            return False
        return self.regex is None or self.regex.search(relative) is not None

    def command_options(self) -> list[str]:
        """The measurement command's options this rule gives: instrument, objective, presets, settings.

        Returns
        -------
        list of str
            Options as they would be typed after ``microscope-qc <measurement> FILE --out DIR``.
        """
        argv: list[str] = []
        if self.profile is not None:
            argv += ["--instrument", str(self.profile)]
        else:
            argv += ["--instrument-name", self.instrument]
        if self.objective is not None:
            argv += ["--objective", self.objective]
        if self.channel_preset:
            argv += ["--channel-preset", *self.channel_preset]
        return [*argv, *self.options]


@dataclass(frozen=True)
class RunConfig:
    """A parsed configuration."""

    path: Path
    rules: tuple[Rule, ...]
    out: Path | None = None
    history: str | None = None
    stable_seconds: float = 10.0

    @property
    def needs_metadata(self) -> bool:
        """Whether any rule looks at file metadata (then files are opened to decide)."""
        return any(r.metadata for r in self.rules)


def load_config(path: str | Path) -> RunConfig:
    """Read and check a run configuration.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    RunConfig
        The configuration; relative paths in it are taken relative to its folder.

    Raises
    ------
    ConfigError
        Naming the file, the line, the key and what is expected.
    """
    from microscope_qc.autorun.config_rules import parse_rule, where

    path = Path(path)
    doc = _load_yaml(path)
    if not isinstance(doc, _Map):
        raise ConfigError(
            f"{path}: a run configuration is a mapping with a `rules:` list (docs/automatic-runs.md), "
            f"not {type(doc).__name__ if doc is not None else 'an empty file'}."
        )
    _check_keys(doc, _TOP_KEYS, path, "the configuration")
    base = path.resolve().parent
    rules_doc = doc.get("rules")
    if not isinstance(rules_doc, list) or not rules_doc:
        raise ConfigError(
            f"{where(path, doc, 'rules')}: `rules` is a list of rules, each with `match`, `measurement` and an "
            "instrument; none given."
        )
    rules = tuple(
        parse_rule(item, k, path, base, doc.key_lines.get("rules", doc.line))
        for k, item in enumerate(rules_doc)
    )
    seen: dict[str, Rule] = {}
    for r in rules:
        if r.name in seen:
            raise ConfigError(
                f"{path}, line {r.line}: two rules are named {r.name!r} (the other on line {seen[r.name].line}); "
                "give each its own name."
            )
        seen[r.name] = r
    out = None
    if "out" in doc:
        if not isinstance(doc["out"], str) or not doc["out"].strip():
            raise ConfigError(f"{where(path, doc, 'out')}: `out` is a folder path, not {doc['out']!r}.")
        out = base / Path(doc["out"]).expanduser()
    history = None
    if "history" in doc:
        if not isinstance(doc["history"], str) or not doc["history"].strip():
            raise ConfigError(
                f"{where(path, doc, 'history')}: `history` is a file path or a database URL, not {doc['history']!r}."
            )
        history = doc["history"] if "://" in doc["history"] else str(base / Path(doc["history"]).expanduser())
    stable = 10.0
    if "stable_seconds" in doc:
        value = doc["stable_seconds"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
            raise ConfigError(
                f"{where(path, doc, 'stable_seconds')}: `stable_seconds` is a number of seconds from 0 to 86400, "
                f"not {value!r}."
            )
        stable = float(value)
    return RunConfig(path, rules, out, history, stable)


def _check_keys(doc: _Map, allowed: tuple[str, ...], path: Path, what: str) -> None:
    for key in doc:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{path}, line {doc.key_lines.get(key, doc.line)}: unknown key {key!r} in {what}; {hint}"
                f"known keys: {', '.join(allowed)}."
            )
