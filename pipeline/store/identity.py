"""What a store was made from: the settings that change its values, compared on resume; reading it.

A run on an existing store resumes only if its `StoreIdentity` equals the stored one; otherwise
the first differing field is named (``annotation.digest: store has ..., this run has ...``). Both
products keep their identity in the root attributes, read here by path or URL.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .location import locate
from .manifest import GROUP, Manifest, unfinished

# 2: the chromosome axis is stored as `offset` (format 1: `position`, read transparently by the backend).
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
OFFSET_NOTE = ("0-based: index i along offset is 1-based position i + 1; xr.open_dataset(store, engine='pangolin', "
               "group=chrom) gives a 1-based position index")
PRODUCTS = {"track": "a splice-track store (made by `run`)", "snv": "an all-SNV store (made by `saturate`)"}


@dataclass(frozen=True)
class StoreIdentity:
    """Settings that change stored values. ``kind`` is the product (``track`` or ``snv``);
    ``settings`` holds that product's own options (e.g. the all-SNV store's regions and distance)."""

    format_version: int
    kind: str
    ensemble: str
    compute_dtype: str
    checkpoints: dict[str, str]
    reference: dict[str, Any]
    annotation: dict[str, Any]
    tiling: dict[str, int]
    dtype: str
    settings: dict[str, Any] = field(default_factory=dict)

    def to_attrs(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> StoreIdentity:
        """The identity in a store's root attributes (stores from before ``kind`` are tracks)."""
        values = {f.name: attrs.get(f.name) for f in dataclasses.fields(cls)}
        values["kind"] = values["kind"] or "track"
        values["settings"] = values["settings"] or {}
        return cls(**values)

    def difference(self, other: StoreIdentity) -> str | None:
        """One line naming the first field that differs from ``other`` (this = the store), or None."""
        for f in dataclasses.fields(self):
            old, new = getattr(self, f.name), getattr(other, f.name)
            if old == new:
                continue
            if isinstance(old, dict) and isinstance(new, dict):
                sub = next(k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
                return f"{f.name}.{sub}: store has {_short(old.get(sub))}, this run has {_short(new.get(sub))}"
            return f"{f.name}: store has {_short(old)}, this run has {_short(new)}"
        return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def read_identity(path: str | Path, unfinished_ok: bool = False) -> dict[str, Any]:
    """The root attributes of a store, given by path or URL (see location.py).

    Raises:
        StoreError: ``path`` is not a store of this package, or its creation did not complete (see
            manifest.py) unless ``unfinished_ok`` (a run about to create it again).
    """
    location = locate(path)
    if location.remote:
        return _read_remote_identity(location, unfinished_ok)
    path = location.path
    if not (path / "zarr.json").is_file():
        if (path / GROUP).is_dir():  # the lock of the run that began creating it is there (see lock.py)
            raise unfinished(path)
        raise StoreError(f"{path} is not a Zarr v3 store (no zarr.json)")
    attrs = json.loads((path / "zarr.json").read_text()).get("attributes", {})
    if "format_version" not in attrs:
        raise StoreError(f"{path} is a Zarr store but not a Pangolin splice-track store")
    if not unfinished_ok and Manifest.creation_unfinished(path):
        raise unfinished(path)
    return attrs


def _read_remote_identity(location: Any, unfinished_ok: bool) -> dict[str, Any]:
    """read_identity for a URL: one request (the root zarr.json, whose consolidated metadata also
    says whether creation finished)."""
    root = location.root
    if root is None:
        raise StoreError(f"{location} is not a Zarr v3 store (no zarr.json there)")
    if not isinstance(root, dict) or root.get("zarr_format") != 3:
        raise StoreError(f"{location} is not a Zarr v3 store (its zarr.json is not Zarr v3 metadata)")
    attrs = root.get("attributes", {})
    if "format_version" not in attrs:
        raise StoreError(f"{location} is a Zarr store but not a Pangolin splice-track store")
    if not unfinished_ok and location.has_node(GROUP) and not location.has_node(f"{GROUP}/done"):
        raise unfinished(location)
    return attrs


def check_kind(attrs: dict[str, Any], kind: str, where: Any) -> None:
    """Refuse the store at ``where`` unless its root attributes ``attrs`` are of product ``kind``.

    Raises:
        StoreError: the store is of another product (stores from before ``kind`` are tracks).
    """
    found = attrs.get("kind") or "track"
    if found != kind:
        raise StoreError(f"{where} is a {found} store, not {PRODUCTS[kind]}")
