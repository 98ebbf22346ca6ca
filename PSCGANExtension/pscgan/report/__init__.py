"""Report pictures (matplotlib, Agg canvas; no global backend is changed, no torch, no Slicer).

bullseye.py   16-segment AHA bullseye coloured by transmurality (grey where not measured)
case.py       report.png of one case or study: cine ED / ES, synthesised and reference LGE,
              segmentation overlay in the Slicer segment colours, bullseye, figures
agreement.py  correlation and Bland-Altman plots (scar area, scar ratio) for a set of cases
"""
from .agreement import draw_agreement_plots
from .bullseye import draw_bullseye, save_bullseye
from .case import draw_case_report, draw_study_report

__all__ = ["draw_agreement_plots", "draw_bullseye", "draw_case_report", "draw_study_report", "save_bullseye"]
