"""python -m evaluation COMMAND ...: sunnybrook (real-cine Dice against expert contours), contour-alignment
(where those contours sit on their images and against a prediction), realism (phantom vs real image
statistics), ssim-ceiling (the LGE SSIM a perfect model reaches on the phantom), bench (model speed),
bench-e2e (end-to-end speed)."""
from __future__ import annotations

import sys

COMMANDS = {"sunnybrook": "evaluation.realcine", "contour-alignment": "evaluation.contour_alignment", "realism": "evaluation.realism", "ssim-ceiling": "evaluation.ssim_ceiling",
            "bench": "evaluation.bench", "bench-e2e": "evaluation.bench_e2e"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m evaluation {{{','.join(COMMANDS)}}} ... (-h for a command's options)", file=sys.stderr)
        return 2
    from importlib import import_module

    return import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
