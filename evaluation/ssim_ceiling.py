"""`python -m evaluation ssim-ceiling --ref TEST_SET --out DIR`: how high an LGE-equivalent SSIM can get on
this phantom.

The phantom writes a NOISY LGE as the reference (multi-coil magnitude noise, SNR 10-25). A perfect model
would output the noise-free LGE, which does not reach SSIM 1 against that noisy reference. This command
regenerates the reference cases (same generator version, seed and indices, read from each case's meta.json)
with the LGE noise scaled down a million-fold (the same random draws, so anatomy, scar, motion and cine are
identical) and evaluates those noise-free LGE images against the reference with `pscgan evaluate`'s own
code: its LGE SSIM / PSNR figures are the ceiling to read a model's figures against.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from pscgan.errors import InputError

    try:
        return _run(argv)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _run(argv: list[str] | None) -> int:
    from pscgan.errors import InputError  # raised here, reported by main
    from pscgan.io.atomic import write_text
    from pscgan.metrics.evaluate import evaluate_folders
    from pscgan.phantom.config import phantom_config
    from pscgan.phantom.generate import generate_case
    from pscgan.phantom.writer import write_case

    p = argparse.ArgumentParser(prog="python -m evaluation ssim-ceiling", description=__doc__.splitlines()[0])
    p.add_argument("--ref", required=True, help="a phantom test set (pscgan phantom output)")
    p.add_argument("--out", required=True, help="folder for the noise-free copies and ceiling.json")
    args = p.parse_args(argv)
    ref, out = Path(args.ref), Path(args.out)
    if not (ref / "dataset.json").is_file():
        raise InputError(f"{ref}: no dataset.json (not a phantom dataset written by `pscgan phantom`)")
    info = json.loads((ref / "dataset.json").read_text())
    # the reference's own generator version (its anatomy, texture and cine), only the LGE noise scaled down
    cfg = phantom_config(info.get("generator_version"), lge_snr_range=(1e7, 1e7))
    cases = sorted(c for c in ref.iterdir() if c.is_dir() and c.name.startswith("case_"))
    for c in cases:
        index = int(c.name.split("_")[1])
        write_case(generate_case(int(info["seed"]), index, cfg), out / "clean" / c.name)
    ev = evaluate_folders(out / "clean", ref)
    figures = {k: ev.aggregates()["mean_sd"][k] for k in ("ssim", "psnr", "nrmse")}  # noise-free vs noisy LGE
    write_text(out / "ceiling.json", json.dumps({"cases": len(cases), "seed": info["seed"], "aggregates": figures},
                                                 indent=1, default=str))
    print("LGE ceiling (noise-free vs the written noisy LGE, pscgan evaluate's definitions): "
          + ", ".join(f"{k} {v['mean']:.3f}" + (f" +- {v['sd']:.3f}" if v["sd"] is not None else "")  # no SD of one case
                      for k, v in figures.items()) + f" over {len(cases)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
