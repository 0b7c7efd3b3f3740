"""Give memory that the embedded models freed back to the operating system.

onnxruntime's activations (tens of MB a batch) and spaCy's parses are allocated by
glibc malloc from per-thread arenas, and the worker threads of ``asyncio.to_thread``
each get one. Freed pages stay in those arenas: a server that had ingested two
documents held 1.66 GB, of which one ``malloc_trim(0)`` returned 0.97 GB. Calling it
after each batch keeps the resident size near the working set. Where malloc is not
glibc's (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

__all__ = ["release_free_memory", "trim_supported"]


def _load_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: no malloc_trim to call
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _load_trim()
_LOCK = threading.Lock()  # one trim at a time: a second one at once would find nothing


def trim_supported() -> bool:
    """Whether this process's malloc can return freed memory on request (glibc)."""
    return _TRIM is not None


def release_free_memory() -> bool:
    """Return the free pages of every malloc arena to the OS (blocking, a few ms).

    Returns ``True`` if memory was released, ``False`` if there was none to release,
    another thread was trimming, or the platform has no ``malloc_trim``.
    """
    if _TRIM is None or not _LOCK.acquire(blocking=False):
        return False
    try:
        return bool(_TRIM(0))
    finally:
        _LOCK.release()
