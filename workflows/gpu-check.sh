#!/usr/bin/env bash
# GPU checks on a CUDA machine, in one go, most important first (each step logs to OUTDIR and a failure
# does not stop the next; every step's timeout is cut to what is left of BUDGET_S, default 470 s, so the
# whole run stays under 8 minutes and a step that no longer fits is skipped, saying so):
#   1. the GPU tests: float32 exactness and half-precision error against the golden outputs, cone-of-
#      influence and variant scoring against their oracles, a dask-cuda run equal to an inline one,
#      our Triton convolution (compiled and autotuned) against conv2d at the network's shapes, and the
#      engine and cone passes on it against cuDNN and full passes ("auto" measuring each shape once);
#   2. our Triton convolution against cuDNN per shape and dtype: time, TFLOP/s, % of the card's dense
#      peak, max |diff|, whole blocks, MAC-weighted totals (python -m pipeline.bench.triton_conv);
#      steps 1 and 2 compile 144 kernels (36 shape/fusion/dtype variants x 4 tuning configs; compiled
#      for sm_90 on a busy 2-core machine, 72 of them took 95 s); Triton's disk cache (~/.triton/cache)
#      shares them between the two steps and with a second run;
#   3. the golden tests on the CPU side (the official outputs, every checkpoint, both engines);
#   4. the engine benchmark on 2.2 Mb of real chr2 sequence, the fast engine and cone rows on cuDNN and on
#      our Triton kernel side by side (--kernel cudnn --kernel triton), then a window x batch sweep per
#      dtype on "auto" (each shape and dtype on the kernel it measured faster);
#   5. the all-SNV store's speed (bench saturate) against `score` and the official-style path, and a
#      float32 store made on the GPU against one made on the CPU (90 SNVs, value by value);
#      before it (run after step 2): float16's certification bound (python -m pipeline.bench.certify)
#      and a certified float16 saturate against float32 on the same card;
#   6. the chr2 benchmark config (nine genes) precomputed inline and on a dask-cuda cluster: wall
#      time of each and whether every stored value is equal.
# Usage (repository root): workflows/gpu-check.sh OUTDIR. BENCH=0 skips step 4, KERNEL=0 step 2.
# Data: $PANGOLIN_SHARED (default ../shared), weights: $PANGOLIN_WEIGHTS (default in it).
set -uo pipefail
out=${1:-gpu-check}
mkdir -p "$out"
shared=${PANGOLIN_SHARED:-../shared}
export PANGOLIN_SHARED=$shared PANGOLIN_WEIGHTS=${PANGOLIN_WEIGHTS:-$shared/weights/pangolin-v2} PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
chr2=$shared/data/grch38-chr2
budget=${BUDGET_S:-470}
step() { echo "== $1 ($(date +%T), ${SECONDS} s in)"; }
# capped MAX command...: the command under `timeout`, MAX seconds or what is left of the budget if less
capped() {
    local left=$((budget - SECONDS)) limit=$1
    shift
    ((left < limit)) && limit=$left
    if ((limit < 20)); then
        echo "skipped: ${SECONDS} s of the ${budget} s budget spent"
        return 0
    fi
    timeout "$limit" "$@"
}

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version())"
"$py" -c "import triton; print('triton', triton.__version__)" || echo "triton missing: pip install -e '.[triton]'"

step "GPU tests"
capped 240 "$py" -m pytest -m gpu tests/model/test_gpu.py tests/model/test_triton_conv.py \
    tests/model/test_triton_engine.py -q -p no:cacheprovider \
    -W ignore::DeprecationWarning -W ignore::FutureWarning 2>&1 | tee "$out/pytest-gpu.log"

if [ "${KERNEL:-1}" = 1 ]; then
    step "Triton convolution vs cuDNN"
    capped 180 "$py" -m pipeline.bench.triton_conv 2>&1 | tee "$out/triton-conv.log"
fi

step "float16 certification: its bound measured, then the certified all-SNV store against float32"
# eps and eta for float16 on this GPU (to go into snvs/certify.py's MEASURED), then bench saturate of 1 kb
# around a BRCA1 exon in float32 and in certified float16: SNVs/s, share recomputed, equality with `score`
capped 150 "$py" -m pipeline.bench.certify --dtype float16 --device cuda --shared "$shared" \
    --then-saturate chr17:41,275,647-41,276,645 2>&1 | tee "$out/certify-float16.log"

step "golden tests"
capped 90 "$py" -m pytest tests/model/test_golden.py -q -p no:cacheprovider 2>&1 | tee "$out/pytest-golden.log"

if [ "${BENCH:-1}" = 1 ]; then
    step "engine benchmark"
    # both kernels' rows cost three engine and three cone runs more than one kernel: the sweep keeps the
    # 100 kb windows at batch 8 and 32 (batch 1 and 25 kb windows were measured slower on the H200)
    capped 180 "$py" -m pipeline.cli bench engine --device cuda --fasta "$chr2/chr2_1-2333275.fa.gz" \
        --region chr2:100,001-2,300,000 --reference-bases 100000 --kernel cudnn --kernel triton \
        --window 100000 --batch 8 --batch 32 2>&1 | tee "$out/bench-cuda.log"
fi

step "all-SNV store"
capped 120 "$py" -m pipeline.cli bench saturate --device cuda --data "$shared/data" \
    --compare-cpu chr17:41,276,116-41,276,145 2>&1 | tee "$out/saturate-cuda.log"

step "chr2 genes: inline and dask-cuda"
stores=$(mktemp -d)
for cluster in none cuda; do
    started=$SECONDS
    printf '%s\n' "fasta: $chr2/chr2_1-2333275.fa.gz" "annotation: $chr2/canonical.gtf" \
        "weights: $PANGOLIN_WEIGHTS" "device: cuda" "cluster: $cluster" "out: $stores/$cluster.zarr" >"$stores/$cluster.yaml"
    capped 100 "$py" -m pipeline.cli run --config "$stores/$cluster.yaml" 2>&1 | tail -3
    echo "cluster $cluster: $((SECONDS - started)) s wall (planning, model load and writing included)"
done | tee "$out/chr2-run.log"
[ -d "$stores/none.zarr" ] && [ -d "$stores/cuda.zarr" ] && "$py" - "$stores/none.zarr" "$stores/cuda.zarr" <<'PY' 2>&1 | tee -a "$out/chr2-run.log"
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
