"""glibc malloc settings for the engine's large, short-lived activations.

Every convolution of a long window allocates and frees activations of several MB. glibc keeps
freed memory of that size for reuse only while its thresholds allow; otherwise each new tensor
comes from fresh pages that the kernel faults in and zero-fills on first touch. Dask's nanny starts
its worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which pins the thresholds low, so in a
Dask worker every activation is page-faulted anew (measured: the engine 1.3-1.4x slower, README).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1  # glibc <malloc.h> parameter numbers
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's maximum: blocks below this come from the reusable heap
TRIM_THRESHOLD = 512 * 2**20  # freed heap kept for reuse before it is returned to the system


def keep_freed_memory() -> bool:
    """Let glibc reuse freed activation memory in this process; False where libc is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD,
                                                                                      TRIM_THRESHOLD))
