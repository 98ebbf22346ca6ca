"""The one size limit every reader checks from a file's header, before it allocates or decompresses the pixels.

A typical cine is 10-20 slices x 20-30 frames x 256 x 256 pixels, 13-40 million voxels; even 17 slices x 30
frames x 512 x 512 (134 million) fit the default limit of 128 Mi voxels (512 MiB as float32). It refuses a
"zip bomb" (a small .nii.gz that expands to 900 MB and more) or a header that claims 60000 x 60000 pixels
before anything is allocated. Set PSCGAN_MAX_VOXELS (a whole number) to raise or lower it.
"""
from __future__ import annotations

import os

from ..errors import InputError

DEFAULT_MAX_VOXELS = 128 * 1024 * 1024
ENV_VAR = "PSCGAN_MAX_VOXELS"


def max_voxels() -> int:
    """The limit in force: PSCGAN_MAX_VOXELS when set to a positive whole number, else DEFAULT_MAX_VOXELS."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return DEFAULT_MAX_VOXELS
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{ENV_VAR}={text!r}: must be a whole number of voxels") from None
    if value <= 0:
        raise InputError(f"{ENV_VAR}={text!r}: must be a positive number of voxels")
    return value


def check_voxels(count: int, source, what: str = "image") -> int:
    """Raise InputError naming `source` when an image of `count` voxels exceeds the limit; returns count."""
    count = int(count)
    if count < 0:
        raise InputError(f"{source}: corrupt header (negative {what} size)")
    limit = max_voxels()
    if count > limit:
        raise InputError(
            f"{source}: {what} of {count:,} voxels announced by the header, above the limit of {limit:,} "
            f"(set {ENV_VAR} to allow more)",
        )
    return count
