"""Tissue classes shared by the phantom, the model, the metrics and the Slicer nodes."""
OTHER = 0
BLOOD_POOL = 1
HEALTHY_MYOCARDIUM = 2
SCAR = 3
NUM_CLASSES = 4

NAMES = {OTHER: "Other", BLOOD_POOL: "Blood pool", HEALTHY_MYOCARDIUM: "Healthy myocardium", SCAR: "Scar"}

# Colours as in the paper's figures (RGB 0-1): scar cyan, healthy myocardium purple, blood pool orange.
COLORS = {
    SCAR: (0.0, 0.85, 0.9),
    HEALTHY_MYOCARDIUM: (0.55, 0.25, 0.75),
    BLOOD_POOL: (1.0, 0.6, 0.1),
}
