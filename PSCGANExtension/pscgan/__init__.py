"""PSCGAN backend: cine MRI -> LGE-equivalent image and 4-class tissue segmentation.

Importable without 3D Slicer. Data flows one way:
read (io) -> preprocess -> model (nn, inference) -> paste back -> metrics -> report / files.
"""
__version__ = "0.1.0"
