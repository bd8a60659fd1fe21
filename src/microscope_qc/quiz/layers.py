"""The quiz's napari layers: a sample's layer data with nothing that gives the answer away."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["neutral_layer_data"]

#: layer-metadata keys that would give the answer away (removed from the quiz's layers)
_SECRET_KEYS = frozenset({"truth", "faults", "fault", "explanation"})


def _secret_key(key: Any) -> bool:
    return str(key) in _SECRET_KEYS or str(key).startswith("truth")


def _scrub(value: Any, names: Mapping[str, str], secrets: Sequence[str], neutral: str) -> Any:
    """Metadata without the truth: secret keys dropped, layer names and sample names replaced."""
    if isinstance(value, Mapping):
        return {k: _scrub(v, names, secrets, neutral) for k, v in value.items() if not _secret_key(k)}
    if isinstance(value, str):
        if value in names:
            return names[value]
        for old in sorted((*names, *secrets), key=len, reverse=True):
            if old and old in value:
                value = value.replace(old, names.get(old, neutral))
        return value
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, names, secrets, neutral) for v in value)
    return value


def neutral_layer_data(
    layers: Sequence[tuple[Any, ...]], label: str, secrets: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """A napari sample's layer data with nothing that gives the answer away.

    The first layer is named ``label``; a layer named after it (``"<first> (dark)"``) keeps its
    suffix, any other is numbered (``"<label> (2)"``). References to the old names in the
    metadata follow; the truth (keys ``truth…``, ``faults``, ``explanation``) is removed, and
    texts naming the sample (``secrets``: its key, its title) are neutralised.

    Parameters
    ----------
    layers : sequence of tuple
        ``(data, kwargs, layer_type)`` as a napari sample function returns them.
    label : str
        The neutral name, e.g. "Quiz sample 3".
    secrets : sequence of str
        Further texts to hide (the sample's key and title).

    Returns
    -------
    list of tuple
        New tuples (the data arrays are shared, not copied).
    """
    old = [str((t[1] if len(t) > 1 else {}).get("name", "")) for t in layers]
    names: dict[str, str] = {}
    for i, name in enumerate(old):
        if i == 0:
            new = label
        elif old[0] and name.startswith(old[0]) and name != old[0]:
            new = label + name[len(old[0]) :]
        else:
            new = f"{label} ({i + 1})"
        if name:
            names[name] = new
    out = []
    for i, t in enumerate(layers):
        kwargs = dict(t[1]) if len(t) > 1 else {}
        meta = _scrub(kwargs.get("metadata", {}), names, secrets, "quiz sample")
        kwargs["metadata"] = meta
        kwargs["name"] = names.get(old[i], f"{label} ({i + 1})")
        out.append((t[0], kwargs, *t[2:]))
    return out
