#!/usr/bin/env bash
# How the shipped model, the `paper`-configuration comparison and the ablation table were made
# (issue 6): the exact commands, run in one go on one lent GPU machine (16 CPU cores, one H100).
#
# Data: 1000 phantom cases (seed 1) with one fixed 750/250 train/validation split (--seed 0), used
# by every run below. The 300-case test set (seed 2) is generated and evaluated elsewhere, never here.
# All runs share the GPU concurrently; each is bounded by --max-minutes (shared equally by its
# phases), so the whole script fits one 10-minute device call.
#   shipped candidates: `cpu` (adversarial weight 0.1) and `cpu` without adversarial learning;
#   the one with the better validation score (mean Dice of blood pool, myocardium and scar of the
#   final segmentation plus LGE SSIM, last epoch) becomes the shipped bundle, stored as float16.
# The paper configuration (777 M parameters) trains on the first 200 cases only, to fit the budget.
# Usage: bash Resources/results/train_shipped.sh WORK OUT
set -uo pipefail
work=${1:-/tmp/pscgan_work}; out=${2:-$work/out}
mkdir -p "$work" "$out"
py=${PYTHON:-python3}
export PYTHONPATH="$PWD/PSCGANExtension:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
t0=$(date +%s); stamp() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
train_minutes=${TRAIN_MINUTES:-4.5}

stamp "phantom: 1000 training cases"
$py -m pscgan phantom --out "$work/train" --cases "${CASES:-1000}" --seed 1 --workers "$(nproc)" --quiet || exit 1
stamp "preprocessing cache"
$py - "$work/train" "$(nproc)" <<'PY' || exit 1
import sys
from pathlib import Path
from training.cli_train import model_config, preprocess_config
from training.data import load_dataset
load_dataset(Path(sys.argv[1]), preprocess_config(model_config("cpu")), margin=2, workers=int(sys.argv[2]))
PY
stamp "training concurrently: 2 shipped candidates, paper, 13 ablation rows"
common=(--data "$work/train" --seed 0 --val-fraction 0.25 --device "${DEVICE:-cuda}" --quiet)
limit=${LIMIT:-$(python3 -c "print(int(60 * $train_minutes + 60))")}
OMP_NUM_THREADS=1 timeout "$limit" $py -m training train --config cpu "${common[@]}" --out "$work/run_cpu" \
    --epochs 200 --max-minutes "$train_minutes" --no-tensorboard > "$out/train_cpu.log" 2>&1 &
OMP_NUM_THREADS=1 timeout "$limit" $py -m training ablate --config cpu "${common[@]}" --out "$work/candidate" \
    --rows no_adversarial --epochs 200 --max-minutes "$train_minutes" > "$out/train_cpu_noadv.log" 2>&1 &
OMP_NUM_THREADS=1 timeout "$limit" $py -m training train --config paper "${common[@]}" --out "$work/run_paper" \
    --epochs 50 --limit-cases 200 --max-minutes "$train_minutes" --batch-size 16 --no-tensorboard > "$out/train_paper.log" 2>&1 &
for row in full no_adversarial no_progressive conv3d spatial_only temporal_only no_multi_attention convlstm \
           conv3d_lstm no_synthetic_regularization no_auxiliary_loss wgan_gp lsgan; do
  OMP_NUM_THREADS=1 timeout "$limit" $py -m training ablate --config cpu "${common[@]}" --out "$work/ablation" \
      --rows "$row" --epochs 200 --limit-cases 400 --max-minutes "$train_minutes" > "$out/ablate_$row.log" 2>&1 &
done
wait
stamp "tables, selection, bundle"
$py - "$work/ablation" <<'PY'
# The side-by-side table of the rows that finished (a row cut off by `timeout` is left out).
import json, sys
from pathlib import Path
from training.ablate import ROWS, write_tables
out = Path(sys.argv[1])
rows = [json.loads((out / r / "result.json").read_text()) for r in ROWS if (out / r / "result.json").is_file()]
write_tables(out, rows)
print(f"{len(rows)} of {len(ROWS)} rows finished")
PY
cp "$work/ablation/ablation.md" "$work/ablation/ablation.csv" "$out/" 2>/dev/null
cp "$work/run_cpu/metrics.csv" "$out/metrics_cpu.csv" 2>/dev/null
cp "$work/candidate/no_adversarial/metrics.csv" "$out/metrics_cpu_noadv.csv" 2>/dev/null
cp "$work/run_paper/metrics.csv" "$out/metrics_paper.csv" 2>/dev/null
$py - "$work" "$out" <<'PY'
# Pick the candidate with the better last-epoch validation score; store it as a float16 bundle.
import csv, json, sys
from pathlib import Path
from pscgan.checkpoint import load_bundle, save_bundle
from training.export import export_run
work, out = Path(sys.argv[1]), Path(sys.argv[2])
def score(run):
    rows = [r for r in csv.DictReader(open(run / "metrics.csv")) if r["phase"] in ("seg", "joint")]
    last = rows[-1]
    return sum(float(last[k] or 0) for k in ("seg_dice_blood", "seg_dice_myo", "seg_dice_scar")) / 3 + float(last["lge_ssim"] or 0)
runs = {"cpu": work / "run_cpu", "cpu_no_adversarial": work / "candidate" / "no_adversarial"}
scores = {}
for name, run in runs.items():
    try:
        scores[name] = score(run)
    except Exception as err:
        print(f"{name}: no score ({err})")
if not scores:
    sys.exit("no candidate finished its segmentation phase: nothing to ship")
best = max(scores, key=scores.get)
print("validation scores:", scores, "-> shipped:", best)
export_run(runs[best], work / "best_fp32.safetensors", allow_unfinished=True)
state, cfg, pre, info = load_bundle(work / "best_fp32.safetensors")
info = dict(info, stored_dtype="float16", candidate=best, selection_scores=scores)
save_bundle(out / "pscgan_cpu.safetensors", {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}, cfg, pre, info)
(out / "selection.json").write_text(json.dumps({"scores": scores, "shipped": best}, indent=1))
PY
stamp "done"
