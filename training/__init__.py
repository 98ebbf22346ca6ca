"""PSCGAN training: data from case folders, the three-phase trainer, checkpoints, export, ablations,
benchmarks. Run as `python -m training train | export | ablate | bench` (see training/__main__.py)."""
