"""`python -m training train | export | ablate | bench`.

  train   --config NAME --data DIR --out RUN [--epochs E] [--resume] ...   three phases, checkpoints, metrics
  export  RUN --out FILE.safetensors                                       bundle of the trained generators
  ablate  --data DIR --out DIR --config cpu --epochs E [--rows a,b]         Tables 3-5 rows side by side
  finetune --bundle B --data DIR --out RUN [--phase seg]                    continue training a bundle
  bench                                                                     latency, memory, FLOPs, throughput
User errors end in one line on stderr and exit status 2 (as `pscgan`).
"""
from __future__ import annotations

import argparse
import sys

from pscgan.errors import Cancelled, PSCGANError


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder of case folders (case_*/cine.nii.gz, lge.nii.gz, labels.nii.gz, meta.json)")
    p.add_argument("--config", default="cpu", help="model configuration: paper | cpu | tiny")
    p.add_argument("--epochs", type=int, default=10, help="epochs per phase")
    p.add_argument("--batch-size", type=int, default=None, help="default: the configuration's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.25)
    p.add_argument("--jitter", type=int, default=2, help="random ROI shift in pixels (augmentation)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this budget")
    p.add_argument("--limit-cases", type=int, default=None, help="use only the first N cases")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the three phases")
    _add_train_options(t)
    t.add_argument("--out", required=True, help="run folder (checkpoint.pt, metrics.csv, tb/, split.json)")
    t.add_argument("--resume", action="store_true", help="continue from RUN/checkpoint.pt")
    t.add_argument("--stop-after-epochs", type=int, default=None, help="stop after this many epochs (then --resume)")
    t.add_argument("--no-tensorboard", action="store_true")
    t.add_argument("--no-augment", action="store_true",
                   help="train without the domain randomisation of the cine (training.augment; on by default)")

    e = sub.add_parser("export", aliases=["bundle"], help="write the inference bundle of a finished run")
    e.add_argument("run", help="run folder")
    e.add_argument("--out", required=True, help="bundle file (.safetensors); a .sha256 sidecar is written beside it")
    e.add_argument("--allow-unfinished", action="store_true", help="export even if not every phase has finished")
    e.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; how the shipped model is stored)")
    e.add_argument("--description", default=None, help="what the model is, in words (recorded in the bundle and in "
                   "every metrics.json); default: configuration, phases and whether training finished")

    a = sub.add_parser("ablate", help="train ablation rows on one split and tabulate them")
    _add_train_options(a)
    a.add_argument("--out", required=True, help="folder: one run per row, ablation.md, ablation.csv")
    a.add_argument("--rows", default=None, help="comma-separated row names (default: all); see --list")
    a.add_argument("--list", action="store_true", help="print the rows and exit")

    f = sub.add_parser("finetune", help="continue training a bundle's generators from a given phase on new data")
    _add_train_options(f)
    f.add_argument("--bundle", required=True, help="model bundle (.safetensors) to start from")
    f.add_argument("--phase", default="seg", help="first phase to train (earlier ones keep the bundle's weights)")
    f.add_argument("--scar-weight", type=float, default=None, help="weight of the scar class in the mce terms")
    f.add_argument("--out", required=True, help="run folder")
    f.add_argument("--resume", action="store_true")
    f.add_argument("--no-tensorboard", action="store_true")

    b = sub.add_parser("bench", help="inference latency, memory, FLOPs and training throughput")
    b.add_argument("--out", default="bench.json")
    b.add_argument("--configs", default="cpu,paper")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            from .cli_train import run_train

            return run_train(args)
        if args.command in ("export", "bundle"):
            from .export import run_export

            return run_export(args)
        if args.command == "finetune":
            from .finetune import run_finetune

            return run_finetune(args)
        if args.command == "ablate":
            from .ablate import run_ablate

            return run_ablate(args)
        if args.command == "bench":
            from .bench import run_bench

            return run_bench(args)
    except Cancelled as err:
        print(f"training: cancelled: {err}", file=sys.stderr)
        return 130
    except PSCGANError as err:
        print(f"training: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("training: interrupted; the last checkpoint is kept (use --resume)", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
