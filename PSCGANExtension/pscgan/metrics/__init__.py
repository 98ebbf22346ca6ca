"""Metrics of the PSCGAN paper (section 6.5, Tables 1-2), torch-free.

image.py         SSIM (Wang et al. 2004), PSNR, NRMSE of the LGE-equivalent image
segmentation.py  per-class and overall accuracy / sensitivity / specificity / Dice
aha.py           AHA 17-segment sectors of a short-axis slice (orientation conventions)
clinical.py      scar / myocardium / blood-pool areas, scar ratio, per-segment transmurality
rv_insertion.py  automatic RV insertion points (heuristic, when no meta / user input)
agreement.py     Pearson r, Bland-Altman, ROC AUC, sensitivity / specificity over cases
cases.py         reading one evaluation case folder (NIfTI + meta.json)
evaluate.py      prediction folder vs reference folder -> per-case figures and aggregates
tables.py        the evaluation's JSON, CSV and Markdown (paper layout)
"""
