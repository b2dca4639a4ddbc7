"""A lazy, 1-based ``position`` index for xarray: labels like pandas, nothing allocated per base.

Index i along a chromosome's axis is position ``first + i * step`` (``first`` = 1, ``step`` = 1 for a
whole chromosome). Only those three numbers are kept, so a whole genome opens without a label array.

Selection follows pandas' ``.loc``: ``sel(position=p)`` picks one base (and drops the dimension);
``slice(a, b)`` includes both ends and, like a pandas label slice, returns what lies inside it (a slice
running past the chromosome or the selection is clipped, one wholly outside is empty); lists and
arrays pick those bases; a position that is not in the index is a `KeyError`, and one outside the
chromosome says so. ``method="nearest"`` (with ``tolerance``) snaps scalars and arrays, integral or
not, to the nearest label of the index, as pandas does: past either end to that end, ties to the
larger label. The index survives ``isel`` (slices stay lazy; arrays become a pandas index),
alignment and concatenation along other dims (indexes compare by ``first``, ``step`` and size),
concatenation of adjacent pieces along ``position``, ``to_dataframe`` (a `pandas.RangeIndex`) and
pickling. Writing a dataset with it (``to_zarr``, ``to_netcdf``) writes its labels as an ordinary
integer coordinate; `PositionIndex.from_variables` turns such a coordinate back into this index.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from xarray import DataArray, Variable
from xarray.core.indexing import CoordinateTransformIndexingAdapter, IndexSelResult
from xarray.indexes import CoordinateTransform, CoordinateTransformIndex, Index, PandasIndex

from ..errors import PositionNotFound

DIM = "position"
ATTRS = {"long_name": "position", "units": "nt", "description": "1-based position on the chromosome"}


class PositionTransform(CoordinateTransform):
    """Index i <-> label ``first + i * step`` (integers); ``length`` bounds the chromosome if known."""

    def __init__(self, first: int, size: int, step: int = 1, *, length: int | None = None,
                 chrom: str | None = None, coord_name: Hashable = DIM, dim: str = DIM):
        super().__init__([coord_name], {dim: int(size)}, dtype=np.dtype("int64"))
        if step == 0:
            raise ValueError("a position index needs a non-zero step")
        self.first, self.step = int(first), int(step)
        self.length, self.chrom = (None if length is None else int(length)), chrom

    @property
    def coord_name(self) -> Hashable:
        return self.coord_names[0]

    @property
    def dim(self) -> str:
        return self.dims[0]

    @property
    def size(self) -> int:
        return self.dim_size[self.dim]

    @property
    def last(self) -> int:
        return self.first + (self.size - 1) * self.step

    def forward(self, dim_positions: dict[str, Any]) -> dict[Hashable, Any]:
        index = np.asarray(dim_positions[self.dim], dtype=np.int64)
        return {self.coord_name: self.first + index * self.step}

    def reverse(self, coord_labels: dict[Hashable, Any]) -> dict[str, Any]:
        labels = np.asarray(coord_labels[self.coord_name])
        return {self.dim: (labels - self.first) / self.step}

    def generate_coords(self, dims: tuple[str, ...] | None = None) -> dict[Hashable, Any]:
        return {self.coord_name: self.first + np.arange(self.size, dtype=np.int64) * self.step}

    def equals(self, other: CoordinateTransform, exclude: frozenset[Hashable] | None = None, **kwargs) -> bool:
        return isinstance(other, PositionTransform) and (self.first, self.step, self.size) == (
            other.first, other.step, other.size)

    def with_range(self, first: int, size: int, step: int) -> PositionTransform:
        """The same chromosome and names, another run of labels."""
        return PositionTransform(first, size, step, length=self.length, chrom=self.chrom,
                                 coord_name=self.coord_name, dim=self.dim)

    def describe(self) -> str:
        if self.size == 0:
            return "no positions"
        step = "" if self.step == 1 else f" every {self.step}"
        return f"positions {self.first:,} to {self.last:,}{step}"


class PositionIndex(CoordinateTransformIndex):
    """The 1-based position index of a chromosome or a part of one (see the module docstring)."""

    transform: PositionTransform

    def __init__(self, transform: PositionTransform):
        super().__init__(transform)

    @classmethod
    def for_chromosome(cls, length: int, chrom: str | None = None, dim: str = DIM) -> PositionIndex:
        """Positions 1..``length``."""
        return cls(PositionTransform(1, length, 1, length=length, chrom=chrom, coord_name=dim, dim=dim))

    @classmethod
    def from_variables(cls, variables: Mapping[Any, Variable], *, options: Mapping[str, Any]) -> PositionIndex:
        """From an explicit, evenly spaced integer coordinate (``ds.set_xindex("position", PositionIndex)``);
        options ``length`` and ``chrom`` name the chromosome's bounds."""
        if len(variables) != 1:
            raise ValueError(f"a position index is built from one coordinate, got {list(variables)}")
        name, var = next(iter(variables.items()))
        values = np.asarray(var.values)
        if var.ndim != 1 or values.dtype.kind not in "iu":
            raise ValueError(f"coordinate {name!r} must be 1-D integer positions to carry a position index")
        step = int(values[1] - values[0]) if len(values) > 1 else 1
        if step == 0 or (len(values) > 2 and not (np.diff(values) == step).all()):
            raise ValueError(f"coordinate {name!r} is not evenly spaced; it keeps a pandas index")
        first = int(values[0]) if len(values) else 1
        return cls(PositionTransform(first, len(values), step, length=options.get("length"),
                                     chrom=options.get("chrom"), coord_name=name, dim=var.dims[0]))

    def create_variables(self, variables: Mapping[Any, Variable] | None = None) -> dict[Hashable, Variable]:
        created = super().create_variables(variables)
        for name, var in created.items():
            var.data = _Labels(self.transform, name, var.dims)
            if not var.attrs:
                var.attrs = dict(ATTRS)
        return created

    # --- label selection -------------------------------------------------------------------------

    def sel(self, labels: dict[Any, Any], method: str | None = None, tolerance: Any = None) -> IndexSelResult:
        label = labels[self.transform.coord_name]
        if method not in (None, "nearest"):
            raise ValueError(f"position selection supports method=None or 'nearest', not {method!r}")
        if isinstance(label, slice):
            if method is not None or tolerance is not None:
                raise ValueError("method and tolerance apply to positions, not to slices (which include both ends)")
            return IndexSelResult({self.transform.dim: self._slice(label)})
        if isinstance(label, DataArray | Variable):
            found = self._positions(np.asarray(label.values), method, tolerance)
            if label.ndim == 0:
                return IndexSelResult({self.transform.dim: int(found)})
            wrap = DataArray(found, coords=label._coords, dims=label.dims) if isinstance(label, DataArray) \
                else Variable(label.dims, found)
            return IndexSelResult({self.transform.dim: wrap})
        array = np.asarray(label)
        found = self._positions(array, method, tolerance)
        return IndexSelResult({self.transform.dim: int(found) if array.ndim == 0 else found})

    def _slice(self, label: slice) -> slice:
        """Index positions of the labels from ``label.start`` to ``label.stop``, both included; like a
        pandas label slice, bounds past the chromosome or the index clip instead of raising."""
        t = self.transform
        lo = 0 if label.start is None else _ceil_div(self._bound(label.start) - t.first, t.step)
        hi = t.size - 1 if label.stop is None else _floor_div(self._bound(label.stop) - t.first, t.step)
        lo, hi = max(lo, 0), min(hi, t.size - 1)
        step = 1 if label.step is None else int(label.step)
        return slice(lo, hi + 1, step) if hi >= lo else slice(0, 0, step)

    def _positions(self, labels: np.ndarray, method: str | None, tolerance: Any) -> np.ndarray:
        """Index positions of an array of labels (any shape); `PositionNotFound` names the misses."""
        t = self.transform
        if labels.dtype.kind == "b":
            if labels.shape != (t.size,):
                raise IndexError(f"a boolean position mask needs {t.size:,} values, got shape {labels.shape}")
            return labels
        if method == "nearest":
            return self._nearest(labels, tolerance)
        values = self._labels(labels)
        delta = values - t.first
        index = delta // t.step
        hit = (delta % t.step == 0) & (index >= 0) & (index < t.size)
        if not hit.all():
            raise PositionNotFound(f"position {_listed(values[~hit])} not in this selection ({t.describe()})")
        return index

    def _nearest(self, labels: np.ndarray, tolerance: Any) -> np.ndarray:
        """Index positions of the labels nearest to ``labels`` (any real numbers), as pandas'
        ``get_indexer(method="nearest")``: past either end of the index the end, ties the larger label."""
        t = self.transform
        if t.size == 0:
            raise PositionNotFound("nearest position asked of an empty position index")
        if labels.dtype.kind not in "iuf" or not np.isfinite(labels).all():
            raise PositionNotFound(f"positions are numbers, got {_listed(labels.ravel())}")
        labels = labels.astype(np.float64)  # exact for any chromosome length (< 2**53); no unsigned wrap
        offset = (labels - t.first) / t.step
        index = np.floor(offset + 0.5) if t.step > 0 else np.ceil(offset - 0.5)  # both: ties to the larger label
        index = np.clip(index, 0, t.size - 1).astype(np.int64)
        if tolerance is not None:
            far = np.abs(t.first + index * t.step - labels) > tolerance
            if far.any():
                raise PositionNotFound(f"no position within {tolerance} of {_listed(labels[far])} "
                                       f"({t.describe()})")
        return index

    def _labels(self, labels: np.ndarray) -> np.ndarray:
        """Integer labels, checked against the chromosome's bounds."""
        labels = _integral(labels)
        t = self.transform
        if t.length is not None:
            outside = (labels < 1) | (labels > t.length)
            if outside.any():
                where = t.chrom or "the chromosome"
                raise PositionNotFound(f"position {_listed(labels[outside])} is outside {where} (1 to {t.length:,})")
        return labels

    def _bound(self, value: Any) -> int | float:
        """A slice bound: any real number (pandas slices an integer index by float bounds too)."""
        if np.ndim(value) != 0:
            raise TypeError(f"slice bounds are single positions, got {value!r}")
        array = np.asarray(value)
        if array.dtype.kind in "iu":
            return int(array)
        if array.dtype.kind == "f" and np.isfinite(array):
            return float(array)
        raise PositionNotFound(f"slice bounds are positions (numbers), got {value!r}")

    # --- positional selection, alignment, concatenation ------------------------------------------

    def isel(self, indexers: Mapping[Any, int | slice | np.ndarray | Variable]) -> Index | None:
        t = self.transform
        indexer = indexers[t.dim]
        if isinstance(indexer, slice):
            picked = range(t.size)[indexer]
            return type(self)(t.with_range(t.first + picked.start * t.step, len(picked), t.step * picked.step))
        if np.ndim(indexer) != 1:
            return None  # a scalar drops the dimension; n-D indexers make plain coordinates
        values = t.forward({t.dim: np.asarray(getattr(indexer, "values", indexer))})[t.coord_name]
        dim = indexer.dims[0] if isinstance(indexer, Variable | DataArray) else t.dim
        return PandasIndex(pd.Index(values, name=t.coord_name), dim, coord_dtype=values.dtype)

    @classmethod
    def concat(cls, indexes: Sequence[PositionIndex], dim: Hashable,
               positions: Iterable[Iterable[int]] | None = None) -> Index:
        """Adjacent pieces in order stay lazy; anything else becomes a pandas index of the labels."""
        first = indexes[0].transform
        size, expected = 0, first.first
        for index in indexes:
            t = index.transform
            if positions is not None or t.step != first.step or (t.size and t.first != expected):
                pieces = [PandasIndex(i.to_pandas_index(), dim, coord_dtype=np.dtype("int64")) for i in indexes]
                return PandasIndex.concat(pieces, dim, positions)
            size += t.size
            expected = t.first + t.size * t.step if t.size else expected
        return cls(first.with_range(first.first, size, first.step))

    def to_pandas_index(self) -> pd.Index:
        t = self.transform
        return pd.RangeIndex(t.first, t.first + t.size * t.step, t.step, name=t.coord_name)

    def _repr_inline_(self, max_width: int) -> str:
        return f"PositionIndex ({self.transform.describe()})"

    def __repr__(self) -> str:
        t = self.transform
        where = f"{t.chrom} " if t.chrom else ""
        return f"PositionIndex ({where}{t.describe()}, size={t.size:,})"


