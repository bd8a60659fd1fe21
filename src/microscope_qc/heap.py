"""glibc's heap for a process that runs one analysis and exits: reuse freed memory instead of refaulting it.

An analysis allocates and frees full-size temporaries many times, in several threads. By default
glibc maps every block above its mmap threshold (128 KiB, raised after frees to at most 32 MiB)
afresh and unmaps it when freed, keeps at most twice that threshold of free heap, and gives each
thread an arena of its own; each new array's pages are then zeroed by the kernel one by one on
first touch. For the ``microscope-qc`` command, which exits after its run, keeping freed memory for
the next array costs less: one arena, blocks up to :data:`PROCESS_MMAP_THRESHOLD` from the heap,
and that much free heap kept. The page faults of a PSF or field run fall to about a quarter, with
a peak memory within a few percent (``benchmarks/end_to_end.py`` measures the commands).

A user's own ``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` is
left as it is; with another C library (not glibc) nothing changes.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["glibc", "reuse_freed_memory", "M_TRIM_THRESHOLD", "M_MMAP_THRESHOLD", "M_ARENA_MAX"]

#: glibc's mallopt parameters
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
#: blocks up to this size come from the heap, and the heap keeps up to twice this much free
PROCESS_MMAP_THRESHOLD = 64 * 2**20


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (Linux), else None.

    Returns
    -------
    ctypes.CDLL or None
        The library, whose ``mallopt`` and ``malloc_trim`` can be called.
    """
    try:
        return ctypes.CDLL("libc.so.6") if os.confstr("CS_GNU_LIBC_VERSION") else None
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), another C library
        return None


def reuse_freed_memory() -> list[str]:
    """Set glibc to keep and reuse freed memory for the rest of this process (call it early, before threads).

    Returns
    -------
    list of str
        The settings changed (``"arena max"``, ``"mmap threshold"``, ``"trim threshold"``); empty
        when the C library is not glibc or the environment already sets them all.
    """
    libc = glibc()
    if libc is None:
        return []
    wanted = (
        ("MALLOC_ARENA_MAX", M_ARENA_MAX, 1, "arena max"),
        ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, PROCESS_MMAP_THRESHOLD, "mmap threshold"),
        ("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, 2 * PROCESS_MMAP_THRESHOLD, "trim threshold"),
    )
    changed = []
    for variable, parameter, value, name in wanted:
        if variable not in os.environ and libc.mallopt(parameter, value) == 1:  # mallopt: 1 on success
            changed.append(name)
    return changed
