#!/usr/bin/env bash
# The GPU checks of issue 12 §6, in one script that stays under 8 minutes on one GPU:
#
#   bench/gpu.sh LOGDIR              # on a machine with CUDA
#   bench/gpu.sh LOGDIR --cpu-only   # anywhere: the same steps, tiny and on the CPU, GPU parts skipped
#
# Steps (each under its own time limit, so the whole stays under 8 minutes; a step that fails
# or runs out of time is logged and the next one runs):
#   1. env      torch, CUDA and the GPU (nvidia-smi)
#   2. tests    pytest -m gpu: CUDA determinism (a run, a population, a whole sweep: same seed,
#               same numbers) and --population auto (tests/test_gpu.py, tests/test_long.py)
#   3. sweep    bench/sweep.py: a population of P trials against P sequential trials (qm9, K = 3)
#   4. methods  bench/methods.py: each method's step time as a ratio to LS, K = 3 and K = 11
#   5. gnn      a short `paretokit study` of qm9 with --model gnn (2 targets, 1 epoch, 1 seed:
#               2 sweep trials, STL, LS and Nash-MTL = 6 epochs, each at least ~17 s on a GPU
#               by the README's arithmetic), written into LOGDIR/gnn-short/
# Every step's output goes to LOGDIR/<step>.log; LOGDIR/summary.txt lists each step's exit
# code and seconds. The exit code is that of the first failed step (0 when all passed).
# --cpu-only (or PARETOKIT_GPU_SH_CPU_ONLY=1) runs the CPU-safe parts only, on tiny settings:
# the gpu tests are collected (and skip without CUDA), the two benchmarks run on small
# problems, and the GNN study is only planned (--dry-run), so the script itself can be tested
# on a machine without a GPU. Its numbers there mean nothing.
set -uo pipefail

usage() { echo "usage: bench/gpu.sh LOGDIR [--cpu-only]" >&2; exit 2; }
[ $# -ge 1 ] || usage
LOGDIR=$1; shift
CPU_ONLY=${PARETOKIT_GPU_SH_CPU_ONLY:-0}
for arg in "$@"; do
  case $arg in
    --cpu-only) CPU_ONLY=1 ;;
    *) usage ;;
  esac
done
cd "$(dirname "$0")/.."
mkdir -p "$LOGDIR" || exit 1
LOGDIR=$(cd "$LOGDIR" && pwd)
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
: > "$LOGDIR/summary.txt"
FIRST_FAILURE=0

# step NAME LIMIT_SECONDS COMMAND...: run with a time limit, log it, record rc and seconds
step() {
  local name=$1 limit=$2; shift 2
  local start=$SECONDS rc
  echo "== $name: $*" | tee "$LOGDIR/$name.log"
  timeout --kill-after=10 "$limit" "$@" >> "$LOGDIR/$name.log" 2>&1
  rc=$?
  local took=$((SECONDS - start))
  [ $rc -eq 124 ] && echo "(stopped after its limit of $limit s)" >> "$LOGDIR/$name.log"
  printf '%-8s rc %-3s %4d s (limit %d s)\n' "$name" "$rc" "$took" "$limit" | tee -a "$LOGDIR/summary.txt"
  if [ $rc -ne 0 ] && [ $FIRST_FAILURE -eq 0 ]; then FIRST_FAILURE=$rc; fi
}

skipped() { printf '%-8s skipped (%s)\n' "$1" "$2" | tee -a "$LOGDIR/summary.txt"; }

gnn_study() {  # the short GNN study file, in LOGDIR (its results and report land beside it)
  cat > "$LOGDIR/gnn-short.toml" <<EOF
title = "QM9 with the graph network: a short GPU check"
claim = "beyond"
problem = "qm9"
tasks = ["mu", "alpha"]
model = "gnn"
seeds = 1
device = "$1"
threads = 1

[train]
epochs = 1
batch_size = 128
lr = 1e-3

[sweep]
trials = 2

[methods]
ls = {}
nashmtl = {}
EOF
}

step env 30 bash -c "$PY -c 'import torch, paretokit; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available()); print(\"paretokit\", paretokit.__file__)'; command -v nvidia-smi >/dev/null && nvidia-smi || echo 'no nvidia-smi'"

if [ "$CPU_ONLY" = 1 ]; then
  step tests 120 "$PY" -m pytest -q -m gpu -p no:cacheprovider tests/test_gpu.py tests/test_long.py
  step sweep 120 "$PY" bench/sweep.py --problem multidigits --population 2 --epochs 1 --rounds 1 --device cpu
  step methods 120 "$PY" bench/methods.py --problem synthetic --ks 3 --steps 2 --repeats 1 --skip-aggregation --device cpu
  gnn_study cpu
  step gnn 120 "$PY" -m paretokit.cli study "$LOGDIR/gnn-short.toml" --dry-run
  skipped gpu "--cpu-only: no CUDA step ran; the numbers above are not GPU numbers"
else
  step tests 90 "$PY" -m pytest -q -m gpu -p no:cacheprovider -rs tests/test_gpu.py tests/test_long.py
  step sweep 75 "$PY" bench/sweep.py --population 16 --epochs 1 --rounds 2 --device cuda
  step methods 75 "$PY" bench/methods.py --ks 3,11 --steps 20 --repeats 3 --device cuda
  gnn_study cuda
  step gnn 190 "$PY" -m paretokit.cli study "$LOGDIR/gnn-short.toml"
fi
echo "logs in $LOGDIR (summary.txt)"
exit $FIRST_FAILURE
