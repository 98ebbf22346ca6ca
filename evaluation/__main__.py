"""python -m evaluation COMMAND ...: sunnybrook (real-cine Dice against expert contours) or realism
(phantom vs real image statistics)."""
from __future__ import annotations

import sys

COMMANDS = {"sunnybrook": "evaluation.realcine", "realism": "evaluation.realism", "ssim-ceiling": "evaluation.ssim_ceiling"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m evaluation {{{','.join(COMMANDS)}}} ... (-h for a command's options)", file=sys.stderr)
        return 2
    from importlib import import_module

    return import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
