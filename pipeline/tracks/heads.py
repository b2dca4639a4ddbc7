"""Fine-tuned heads in a precompute run (``run --head``): one extra store variable per head output.

At planning each head file is read, checked against the run's ensemble (name and checkpoint
SHA-256s) and described by its digest, task and columns; the digests join the store identity, so a
run with other heads (or a retrained file) will not resume into the store. Tile tasks load each
head once per process and refuse a file whose digest changed since planning.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import HeadError
from ..genome.digest import sha256_file
from ..model.head import FinetunedHead, check_base, head_columns, load_head, read_head
from ..model.spec import ModelSpec
from .layout import VARIABLES


def plan_heads(paths: tuple[str, ...], model: ModelSpec) -> list[dict[str, Any]]:
    """``{"path", "digest", "task", "columns"}`` per head; `HeadError` for a head of another base or
    output names that clash with the store's variables or each other."""
    heads, taken = [], set(VARIABLES) | {"strand", "tissue"}
    for path in paths:
        saved = read_head(path)
        check_base(saved["base"], model.ensemble, model.checksums(), path)
        columns = head_columns(saved["task"], saved["outputs"])
        clash = sorted(taken.intersection(columns))
        if clash:
            raise HeadError(f"head {path} outputs {', '.join(clash)}, already a variable of the store "
                            "(another head's output or a built-in): rename the targets when fine-tuning")
        taken.update(columns)
        heads.append({"path": str(Path(path).absolute()), "digest": sha256_file(path), "task": saved["task"],
                      "columns": columns})
    return heads


def load_heads(heads: list[dict[str, Any]], model: ModelSpec) -> list[FinetunedHead]:
    """This process's loaded heads of a job (each loaded once per process)."""
    return [_load(head["path"], head["digest"], model) for head in heads]


@lru_cache(maxsize=8)
def _load(path: str, digest: str, model: ModelSpec) -> FinetunedHead:
    if sha256_file(path) != digest:
        raise HeadError(f"head {path} changed since the store was planned: its scores would not match the store's "
                        "identity; restore the file or start a new store")
    return load_head(path, model.load())
