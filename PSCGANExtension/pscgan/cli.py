"""`pscgan` command line: phantom | infer | evaluate | report | demo.

Each sub-command lives in `pscgan.commands.<name>` and is imported only when used, so that
`pscgan phantom` or `pscgan evaluate` work without torch. User errors end in one line on stderr
and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import Cancelled, PSCGANError

COMMANDS = {
    "phantom": "generate a digital cine + LGE phantom data set",
    "infer": "run PSCGAN on a cine study and write LGE-equivalent image, segmentation, metrics",
    "evaluate": "compare predicted cases with reference cases (image, segmentation, clinical metrics)",
    "report": "draw report.png for one case folder",
    "demo": "generate a phantom study, run it and print the summary",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pscgan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(f"pscgan.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"pscgan.commands.{name}":
                raise
            p.set_defaults(_unavailable=name)
            continue
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_unavailable", None):
        print(f"pscgan: error: '{args._unavailable}' is not available in this version", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except Cancelled as err:
        print(f"pscgan: cancelled: {err}", file=sys.stderr)
        return 130
    except PSCGANError as err:
        print(f"pscgan: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file or folder the system refused (permissions, disk full, ...): name it
        print(f"pscgan: error: {err.filename or ''}{': ' if err.filename else ''}{err.strerror or err}", file=sys.stderr)
        return 2
    except MemoryError:
        print("pscgan: error: out of memory (see PSCGAN_MAX_VOXELS in the README to refuse such inputs early)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pscgan: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
