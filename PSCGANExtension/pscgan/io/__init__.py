"""Reading cine studies from any source into one CineStudy."""
from .study import CineStudy

__all__ = ["CineStudy"]
