#!/bin/bash
# Scheduler-free precompute with a SLURM job array (no long-lived driver):
#   pangolin-pipeline init --config conf/my_genome.yaml            # store + tile list
#   sbatch --array=1-64 --gres=gpu:1 workflows/array_tiles.sh STORE 64
#   pangolin-pipeline finalize STORE                                # lists missing tiles, exit 1 if any
# Each task scores every 64th pending tile; re-running the array redoes only missing tiles.
#SBATCH --job-name=pangolin-tiles
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=12:00:00
set -euo pipefail
STORE=${1:?usage: array_tiles.sh STORE PARTS}
PARTS=${2:?usage: array_tiles.sh STORE PARTS}
pangolin-pipeline run-tiles "$STORE" --part "${SLURM_ARRAY_TASK_ID:?run as a SLURM array}" --parts "$PARTS" --one-based
