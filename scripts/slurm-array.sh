#!/bin/bash
# Run persona-eval as a Slurm job array of N shards, then merge them in a job
# that starts when every shard has succeeded.
#
#   scripts/slurm-array.sh N OUT_PREFIX [run options...]
#   scripts/slurm-array.sh 8 results/lamp2m-pa --task lamp2m --method personaagent
#
# Each array task runs `persona-eval --shard auto --shards N` (the index comes
# from SLURM_ARRAY_TASK_ID) into OUT_PREFIX.shard-<index>, resuming its own
# directory if it was started before (so a requeued task loses nothing); the
# merge job writes OUT_PREFIX. Shards may share one --cache directory.
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 N OUT_PREFIX [run options...]" >&2
    exit 2
fi
n=$1
prefix=$2
shift 2
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a positive whole number" >&2; exit 2 ;; esac
bin=${PERSONA_EVAL:-persona-eval}

# One array task per shard; %A is the array job id, %a the task index.
run_args=$(printf ' %q' "$@")
jobid=$(sbatch --parsable --array="0-$((n - 1))" --job-name=persona-eval \
    --output="${prefix}.shard-%a.log" --requeue \
    --wrap="dir=${prefix}.shard-\$SLURM_ARRAY_TASK_ID; \
if [ -f \"\$dir/run.json\" ]; then set -- --resume \"\$dir\"; else set -- --out \"\$dir\"; fi; \
exec $bin --shard auto --shards $n$run_args \"\$@\"")

# The merge waits for every task of the array to succeed.
dirs=""
for ((i = 0; i < n; i++)); do
    dirs="$dirs ${prefix}.shard-$i"
done
sbatch --parsable --dependency="afterok:${jobid}" --job-name=persona-eval-merge \
    --output="${prefix}.merge.log" --wrap="$bin merge$dirs --out $prefix"
echo "submitted array job $jobid ($n shards) and its merge"
