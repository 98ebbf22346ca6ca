#!/usr/bin/env bash
# How the shipped model is made, from nothing, on this project's 2-core CPU machine (issue 10):
# phantom data, training of the three phases in one time budget, export, the one-time test-set
# evaluation and the real-cine check. Run from the repository root after `make venv`:
#   bash Resources/results/train_shipped.sh WORK            (resume after an interruption: run it again)
# Data: 1000 phantom cases of seed 1 (a fixed 750/250 train/validation split, --seed 0); the test set is
# 300 cases of seed 2, generated here but read by nothing before the bundle is final.
# Budget: TRAIN_MINUTES (default 60) shared by the phases as the configuration's budget_shares say (cpu:
# 45 / 20 / 35 %); each phase re-plans its epochs after every epoch from the median epoch time so far, and
# the learning rate decays linearly over the plan. The shipped model ran this with OMP_NUM_THREADS=1 (one
# core), the other core training the ablation rows.
set -euo pipefail
work=${1:-/tmp/pscgan_shipped}
py=${PYTHON:-.venv/bin/python}
minutes=${TRAIN_MINUTES:-60}
workers=${WORKERS:-2}
export PYTHONUNBUFFERED=1
mkdir -p "$work"
t0=$(date +%s); stamp() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

[ -f "$work/train/.complete" ] || {
  stamp "phantom: 1000 training cases (seed 1)"
  rm -rf "$work/train"; $py -m pscgan phantom --out "$work/train" --cases 1000 --seed 1 --workers "$workers" --quiet
  touch "$work/train/.complete"; }
[ -f "$work/test/.complete" ] || {
  stamp "phantom: 300 test cases (seed 2)"
  rm -rf "$work/test"; $py -m pscgan phantom --out "$work/test" --cases 300 --seed 2 --workers "$workers" --quiet
  touch "$work/test/.complete"; }

resume=(); [ -f "$work/run/checkpoint.pt" ] && resume=(--resume)
stamp "training: cpu configuration, $minutes minutes ${resume[*]}"
$py -m training train --config cpu --data "$work/train" --seed 0 --val-fraction 0.25 --device cpu \
    --epochs 200 --max-minutes "$minutes" --out "$work/run" --no-tensorboard "${resume[@]}"

stamp "export (float16)"
$py -m training export "$work/run" --out "$work/pscgan_cpu.safetensors" --half \
    --description "PSCGAN cpu configuration trained on 750 digital-phantom cases (phantom seed 1); research use only, not validated on real LGE"

stamp "test set (once, after every choice)"
$py -m pscgan infer "$work/test" --out "$work/test_pred" --checkpoint "$work/pscgan_cpu.safetensors" --device cpu --no-report --quiet
$py -m pscgan evaluate --pred "$work/test_pred" --ref "$work/test" --out "$work/test_eval/test_eval.json" --plots "$work/test_eval"
stamp "done: bundle $work/pscgan_cpu.safetensors, test figures $work/test_eval/"
