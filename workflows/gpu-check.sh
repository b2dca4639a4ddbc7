#!/usr/bin/env bash
# GPU checks on a CUDA machine, in one go (each step logs to OUTDIR and a failure does not stop the next):
#   1. the GPU tests: float32 exactness and half-precision error against the golden outputs, cone-of-
#      influence and variant scoring against their oracles, a dask-cuda run equal to an inline one;
#   2. the engine benchmark on 2.2 Mb of real chr2 sequence, with a window x batch sweep per dtype;
#   3. the all-SNV store's speed (bench saturate) against `score` and the official-style path;
#   4. the chr2 benchmark config (nine genes) precomputed inline and on a dask-cuda cluster: wall
#      time of each and whether every stored value is equal.
# Usage (repository root): workflows/gpu-check.sh OUTDIR
# Data: $PANGOLIN_SHARED (default ../shared), weights: $PANGOLIN_WEIGHTS (default in it).
set -uo pipefail
out=${1:-gpu-check}
mkdir -p "$out"
shared=${PANGOLIN_SHARED:-../shared}
export PANGOLIN_SHARED=$shared PANGOLIN_WEIGHTS=${PANGOLIN_WEIGHTS:-$shared/weights/pangolin-v2} PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
chr2=$shared/data/grch38-chr2
step() { echo "== $1 ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version())"

step "GPU tests"
timeout 300 "$py" -m pytest -m gpu tests/model/test_gpu.py -q -p no:cacheprovider -W ignore::DeprecationWarning \
    -W ignore::FutureWarning 2>&1 | tee "$out/pytest-gpu.log"

if [ "${BENCH:-1}" = 1 ]; then  # BENCH=0 skips it
    step "engine benchmark"
    timeout 300 "$py" -m pipeline.cli bench engine --device cuda --fasta "$chr2/chr2_1-2333275.fa.gz" \
        --region chr2:100,001-2,300,000 --reference-bases 100000 --window 25000 --window 100000 \
        --batch 1 --batch 8 --batch 32 2>&1 | tee "$out/bench-cuda.log"
fi

step "all-SNV store"
timeout 200 "$py" -m pipeline.cli bench saturate --device cuda --data "$shared/data" 2>&1 | tee "$out/saturate-cuda.log"

step "chr2 genes: inline and dask-cuda"
stores=$(mktemp -d)
for cluster in none cuda; do
    SECONDS=0
    printf '%s\n' "fasta: $chr2/chr2_1-2333275.fa.gz" "annotation: $chr2/canonical.gtf" \
        "weights: $PANGOLIN_WEIGHTS" "device: cuda" "cluster: $cluster" "out: $stores/$cluster.zarr" >"$stores/$cluster.yaml"
    timeout 200 "$py" -m pipeline.cli run --config "$stores/$cluster.yaml" 2>&1 | tail -3
    echo "cluster $cluster: ${SECONDS} s wall (planning, model load and writing included)"
done | tee "$out/chr2-run.log"
"$py" - "$stores/none.zarr" "$stores/cuda.zarr" <<'PY' 2>&1 | tee -a "$out/chr2-run.log"
import sys

import numpy as np
import zarr

inline, cuda = (zarr.open_group(path, mode="r") for path in sys.argv[1:])
for name, array in sorted(inline.arrays()) + [(f"{g}/{n}", a) for g, grp in inline.groups() for n, a in grp.arrays()]:
    other = cuda[name]
    same = np.array_equal(array[...], other[...], equal_nan=True)
    print(f"{name}: {array.shape} {'equal' if same else 'DIFFERENT'}")
PY
step "done"
