"""Checking that outputs can be written before any work starts, so a long run never fails at its end.

Messages name the path as the user typed it (never a resolved symlink).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import OutputError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_output_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` can be created or replaced as a file: its folder exists and is writable.

    Raises
    ------
    OutputError
        If the folder is missing or not writable, or ``path`` is a directory.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"{option} {path} is a directory; give a file name")
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"{option} {path}: permission denied")
    return path


def check_output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` is a writable directory or can be created (its nearest existing parent is writable).

    Raises
    ------
    OutputError
        If ``path`` is a file or cannot be created or written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file, not a directory")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputError(f"{option} {path}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: permission denied")
    return path
