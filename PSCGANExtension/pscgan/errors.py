"""User-facing errors: one clear line naming what was given and what is wrong with it."""


class PSCGANError(Exception):
    """Base class. `str(err)` is a complete one-line message suitable for a panel or a terminal."""


class InputError(PSCGANError):
    """An input (file, folder, array, node, option) cannot be used. Name the input in the message."""


class CheckpointError(PSCGANError):
    """A checkpoint or model bundle is corrupt, foreign, fails its checksum or has the wrong configuration."""


class Cancelled(PSCGANError):
    """The user cancelled a running job; nothing was written."""


def itk_detail(err: BaseException, limit: int = 120) -> str:
    """The useful part of a SimpleITK / ITK exception ("... ITK ERROR: NiftiImageIO(0x..): <this>"), one line."""
    import re

    text = " ".join(str(err).split())
    if "ERROR:" in text:
        text = text.rsplit("ERROR:", 1)[1]
    text = re.sub(r"^\s*\w+\(0x[0-9a-f]+\):\s*", "", text).strip()
    return text[-limit:] if text else type(err).__name__


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
