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
# The binary the jobs run: PERSONA_EVAL (e.g. the one built in the source
# folder, as an absolute path the nodes can reach), else persona-eval on PATH.
bin=${PERSONA_EVAL:-persona-eval}

# sbatch --wrap runs its command with /bin/sh (dash on Debian), so every word
# is quoted for sh: in single quotes, each ' written as '\''.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
run_args=""
for a in "$@"; do
    run_args="$run_args $(q "$a")"
done

# One array task per shard; %a in --output is the task index. A requeued task
# finds its run.json and resumes.
jobid=$(sbatch --parsable --array="0-$((n - 1))" --job-name=persona-eval \
    --output="${prefix//%/%%}.shard-%a.log" --requeue \
    --wrap="dir=$(q "$prefix").shard-\$SLURM_ARRAY_TASK_ID; \
if [ -f \"\$dir/run.json\" ]; then set -- --resume \"\$dir\"; else set -- --out \"\$dir\"; fi; \
exec $(q "$bin") --shard auto --shards $n$run_args \"\$@\"")
jobid=${jobid%%;*}

# The merge waits for every task of the array to succeed; if one fails, the
# dependency can never be met and Slurm cancels the merge rather than leaving
# it pending.
dirs=""
for ((i = 0; i < n; i++)); do
    dirs="$dirs $(q "${prefix}.shard-$i")"
done
mergeid=$(sbatch --parsable --dependency="afterok:${jobid}" --kill-on-invalid-dep=yes \
    --job-name=persona-eval-merge --output="${prefix//%/%%}.merge.log" \
    --wrap="exec $(q "$bin") merge$dirs --out $(q "$prefix")")
mergeid=${mergeid%%;*}
echo "submitted array job $jobid ($n shards) and merge job $mergeid"
