"""Evaluation of the phantom and the model against real cine (outside training/).

    python -m evaluation.realism ...      phantom vs Sunnybrook image statistics -> Resources/results/realism.md
"""
