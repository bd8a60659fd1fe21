"""Result layers a widget owns: found by a tag in their metadata, updated in place, drawn in steps.

napari hands plugin widgets a proxy of the viewer, so a layer is never recognised by its class
name or by identity: every layer a widget draws carries ``metadata[TAG] = {"owner", "role",
"source", ...}`` and is found again by that tag. A re-run replaces the data (and what belongs to
the data: features, per-item colours, geometry) but keeps what the user chose (opacity, colormap,
contrast, visibility, blending, position in the layer list).

Layer data is built in the worker thread (:class:`LayerSpec` holds finished arrays); the GUI
thread applies one spec per event-loop turn (:class:`DrawQueue`), so drawing never stalls the
viewer for long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import napari.layers
import numpy as np
from qtpy.QtCore import QObject, QTimer

__all__ = [
    "TAG",
    "LayerSpec",
    "prebuild",
    "warm_up",
    "ResultLayers",
    "DrawQueue",
    "layer_key",
    "same_layer",
    "image_layers",
]

#: metadata key of every layer this package draws
TAG = "microscope_qc_result"

_KINDS: dict[str, type] = {
    "image": napari.layers.Image,
    "labels": napari.layers.Labels,
    "points": napari.layers.Points,
    "shapes": napari.layers.Shapes,
    "vectors": napari.layers.Vectors,
    "tracks": napari.layers.Tracks,
}


def layer_key(layer: Any) -> Hashable | None:
    """A stable identity for a layer, the same through any proxy of it."""
    return None if layer is None else layer.unique_id


def same_layer(a: Any, b: Any) -> bool:
    return a is not None and b is not None and layer_key(a) == layer_key(b)


def tag_of(layer: Any) -> dict | None:
    meta = layer.metadata
    tag = meta.get(TAG) if isinstance(meta, dict) else None
    return tag if isinstance(tag, dict) else None


def image_layers(viewer: Any, min_ndim: int = 2) -> list:
    """The viewer's image layers the user can analyse: not ones this package drew."""
    return [
        lyr
        for lyr in viewer.layers
        if isinstance(lyr, napari.layers.Image) and lyr.ndim >= min_ndim and tag_of(lyr) is None
    ]


@dataclass
class LayerSpec:
    """One result layer, ready to draw: built off the GUI thread, applied on it.

    ``update`` is applied on every draw (it belongs to the data: features, per-item colours,
    scale/translate); ``style`` only when the layer is created (the user may change it).
    """

    role: str
    kind: str
    name: str
    data: Any
    update: dict[str, Any] = field(default_factory=dict)
    style: dict[str, Any] = field(default_factory=dict)
    #: extra entries for the layer's tag (e.g. which quantity a map shows)
    meta: dict[str, Any] = field(default_factory=dict)
    #: display values that follow the data (e.g. contrast limits) until the user changes them
    auto: dict[str, Any] = field(default_factory=dict)
    #: called with the layer after every draw (e.g. set a mode); keep it cheap
    after: Callable[[Any], None] | None = None
    #: called with the layer once, when it is created (style that is not a constructor argument)
    on_create: Callable[[Any], None] | None = None
    #: the layer object, built in the worker when the viewer has none for this role yet
    built: Any = None

    def build(self) -> Any:
        """Make the napari layer object (pure model, no Qt): done in the worker, where it costs nothing."""
        self.built = _KINDS[self.kind](self.data, name=self.name, **self.update, **self.style, **self.auto)
        if self.on_create is not None:
            self.on_create(self.built)
        return self.built


_WARM = False


def warm_up() -> None:
    """Build one tiny layer model of each kind, once per process.

    napari's first layer of a kind pays one-time costs (imports, colour tables) while holding the
    GIL; paid when a dock opens, they do not freeze the viewer later, when results arrive.
    """
    global _WARM
    if _WARM:
        return
    _WARM = True
    _KINDS["labels"](np.zeros((4, 4), np.int32))
    _KINDS["shapes"]([np.array([[0.0, 0.0], [1.0, 1.0]])], shape_type="line")
    _KINDS["points"](np.zeros((1, 2)), features={"a": [0]}, border_color=[[1.0, 0, 0, 1.0]])
    _KINDS["image"](np.zeros((4, 4), np.float32))
    _KINDS["vectors"](np.zeros((1, 2, 2)))


