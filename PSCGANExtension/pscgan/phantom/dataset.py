"""Generate many phantom cases into a folder: case_00000 ... plus dataset.json."""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..errors import InputError
from ..io.atomic import write_text
from ..io.case_folder import META_FILE
from .config import PhantomConfig
from .generate import generate_case
from .writer import write_case

DATASET_FILE = "dataset.json"


def case_folder_name(index: int) -> str:
    return f"case_{index:05d}"


def check_output_folder(out: Path) -> Path:
    """`out` may be missing, empty or a previous phantom output; anything else is an InputError."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out}: exists and is not a folder")
        entries = [p for p in out.iterdir() if not p.name.startswith(".")]
        if entries and not ((out / DATASET_FILE).is_file() or (out / META_FILE).is_file()):
            raise InputError(f"{out}: folder is not empty and holds no phantom data; choose an empty or new folder")
    return out


def _make_one(job: tuple[Path, int, int, PhantomConfig]) -> Path:
    out, seed, index, cfg = job
    return write_case(generate_case(seed, index, cfg), out / case_folder_name(index))


def generate_dataset(out: Path, cases: int, seed: int, cfg: PhantomConfig = PhantomConfig(), workers: int = 1,
                     progress: bool = True) -> list[Path]:
    """Write `cases` case folders and dataset.json (generator version, seed, count); returns the folders."""
    if int(cases) < 1:
        raise InputError(f"cases {cases}: must be at least 1")
    out = check_output_folder(Path(out))
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out, int(seed), i, cfg) for i in range(int(cases))]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), unit="case", desc="phantom")
    paths: list[Path] = []
    if workers <= 1:
        for job in jobs:
            paths.append(_make_one(job))
            if bar:
                bar.update()
    else:
        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            for path in pool.map(_make_one, jobs, chunksize=4):
                paths.append(path)
                if bar:
                    bar.update()
    if bar:
        bar.close()
    info = {"generator_version": cfg.version, "seed": int(seed), "count": len(paths), "frames": cfg.frames,
            "cases": [p.name for p in paths]}
    write_text(out / DATASET_FILE, json.dumps(info, indent=1))
    return paths
