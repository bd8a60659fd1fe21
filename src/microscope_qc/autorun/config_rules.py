"""Checking one rule of a run configuration (:mod:`microscope_qc.autorun.config`).

Every value is checked where it is read, and every option of ``settings`` by the measurement
command's own parser, so that an error names its line and key and says what is expected.
"""

from __future__ import annotations

import argparse
import difflib
import re
from pathlib import Path
from typing import Any

from microscope_qc.autorun.config import (
    _MATCH_KEYS,
    _NOT_SETTINGS,
    _RULE_KEYS,
    DEFAULT_GLOBS,
    METADATA_KEYS,
    ConfigError,
    MetadataCondition,
    Rule,
    _check_keys,
    _Map,
)

__all__ = ["parse_rule", "where"]


def where(path: Path, doc: _Map, key: str | None = None, label: str = "") -> str:
    """``FILE, line N, KEY`` for a message: the key's line, else the mapping's."""
    line = doc.key_lines.get(key, doc.line) if key is not None else doc.line
    name = label or (key or "")
    return f"{path}, line {line}" + (f", {name}" if name else "")


def _strings(value: Any, path: Path, doc: _Map, key: str, label: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise ConfigError(
            f"{where(path, doc, key, label)}: expected a text or a list of texts, not {value!r}."
        )
    return tuple(v.strip() for v in items)


def _condition(key: str, value: Any, path: Path, doc: _Map, label: str) -> MetadataCondition:
    if key not in METADATA_KEYS:
        close = difflib.get_close_matches(key, METADATA_KEYS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"{where(path, doc, key, label)}: unknown metadata {key!r}; {hint}known: {', '.join(METADATA_KEYS)}."
        )
    if isinstance(value, _Map):
        extra = [k for k in value if k not in ("min", "max")]
        bounds = [value.get("min"), value.get("max")]
        if extra or all(b is None for b in bounds):
            raise ConfigError(
                f"{where(path, doc, key, label)}: a range is written {{min: A, max: B}} (either may be left out), "
                f"not {dict(value)!r}."
            )
        for b in bounds:
            if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
                raise ConfigError(
                    f"{where(path, doc, key, label)}: the range's bounds are numbers, not {b!r}."
                )
        lo, hi = (None if b is None else float(b) for b in bounds)
        if lo is not None and hi is not None and lo > hi:
            raise ConfigError(
                f"{where(path, doc, key, label)}: the range's min {lo:g} is above its max {hi:g}."
            )
        return MetadataCondition(key, minimum=lo, maximum=hi)
    items = value if isinstance(value, list) else [value]
    out: list[str | float] = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise ConfigError(
                f"{where(path, doc, key, label)}: expected a value (a number, or a text that may hold * and ?), a "
                f"list of values or a range {{min: A, max: B}}, not {v!r}."
            )
        out.append(v if isinstance(v, str) else float(v))
    if not out:
        raise ConfigError(f"{where(path, doc, key, label)}: the list of values is empty.")
    return MetadataCondition(key, values=tuple(out))


def _option_tokens(
    m_name: str, settings: Any, path: Path, rule: _Map, label: str, base_argv: list[str]
) -> tuple[str, ...]:
    """The ``settings`` mapping as command options, each checked by the command's own parser."""
    from microscope_qc.cli_analysis import OptionError, measurement_arguments, parse_measurement_options
    from microscope_qc.measurements import get_measurement

    if settings is None:
        return ()
    if not isinstance(settings, _Map):
        raise ConfigError(
            f"{where(path, rule, 'settings', label + '.settings')}: `settings` maps the {m_name} command's options "
            f"(without --) to values, e.g. {{threshold: 8}}; not {settings!r}."
        )
    m = get_measurement(m_name)
    parser = argparse.ArgumentParser(add_help=False)
    measurement_arguments(m)(parser)
    by_name: dict[str, argparse.Action] = {}
    for known in parser._actions:
        for name in [*(s.lstrip("-") for s in known.option_strings), known.dest]:
            by_name.setdefault(name.replace("-", "_"), known)
    tokens: list[str] = []
    for key, value in settings.items():
        at = f"{label}.settings.{key}"
        norm = key.lstrip("-").replace("-", "_")
        action = by_name.get(norm)
        blocked = _NOT_SETTINGS.get(norm) or (_NOT_SETTINGS.get(action.dest) if action is not None else None)
        if blocked:
            raise ConfigError(f"{where(path, settings, key, at)}: not a setting here: {blocked}.")
        if action is None or not action.option_strings:
            options = sorted({s.lstrip("-") for a in parser._actions for s in a.option_strings} - {"o", "q"})
            close = difflib.get_close_matches(norm.replace("_", "-"), options, n=2)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise ConfigError(
                f"{where(path, settings, key, at)}: the {m_name} command has no option --{key}; {hint}"
                f"`microscope-qc {m_name} --help` lists them."
            )
        flag = max(action.option_strings, key=len)
        if action.nargs == 0:  # a switch
            if not isinstance(value, bool):
                raise ConfigError(
                    f"{where(path, settings, key, at)}: {flag} is a switch: true or false, not {value!r}."
                )
            mine = [flag] if value else []
        else:
            values = value if isinstance(value, list) else [value]
            if not values or any(isinstance(v, bool | dict | list) or v is None for v in values):
                raise ConfigError(
                    f"{where(path, settings, key, at)}: {flag} takes "
                    f"{'values' if action.nargs not in (None, '?') else 'one value'}, not {value!r}."
                )
            mine = [flag, *(str(v) for v in values)]
        try:  # this option alone, by the command's own parser: its type, range and choices
            parse_measurement_options(m, [*base_argv, *mine])
        except OptionError as exc:
            raise ConfigError(f"{where(path, settings, key, at)}: {exc}.") from None
        tokens += mine
    return tuple(tokens)


def parse_rule(item: Any, k: int, path: Path, base: Path, list_line: int) -> Rule:
    """Check one rule of the ``rules`` list and build it.

    Parameters
    ----------
    item : Any
        The rule as read from YAML.
    k : int
        Its index in the list.
    path : Path
        The configuration file, for messages.
    base : Path
        The folder relative paths are taken from.
    list_line : int
        The line of ``rules:``, for an item that is not a mapping.

    Returns
    -------
    Rule
        The checked rule.

    Raises
    ------
    ConfigError
        Naming the line, the key and what is expected.
    """
    from microscope_qc.cli_analysis import OptionError, parse_measurement_options
    from microscope_qc.measurements import MEASUREMENTS, get_measurement, load_checked_profile
    from microscope_qc.profiles import ProfileError

    label = f"rules[{k}]"
    if not isinstance(item, _Map):
        raise ConfigError(
            f"{path}, line {list_line}, {label}: a rule is a mapping with `match`, `measurement` and `instrument` "
            f"(or `instrument_name`), not {item!r}."
        )
    _check_keys(item, _RULE_KEYS, path, f"{label} (a rule)")
    name = item.get("name", f"rule {k + 1}")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"{where(path, item, 'name', label + '.name')}: a rule's name is a text, not {name!r}."
        )
    label = f"{label} ({name})" if "name" in item else label
    m_name = item.get("measurement")
    if m_name not in MEASUREMENTS:
        known = ", ".join(MEASUREMENTS)
        said = "missing" if m_name is None else f"{m_name!r} is not one"
        raise ConfigError(
            f"{where(path, item, 'measurement', label + '.measurement')}: the measurement is {said}; expected one "
            f"of: {known}."
        )
    match = item.get("match")
    if not isinstance(match, _Map) or not match:
        raise ConfigError(
            f"{where(path, item, 'match', label + '.match')}: `match` is a mapping with `glob`, `regex` and/or "
            f'`metadata`, e.g. {{glob: "psf_*.tif"}}; {"missing" if match is None else f"not {match!r}"}.'
        )
    _check_keys(match, _MATCH_KEYS, path, f"{label}.match")
    globs = _strings(match["glob"], path, match, "glob", f"{label}.match.glob") if "glob" in match else ()
    regex = None
    if "regex" in match:
        (text,) = _strings(match["regex"], path, match, "regex", f"{label}.match.regex")[:1]
        try:
            regex = re.compile(text)
        except re.error as exc:
            raise ConfigError(
                f"{where(path, match, 'regex', label + '.match.regex')}: not a regular expression: {exc}."
            ) from None
    conditions: tuple[MetadataCondition, ...] = ()
    if "metadata" in match:
        meta = match["metadata"]
        if not isinstance(meta, _Map) or not meta:
            raise ConfigError(
                f"{where(path, match, 'metadata', label + '.match.metadata')}: `metadata` maps metadata names to "
                f"conditions, e.g. {{na: {{min: 1.3}}, modality: confocal}}; not {meta!r}."
            )
        conditions = tuple(
            _condition(key, v, path, meta, f"{label}.match.metadata.{key}") for key, v in meta.items()
        )
    if not globs and regex is None:
        globs = DEFAULT_GLOBS
    profile_path, instrument = None, ""
    if ("instrument" in item) == ("instrument_name" in item):
        raise ConfigError(
            f"{where(path, item, None, label)}: give the instrument: `instrument: PROFILE.yaml` (an instrument "
            "profile) or `instrument_name: NAME` (runs are recorded under it) — one of the two."
        )
    if "instrument" in item:
        value = item["instrument"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{where(path, item, 'instrument', label + '.instrument')}: a profile file, not {value!r}."
            )
        profile_path = (base / Path(value).expanduser()).resolve()
        try:
            profile = load_checked_profile(profile_path)
        except (ProfileError, OSError) as exc:
            raise ConfigError(f"{where(path, item, 'instrument', label + '.instrument')}: {exc}") from None
        instrument = profile.name
        objectives = [o.name for o in profile.objectives]
        objective = item.get("objective")
        if objective not in objectives:
            said = "is missing" if objective is None else f"{objective!r} is not in the profile"
            raise ConfigError(
                f"{where(path, item, 'objective' if 'objective' in item else None, label + '.objective')}: the "
                f"objective {said}; the profile {profile_path.name} has: {', '.join(objectives) or 'none'}."
            )
        presets = (
            _strings(item["channel_preset"], path, item, "channel_preset", label + ".channel_preset")
            if "channel_preset" in item
            else ()
        )
        channels = [c.name for c in profile.channels]
        for p in presets:
            if p not in channels:
                raise ConfigError(
                    f"{where(path, item, 'channel_preset', label + '.channel_preset')}: no channel {p!r} in the profile "
                    f"{profile_path.name}; it has: {', '.join(channels) or 'none'}."
                )
    else:
        value = item["instrument_name"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{where(path, item, 'instrument_name', label + '.instrument_name')}: the instrument's name is a "
                f"text, not {value!r}."
            )
        instrument = value.strip()
        for key in ("objective", "channel_preset"):
            if key in item:
                raise ConfigError(
                    f"{where(path, item, key, label + '.' + key)}: `{key}` names an entry of an instrument profile; "
                    "give `instrument: PROFILE.yaml` to use it."
                )
        objective, presets = None, ()
    rule = Rule(
        name=name.strip(),
        line=item.line,
        measurement=m_name,
        globs=globs,
        regex=regex,
        metadata=conditions,
        profile=profile_path,
        instrument=instrument,
        objective=objective,
        channel_preset=presets,
        options=(),
    )
    base_argv = ["QC.tif", "--out", "QC", *rule.command_options()]
    options = _option_tokens(m_name, item.get("settings"), path, item, label, base_argv)
    try:  # all together, and the measurement's own check of its options
        parse_measurement_options(get_measurement(m_name), [*base_argv, *options])
    except OptionError as exc:
        raise ConfigError(
            f"{where(path, item, 'settings' if 'settings' in item else None, label)}: {exc}."
        ) from None
    return Rule(**{**rule.__dict__, "options": options})