def prebuild(specs: Iterable[LayerSpec], existing_roles: Iterable[str]) -> None:
    """Build, off the GUI thread, the layers the viewer does not have yet (adding them is then cheaper).

    Layers that start hidden are left to the GUI thread: they are added after the result is shown
    (:meth:`ResultLayers.plan`), so building them here would only make the result wait.
    """
    have = set(existing_roles)
    for spec in specs:
        if spec.role not in have and spec.style.get("visible", True):
            spec.build()


class ResultLayers:
    """The layers one widget draws, keyed by role and tagged with the image they belong to."""

    def __init__(self, viewer: Any, owner: str):
        self.viewer = viewer
        self.owner = owner

    def _mine(self) -> Iterable[tuple[Any, dict]]:
        for lyr in list(self.viewer.layers):
            tag = tag_of(lyr)
            if tag is not None and tag.get("owner") == self.owner:
                yield lyr, tag

    def find(self, role: str) -> Any | None:
        for lyr, tag in self._mine():
            if tag.get("role") == role:
                return lyr
        return None

    def roles(self) -> list[str]:
        return [tag["role"] for _, tag in self._mine()]

    def source_of(self, role: str) -> Hashable | None:
        lyr = self.find(role)
        return None if lyr is None else tag_of(lyr).get("source")

    def plan(self, specs: list[LayerSpec], source: Any) -> dict[str, Any]:
        """Drawing steps for ``specs``, as keyword arguments of :meth:`DrawQueue.run`: ``steps`` (what
        the result needs on screen), ``later`` (what can follow it) and ``batch`` (steps add layers).

        A layer the viewer does not have yet and that starts hidden is added after the result is
        shown (napari's cost of adding a layer is a few hundred ms under software OpenGL); it is then
        moved below the layer that follows it in ``specs``, so the order is the same either way.
        """
        have = set(self.roles())
        first = [s for s in specs if s.role in have or s.style.get("visible", True)]
        later = [s for s in specs if s not in first]
        now = [lambda s=s: self.apply(s, source) for s in first]
        after = []
        for spec in later:
            rest = specs[specs.index(spec) + 1 :]
            below = next((s.role for s in rest if s in first), None)
            after.append(lambda s=spec, b=below: self._place_below(self.apply(s, source), b))
        return {"steps": now, "later": after, "batch": any(s.role not in have for s in first)}

    def _place_below(self, layer: Any, role: str | None) -> None:
        other = self.find(role) if role is not None else None
        if other is None:
            return
        ids = [lyr.unique_id for lyr in self.viewer.layers]
        i, j = ids.index(layer.unique_id), ids.index(other.unique_id)
        if i > j:
            self.viewer.layers.move(i, j)

    def apply(self, spec: LayerSpec, source: Any) -> Any:
        """Draw ``spec`` for the image layer ``source``: in place when the layer exists."""
        tag = {
            "owner": self.owner,
            "role": spec.role,
            "source": layer_key(source),
            "source_name": getattr(source, "name", ""),
            "name": spec.name,
            "auto": {k: _plain(v) for k, v in spec.auto.items()},
            **spec.meta,
        }
        layer = self.find(spec.role)
        if layer is not None and not isinstance(layer, _KINDS[spec.kind]):
            self.viewer.layers.remove(layer)  # the user changed it into another kind: start again
            layer = None
        if layer is None:
            if spec.built is not None:
                layer, spec.built = spec.built, None
                layer.metadata[TAG] = tag
                self.viewer.add_layer(layer)
            else:
                add = getattr(self.viewer, f"add_{spec.kind}")
                layer = add(
                    spec.data, name=spec.name, metadata={TAG: tag}, **spec.update, **spec.style, **spec.auto
                )
                if spec.on_create is not None:
                    spec.on_create(layer)
        else:
            old = tag_of(layer)
            self._set_data(layer, spec)
            for key, value in spec.auto.items():
                # follows the data unless the user changed it since we last set it
                if _same(_plain(getattr(layer, key)), old.get("auto", {}).get(key)):
                    setattr(layer, key, value)
                else:
                    tag["auto"][key] = old.get("auto", {}).get(key)
            layer.metadata[TAG] = tag
            if layer.name != spec.name:
                layer.name = spec.name
            if old.get("stale", False):  # hidden when its image was left; current again
                layer.visible = spec.style.get("visible", True)
            if old.get("source") != tag["source"]:
                self._raise_above(layer, source)
        if spec.after is not None:
            spec.after(layer)
        return layer

    def _raise_above(self, layer: Any, source: Any) -> None:
        """Move a result layer that now belongs to ``source`` above it (else the image hides it)."""
        ids = [lyr.unique_id for lyr in self.viewer.layers]
        key = layer_key(source)
        if key in ids and ids.index(layer.unique_id) < ids.index(key):
            self.viewer.layers.move(ids.index(layer.unique_id), len(ids))

    @staticmethod
    def _set_data(layer: Any, spec: LayerSpec) -> None:
        """Assign what changed (an unchanged assignment still costs napari a refresh and a repaint)."""

        def assign(key: str, value: Any) -> None:
            if not _same(getattr(layer, key), value):
                setattr(layer, key, value)

        if spec.kind == "points":
            # per-point colours and text refer to the features: data, then features, then the rest
            changed = not _same(layer.data, spec.data)
            if changed:
                layer.data = spec.data
            if "features" in spec.update and (
                changed or not _same_frame(layer.features, spec.update["features"])
            ):
                layer.features = spec.update["features"]
            for key, value in spec.update.items():
                if key != "features":
                    assign(key, value)
            return
        for key in ("scale", "translate"):
            if key in spec.update:
                assign(key, spec.update[key])
        same = _same_shapes(layer.data, spec.data) if spec.kind == "shapes" else _same(layer.data, spec.data)
        if not same:
            layer.data = spec.data
        for key, value in spec.update.items():
            if key not in ("scale", "translate"):
                assign(key, value)

    def mark_stale(self, current_source: Any, note: str | None = None) -> int:
        """Hide and rename the layers that no longer show the current result; returns how many.

        With ``current_source`` an image layer, those drawn for another image; with None, all of
        them (e.g. after a failed run), labelled with ``note``.
        """
        key = layer_key(current_source)
        n = 0
        for lyr, tag in self._mine():
            if current_source is not None and tag.get("source") in (None, key):
                continue
            if tag.get("keep_when_stale"):
                continue
            if not tag.get("stale"):
                tag["stale"] = True
                lyr.visible = False
                label = note or f"for {tag.get('source_name') or 'an earlier image'}"
                lyr.name = f"{tag['name']} [{label}]"
            n += 1
        return n

    def edited_positions(self, role: str, image: Any) -> tuple[Any, np.ndarray | None, str]:
        """The points a user edited for ``image``, in its voxel indices (z, y, x).

        Returns (layer, indices, note): indices None with a note saying why when the layer is
        missing, belongs to another image or is empty (the caller then detects afresh).
        """
        pts = self.find(role)
        if pts is None:
            return None, None, ""
        if not self.is_current(role, image):
            return pts, None, "the bead positions belong to another image: detecting afresh"
        if len(pts.data) == 0:
            return pts, None, "no bead positions left: detecting afresh"
        world = np.asarray(pts.data)[:, -3:] * np.asarray(pts.scale)[-3:] + np.asarray(pts.translate)[-3:]
        return pts, (world - np.asarray(image.translate)[-3:]) / np.asarray(image.scale)[-3:], ""

    def is_current(self, role: str, source: Any) -> bool:
        lyr = self.find(role)
        return lyr is not None and tag_of(lyr).get("source") == layer_key(source)


