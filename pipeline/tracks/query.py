"""Getting answers out of a track store's selections (tracks/reader.py): wide tables, their text and
Parquet forms, predicted sites.

All positions a user sees are 1-based (region strings, the ``position`` coordinate, TSV output).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import QueryError, RegionError

METRICS = ("p_splice", "usage")
STORED_DTYPES = "stored_dtypes"  # table.attrs key: each value column's dtype in the store
# Parquet: positions delta-encoded, labels and values dictionary-encoded, zstd. Unscored rows (all
# values null) then cost almost nothing, so whole-chromosome tables stay small with every row kept.
PARQUET_OPTIONS = {"compression": "zstd", "column_encoding": {"position": "DELTA_BINARY_PACKED"}}
JSON_ROWS = 65_536  # rows formatted at a time (bounds the memory of the text of huge tables)


def _with_dims(ds: xr.Dataset) -> xr.Dataset:
    """Scalar strand or tissue selections back as length-1 dimensions (tables need all three)."""
    _check_tracks(ds)
    for dim in ("strand", "tissue"):
        if dim not in ds.dims:
            ds = ds.expand_dims(dim)
    return ds.transpose("strand", "position", "tissue", ...)


def _check_tracks(ds: xr.Dataset) -> None:
    missing = [name for name in METRICS if name not in ds.data_vars]
    if missing:
        what = "an all-SNV store's" if "gain" in ds.data_vars else "this"
        raise QueryError(f"{what} Dataset has no {' or '.join(missing)}: tables and sites are made from a "
                         "splice-track store (made by `run`)")


def to_table(ds: xr.Dataset) -> pd.DataFrame:
    """Wide table: chrom, position, strand, then {tissue}_p_splice and {tissue}_usage columns, then one
    column per fine-tuned head output the store holds (`run --head`: p_donor, p_acceptor, ...).

    Values are float32 (every stored float16 is one exactly); ``table.attrs["stored_dtypes"]`` names
    each value column's dtype in the store, so that text output prints the shortest exact form.
    """
    ds = _with_dims(ds)
    frames = []
    heads = sorted((name for name, var in ds.data_vars.items() if name not in METRICS and "tissue" not in var.dims),
                   key=lambda name: ds[name].attrs.get("head_order", 0))
    values = read_values(ds, [*METRICS, *heads])
    stored = {}
    positions = ds.position.values
    for s, strand in enumerate(ds.strand.values):
        columns = {"chrom": ds.attrs["chrom"], "position": positions, "strand": strand}
        for t, tissue in enumerate(ds.tissue.values):
            for metric in METRICS:
                columns[f"{tissue}_{metric}"] = values[metric][s, :, t]
                stored[f"{tissue}_{metric}"] = str(ds[metric].dtype)
        for name in heads:
            columns[name] = values[name][s]
            stored[name] = str(ds[name].dtype)
        frames.append(pd.DataFrame(columns))
    table = pd.concat(frames, ignore_index=True)
    table.attrs[STORED_DTYPES] = stored
    return table


def read_values(ds: xr.Dataset, names: list[str]) -> dict[str, np.ndarray]:
    """The values of variables ``names`` of ``ds`` as float32 (every stored float16 is one exactly), one read
    each, all at once: from a store by URL the variables' requests then overlap, so a query waits about
    one round trip per step instead of one per variable (the same requests either way)."""
    def read(name: str) -> np.ndarray:
        return ds[name].values.astype(np.float32)

    if len(names) < 2:
        return {name: read(name) for name in names}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:  # each read waits on zarr's own event loop
        return dict(zip(names, pool.map(read, names), strict=True))


def write_table(table: pd.DataFrame, fmt: str, out: IO) -> None:
    """Write a `to_table` frame as tsv, csv, json (records) or parquet to the open handle ``out``
    (binary for parquet, text otherwise: see `pipeline.outputs.OutputFile.open`).

    Every row is written, scored or not (the table has one row per position and strand). TSV and CSV
    have one header row and no comment lines, so every reader's defaults load them; NaN (not scored)
    is written as NA (null in JSON and Parquet). Text formats print each value in the shortest form
    that reads back as exactly the stored value (`stored_text`); Parquet holds the float32 values.
    """
    if fmt == "parquet":
        table.to_parquet(out, index=False, use_dictionary=[c for c in table.columns if c != "position"],
                         **PARQUET_OPTIONS)
    elif fmt == "json":
        out.write(json_records(table) + "\n")
    else:
        stored_text(table).to_csv(out, sep="\t" if fmt == "tsv" else ",", index=False, na_rep="NA")


def stored_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each value column in its stored dtype (``attrs["stored_dtypes"]``), so that
    pandas prints numpy's shortest repr of that dtype: ``0.04614`` for a float16, not ``0.0461426``
    nor ``0.046142578``; it reads back (cast to the stored dtype) as exactly the stored value.
    A column whose values the stored dtype cannot hold exactly keeps its own dtype."""
    cast = {}
    for name, dtype in table.attrs.get(STORED_DTYPES, {}).items():
        if name not in table.columns or table[name].dtype == dtype:
            continue
        values = table[name].to_numpy()
        narrow = values.astype(dtype)
        if np.array_equal(narrow.astype(values.dtype), values, equal_nan=True):
            cast[name] = narrow
    return table.assign(**cast) if cast else table


def json_records(table: pd.DataFrame) -> str:
    """``table`` as a JSON array of records (as pandas' ``orient="records"``), numbers as `stored_text`
    prints them (pandas' ``to_json`` rounds to 10 decimal places), NaN as null."""
    table = stored_text(table)
    chunks = []
    for lo in range(0, len(table), JSON_ROWS):
        part = table.iloc[lo : lo + JSON_ROWS]
        rows = None
        for n, name in enumerate(part.columns):
            cells = ("{" if n == 0 else ",") + json.dumps(str(name)) + ":" + _json_values(part[name])
            rows = cells if rows is None else rows + cells
        if rows is not None:
            chunks.append(",".join(rows + "}"))
    return "[" + ",".join(chunks) + "]"


def _json_values(column: pd.Series) -> np.ndarray:
    """JSON text of each value of ``column`` (object array); NaN and missing labels are null."""
    values = column.to_numpy()
    if values.dtype.kind == "f":
        text = values.astype(str).astype(object)
        text[~np.isfinite(values)] = "null"
        return text
    if values.dtype.kind in "iu":
        return values.astype(str).astype(object)
    codes, labels = pd.factorize(column)  # strings, bools, ...: a few distinct labels, each dumped once
    dumped = [json.dumps(v.item() if isinstance(v, np.generic) else v) for v in labels]
    return np.array([*dumped, "null"], dtype=object)[codes]


def sites(ds: xr.Dataset, threshold: float = 0.2, metric: str = "p_splice") -> pd.DataFrame:
    """Predicted splice sites: one row per (position, strand, tissue) with ``metric >= threshold``."""
    if metric not in METRICS:
        raise RegionError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    _check_tracks(ds)
    data = _with_dims(ds[["p_splice", "usage"]])
    values = read_values(data, list(METRICS))
    hits = np.argwhere(np.nan_to_num(values[metric], nan=-1) >= threshold)
    rows = {
        "chrom": ds.attrs["chrom"],
        "position": data.position.values[hits[:, 1]],
        "strand": data.strand.values[hits[:, 0]],
        "tissue": data.tissue.values[hits[:, 2]],
        "p_splice": values["p_splice"][tuple(hits.T)],
        "usage": values["usage"][tuple(hits.T)],
    }
    return pd.DataFrame(rows).sort_values(["position", "strand", "tissue"], ignore_index=True)
