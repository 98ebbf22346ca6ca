"""User-facing errors: one clear line naming what was given and what is wrong with it."""


class PSCGANError(Exception):
    """Base class. `str(err)` is a complete one-line message suitable for a panel or a terminal."""


class InputError(PSCGANError):
    """An input (file, folder, array, node, option) cannot be used. Name the input in the message."""


class CheckpointError(PSCGANError):
    """A checkpoint or model bundle is corrupt, foreign, fails its checksum or has the wrong configuration."""


class Cancelled(PSCGANError):
    """The user cancelled a running job; nothing was written."""


def plain(value) -> str:
    """Numbers, or a sequence of numbers, as a reader writes them: "(12.5, 30)", never "np.float64(12.5)"."""
    import numpy as np

    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return str(value)
    if arr.ndim == 0:
        return f"{float(arr):g}"
    return "(" + ", ".join(f"{float(v):g}" for v in arr.ravel()) + ")"
