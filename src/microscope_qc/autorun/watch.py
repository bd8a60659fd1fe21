"""Watch mode: keep watching the folders and hand over each new file once it is complete.

A file counts as complete when its size and modification time have not changed for
``stable_seconds`` (an acquisition software writes a file over seconds to minutes). Events come
from the ``watchfiles`` package; it also wakes this loop every ``poll_seconds`` to look at the
files still being written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["WatchMissing", "watch_folders", "WATCH_EXTRA"]

#: how to install what watch mode needs
WATCH_EXTRA = 'pip install "napari-microscope-qc[watch]"'


class WatchMissing(RuntimeError):
    """``--watch`` was given but the ``watchfiles`` package is not installed."""


def _import_watchfiles() -> object:
    try:
        import watchfiles
    except ImportError:
        raise WatchMissing(
            f"--watch needs the watchfiles package, which is not installed: {WATCH_EXTRA}."
        ) from None
    return watchfiles


def check_watch_available() -> None:
    """Raise :class:`WatchMissing` (naming the extra) when ``watchfiles`` is not installed."""
    _import_watchfiles()


def watch_folders(
    folders: Iterable[Path],
    wanted: Callable[[Path], bool],
    on_ready: Callable[[list[Path]], None],
    existing: Callable[[], Iterable[Path]],
    stable_seconds: float,
    timeout: float | None = None,
    poll_seconds: float = 0.5,
) -> None:
    """Watch folders; call ``on_ready`` with the files that appeared or changed once each is stable.

    Parameters
    ----------
    folders : iterable of Path
        The folders (watched recursively).
    wanted : callable
        ``wanted(path)``: whether a changed file is worth waiting for (matches a rule, is not
        in the run's output).
    on_ready : callable
        Called with the complete files, a batch at a time.
    existing : callable
        ``existing()``: the files already there, looked at once the watch has started (so that none
        written meanwhile is missed); they too are handed over once stable.
    stable_seconds : float
        How long a file's size and modification time must hold to count as complete.
    timeout : float, optional
        Stop after this many seconds (None: until interrupted with Ctrl-C).
    poll_seconds : float
        How often files still being written are looked at.

    Raises
    ------
    WatchMissing
        If ``watchfiles`` is not installed.
    """
    import threading

    wf = _import_watchfiles()
    stop = threading.Event()
    deadline = None if timeout is None else time.monotonic() + timeout
    #: path -> (size, mtime_ns, since when unchanged)
    pending: dict[Path, tuple[int, int, float]] = {}
    watcher = wf.watch(  # type: ignore[attr-defined]
        *folders,
        stop_event=stop,
        rust_timeout=max(1, int(poll_seconds * 1000)),
        yield_on_timeout=True,
        debounce=max(1, int(poll_seconds * 1000)),
        step=50,
        recursive=True,
    )
    started = False
    for changes in watcher:
        now = time.monotonic()
        if not started:  # the watch is running now: nothing written from here on is missed
            started = True
            for path in existing():
                pending.setdefault(path, (-1, -1, now))
        for change, name in changes:
            path = Path(name)
            if change.name == "deleted":
                pending.pop(path, None)
            elif path.is_file() and wanted(path):
                pending.setdefault(path, (-1, -1, now))
        ready: list[Path] = []
        for path, (size, mtime, since) in list(pending.items()):
            try:
                st = path.stat()
            except OSError:  # removed or renamed while being written
                pending.pop(path)
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                pending[path] = (st.st_size, st.st_mtime_ns, now)
            elif now - since >= stable_seconds:
                ready.append(path)
                pending.pop(path)
        if ready:
            on_ready(sorted(ready))
        if deadline is not None and time.monotonic() >= deadline:
            stop.set()
            break
