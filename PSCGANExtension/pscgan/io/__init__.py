"""Reading cine studies from any source into one CineStudy (readers.read_cine), plus 3D LGE / label volumes."""
from .study import CineStudy

__all__ = ["CineStudy"]
