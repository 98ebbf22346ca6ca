"""Arrays <-> MRML nodes on an explicit scene, and files written through Slicer's storage nodes.

Works inside the Slicer application and on the pip package `slicer-core` alike. `slicer` and `vtk`
are imported inside the functions, so `import pscgan.mrml` costs nothing where they are absent.
"""
