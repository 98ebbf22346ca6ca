"""`python -m training train | export | ablate | finetune | curves` (benchmarks: `python -m evaluation bench`).

  train   --config NAME --data DIR --out RUN [--epochs E] [--resume] ...   three phases, checkpoints, metrics
  export  RUN --out FILE.safetensors                                       bundle of the trained generators
  ablate  --data DIR --out DIR --config cpu --epochs E [--rows a,b]         Tables 3-5 rows side by side
  finetune --bundle B --data DIR --out RUN [--phase seg]                    continue training a bundle
  curves  RUN [RUN ...] --out curves.png [--x minutes|samples]              validation curves side by side
User errors end in one line on stderr and exit status 2 (as `pscgan`).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pscgan.errors import Cancelled, PSCGANError


def _add_train_options(p: argparse.ArgumentParser, config: str | None = "cpu",
                       config_help: str = "configuration (architecture and training options): paper | cpu | tiny | unet2d") -> None:
    p.add_argument("--data", required=True, help="folder of case folders (case_*/cine.nii.gz, lge.nii.gz, labels.nii.gz, meta.json)")
    p.add_argument("--config", default=config, help=config_help)
    p.add_argument("--epochs", type=int, default=10, help="epochs per phase")
    p.add_argument("--batch-size", type=int, default=None, help="default: the configuration's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.25)
    p.add_argument("--jitter", type=int, default=2, help="random ROI shift in pixels (augmentation)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this budget")
    p.add_argument("--limit-cases", type=int, default=None, help="use only the first N cases")
    p.add_argument("--split", default=None, metavar="SPLIT.json",
                   help="train and validate on the samples of this split (a run folder's split.json) instead of "
                        "--val-fraction / --seed's random split; checked against the data's sample names")
    p.add_argument("--quiet", action="store_true")


def _train_arguments(p: argparse.ArgumentParser) -> None:
    _add_train_options(p)
    p.add_argument("--out", required=True, help="run folder (checkpoint.pt, metrics.csv, tb/, split.json)")
    p.add_argument("--resume", action="store_true", help="continue from RUN/checkpoint.pt")
    p.add_argument("--stop-after-epochs", type=int, default=None, help="stop after this many epochs (then --resume)")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--validate-every", type=int, default=1, metavar="N",
                   help="validate after every N epochs of a phase, and always after its first and last (default 1)")
    p.add_argument("--budget-shares", default=None, metavar="PRI,SYS,SEG",
                   help="how the phases share --max-minutes (default: the configuration's budget_shares; recorded in "
                        "RUN/config.json, and a resumed run must give the same)")
    p.add_argument("--no-augment", action="store_true",
                   help="train without the domain randomisation of the cine (training.augment; on by default)")
    p.add_argument("--p-dihedral", type=float, default=0.0, metavar="P",
                   help="probability that a training sample is transposed and/or flipped (one of the 8 symmetries of "
                        "the square, training.augment; default 0: off)")
    p.add_argument("--systole-weight", type=float, default=None, metavar="W",
                   help="auxiliary task: the segmentation generators also predict the labels at end-systole (from the "
                        "cases' per-frame labels, cine_labels.nii.gz, as the phantom writes them), weighted W in the "
                        "loss; adds a systole head to the network (default: the configuration's, 0: off)")


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run folder")
    p.add_argument("--out", required=True, help="bundle file (.safetensors); a .sha256 sidecar is written beside it")
    p.add_argument("--allow-unfinished", action="store_true", help="export even if not every phase has finished")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; how the shipped model is stored)")
    p.add_argument("--description", default=None, help="what the model is, in words (recorded in the bundle and in "
                   "every metrics.json); default: configuration, phases and whether training finished")


def _ablate_arguments(p: argparse.ArgumentParser) -> None:
    _add_train_options(p)
    p.add_argument("--out", required=True, help="folder: one run per row, ablation.md, ablation.csv")
    p.add_argument("--rows", default=None, help="comma-separated row names (default: all); see --list")
    p.add_argument("--list", action="store_true", help="print the rows and exit")
    p.add_argument("--budget-shares", default=None, metavar="PRI,SYS,SEG",
                   help="how every row's phases share --max-minutes (default: the configuration's budget_shares); "
                        "rows added to an existing table must use the shares its rows ran with")


def _finetune_arguments(p: argparse.ArgumentParser) -> None:
    _add_train_options(p, config=None, config_help="training options of this named configuration (the bundle "
                       "holds the architecture); default: the bundle's configuration name")
    p.add_argument("--bundle", required=True, help="model bundle (.safetensors) to start from")
    p.add_argument("--phase", default="seg", help="first phase to train (earlier ones keep the bundle's weights)")
    p.add_argument("--scar-weight", type=float, default=None, help="weight of the scar class in the mce terms")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--no-tensorboard", action="store_true")


def _curves_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder (its metrics.csv) or a metrics CSV")
    p.add_argument("--out", required=True, help="PNG file")
    p.add_argument("--x", choices=("minutes", "samples"), default="minutes", help="horizontal axis (default: minutes)")
    p.add_argument("--labels", default=None, help="comma-separated names, one per RUN (default: the folder names)")
    p.add_argument("--quiet", action="store_true")


@dataclass(frozen=True)
class Command:
    """One sub-command: its help, its options, and "module:function" that runs it (imported only when used)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: str
    aliases: tuple[str, ...] = ()


COMMANDS = {
    "train": Command("train the three phases", _train_arguments, "training.cli_train:run_train"),
    "export": Command("write the inference bundle of a finished run", _export_arguments, "training.export:run_export",
                      aliases=("bundle",)),
    "ablate": Command("train ablation rows on one split and tabulate them", _ablate_arguments,
                      "training.ablate:run_ablate"),
    "finetune": Command("continue training a bundle's generators from a given phase on new data", _finetune_arguments,
                        "training.finetune:run_finetune"),
    "curves": Command("draw validation curves of runs side by side (PNG)", _curves_arguments, "training.curves:run_curves"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, aliases=list(command.aliases), help=command.help)
        command.add_arguments(p)
        p.set_defaults(_run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, function = args._run.split(":")
    try:
        return int(getattr(importlib.import_module(module), function)(args) or 0)
    except Cancelled as err:
        print(f"training: cancelled: {err}", file=sys.stderr)
        return 130
    except PSCGANError as err:
        print(f"training: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("training: interrupted; the last checkpoint is kept (use --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
