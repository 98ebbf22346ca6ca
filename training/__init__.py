"""PSCGAN training: data from case folders, the three-phase trainer, checkpoints, export, ablations.
Run as `python -m training train | export | ablate | finetune` (see training/__main__.py)."""
