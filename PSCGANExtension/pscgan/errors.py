"""User-facing errors: one clear line naming what was given and what is wrong with it."""


class PSCGANError(Exception):
    """Base class. `str(err)` is a complete one-line message suitable for a panel or a terminal."""


class InputError(PSCGANError):
    """An input (file, folder, array, node, option) cannot be used. Name the input in the message."""


class CheckpointError(PSCGANError):
    """A checkpoint or model bundle is corrupt, foreign, fails its checksum or has the wrong configuration."""


class Cancelled(PSCGANError):
    """The user cancelled a running job; nothing was written."""