def _plain(value: Any) -> Any:
    """A display value as plain Python (tuples of floats), to remember and compare."""
    try:
        return tuple(float(v) for v in value)
    except TypeError:
        return value


def _same(a: Any, b: Any) -> bool:
    """Equal values (arrays compared by content); unknown kinds count as different."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            a_, b_ = np.asarray(a), np.asarray(b)
            if a_.size > 1 << 20:  # comparing costs as much as assigning
                return False
            return (
                a_.shape == b_.shape
                and a_.dtype.kind == b_.dtype.kind
                and bool(np.array_equal(a_, b_, equal_nan=a_.dtype.kind == "f"))
            )
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _same_frame(a: Any, b: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.DataFrame(a).equals(pd.DataFrame(b)))
    except (TypeError, ValueError):
        return False


def _same_shapes(a: list, b: list) -> bool:
    return len(a) == len(b) and all(_same(np.asarray(x), np.asarray(y)) for x, y in zip(a, b, strict=True))


class DrawQueue(QObject):
    """Runs drawing steps in the event loop, so the viewer stays responsive between them.

    ``run(steps, done, later, finished)``: ``steps`` (what the result needs), then ``done()`` (fill
    the dock), then ``later`` (what may follow the result on screen, e.g. hidden layers), one per
    turn, then ``finished()``. In-place updates are cheap: they share a turn until ``BUDGET_MS`` is
    spent. Steps that add layers (``batch=True``) run back to back in one turn: each turn between
    them would repaint the canvas and the layer list again, a cost that shows in the time to result.

    ``durations`` keeps how long each step of the last run took (seconds), for benchmarks.
    """

    #: pause between steps: lets timers, input and repaints run (zero-delay chains would starve them)
    PAUSE_MS = 10
    #: steps run back to back within one turn until this much time is spent
    BUDGET_MS = 30

    def __init__(self, parent: QObject | None = None, on_error: Callable[[BaseException], Any] | None = None):
        super().__init__(parent)
        self.on_error = on_error
        self._steps: list[Callable[[], Any]] = []
        self._later: list[Callable[[], Any]] = []
        self._done: Callable[[], Any] | None = None
        self._finished: Callable[[], Any] | None = None
        self._batch = False
        self.durations: list[float] = []

    @property
    def busy(self) -> bool:
        return bool(self._steps or self._later) or self._done is not None or self._finished is not None

    def run(
        self,
        steps: list[Callable[[], Any]],
        done: Callable[[], Any] | None = None,
        later: list[Callable[[], Any]] | None = None,
        finished: Callable[[], Any] | None = None,
        batch: bool = False,
    ) -> None:
        self._steps = list(steps)
        self._later = list(later or [])
        self._done = done
        self._finished = finished
        self._batch = batch
        self.durations = []
        QTimer.singleShot(self.PAUSE_MS, self._next)

    def cancel(self) -> None:
        self._steps, self._later, self._done, self._finished = [], [], None, None

    def _step(self, step: Callable[[], Any]) -> bool:
        """Run one step; False (and everything cancelled) when it failed."""
        t0 = time.perf_counter()
        try:
            step()
        except Exception as exc:  # a drawing step failed: stop drawing and say why
            self.cancel()
            if self.on_error is not None:
                self.on_error(exc)
            return False
        finally:
            self.durations.append(time.perf_counter() - t0)
        return True

    def _next(self) -> None:
        """Run steps until this turn's budget is spent, then hand the event loop back."""
        turn = time.perf_counter()
        while self._steps:
            if not self._step(self._steps.pop(0)):
                return
            if self._steps and not self._batch and (time.perf_counter() - turn) * 1000 > self.BUDGET_MS:
                QTimer.singleShot(self.PAUSE_MS, self._next)
                return
        done, self._done = self._done, None
        if done is not None and not self._step(done):
            return
        if self._later:  # after the result is on screen: one per turn
            QTimer.singleShot(self.PAUSE_MS, self._next_later)
        else:
            self._finish()

    def _next_later(self) -> None:
        if self._later and not self._step(self._later.pop(0)):
            return
        if self._later:
            QTimer.singleShot(self.PAUSE_MS, self._next_later)
        else:
            self._finish()

    def _finish(self) -> None:
        finished, self._finished = self._finished, None
        if finished is not None:
            self._step(finished)