class _Labels(CoordinateTransformIndexingAdapter):
    """The labels, computed where they are read. Reported as in memory (there is nothing to load) so
    that ``chunks=`` and ``.load()`` leave them lazy instead of wrapping all of them in one dask chunk."""

    @property
    def _in_memory(self) -> bool:
        return True


def _integral(labels: np.ndarray) -> np.ndarray:
    """Labels as int64 when they are whole numbers (``5.0`` is position 5); `PositionNotFound` otherwise."""
    if labels.dtype.kind == "f" and np.isfinite(labels).all() and (labels == np.round(labels)).all():
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise PositionNotFound(f"positions are 1-based integers, got {_listed(labels.ravel())}")
    return labels.astype(np.int64)


def _ceil_div(a: int | float, b: int) -> int:
    return -(-a // b) if isinstance(a, int) else math.ceil(a / b)


def _floor_div(a: int | float, b: int) -> int:
    return a // b if isinstance(a, int) else math.floor(a / b)


def _listed(values: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(f"{v:,}" if isinstance(v, int | np.integer) else repr(v) for v in values.ravel()[:limit])
    return shown + (f" and {values.size - limit} more" if values.size > limit else "")


def position_coords(length: int, chrom: str | None = None, dim: str = DIM):
    """``xr.Coordinates`` holding a lazy position index for a chromosome of ``length`` bases."""
    from xarray import Coordinates

    return Coordinates.from_xindex(PositionIndex.for_chromosome(length, chrom, dim))
