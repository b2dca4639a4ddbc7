"""What a store was made from: the settings that change its values, compared on resume.

A run on an existing store resumes only if its `StoreIdentity` equals the stored one; otherwise
the first differing field is named (``annotation.digest: store has ..., this run has ...``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


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
