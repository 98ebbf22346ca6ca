"""Evaluation of the phantom and the model against real cine (outside training/).

    python -m evaluation sunnybrook DATA_DIR --out DIR   real-cine Dice against the experts' contours
    python -m evaluation realism ...                     phantom vs Sunnybrook image statistics (realism.md)
"""
