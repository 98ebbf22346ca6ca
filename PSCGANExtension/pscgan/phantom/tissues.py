"""Tissue classes of the phantom's internal tissue map and their MR properties (one table).

Values at 1.5 T from /work/shared/PHANTOM_REFERENCE.md (Dabir 2014, Granitz 2019, Kellman 2012,
Buoso / MRXCAT 2.0 2023) and common literature values for liver, skeletal muscle and lung.
Chronic scar: native T1 1225 ms (within the 1100-1400 ms of the reference sheet), T2 50 ms,
proton density raised by the large extracellular (water) space, ECV 68.5 %. With these values
its bSSFP signal equals healthy myocardium's within 0.1 %, as observed in cine (scar is
invisible there), while its LGE signal exceeds blood's by about 40 % (reference: 0.49 vs 0.34).
Proton densities are relative; myocardium 0.72 against blood 0.95 gives the blood / myocardium
cine contrast of the Sunnybrook studies (about 2.5).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from .. import labels as L


class Tissue(IntEnum):
    """Internal tissue map values (uint8)."""

    AIR = 0
    LV_BLOOD = 1
    MYOCARDIUM = 2
    SCAR = 3
    PAPILLARY = 4
    TRABECULAE = 5
    RV_BLOOD = 6
    RV_WALL = 7
    EPICARDIAL_FAT = 8
    SUBCUTANEOUS_FAT = 9
    MUSCLE = 10
    LIVER = 11
    LUNG = 12
    VESSEL_BLOOD = 13
    BONE = 14
    STOMACH = 15  # fluid-filled


NUM_TISSUES = len(Tissue)


@dataclass(frozen=True)
class TissueProperties:
    """MR properties of one tissue: native T1 / T2 (ms), relative proton density, extracellular volume."""

    t1_ms: float
    t2_ms: float
    pd: float
    ecv: float  # extracellular volume fraction; blood uses 1 - haematocrit (partition coefficient 1)


HAEMATOCRIT = 0.42
_BLOOD = TissueProperties(1550.0, 250.0, 0.95, 1.0 - HAEMATOCRIT)
_MYO = TissueProperties(1000.0, 55.8, 0.72, 0.254)

TISSUE_PROPERTIES: dict[Tissue, TissueProperties] = {
    Tissue.AIR: TissueProperties(1000.0, 50.0, 0.0, 0.0),
    Tissue.LV_BLOOD: _BLOOD,
    Tissue.MYOCARDIUM: _MYO,
    Tissue.SCAR: TissueProperties(1225.0, 50.0, 0.95, 0.685),
    Tissue.PAPILLARY: _MYO,
    Tissue.TRABECULAE: _MYO,
    Tissue.RV_BLOOD: _BLOOD,
    Tissue.RV_WALL: _MYO,
    Tissue.EPICARDIAL_FAT: TissueProperties(250.0, 70.0, 0.80, 0.05),
    Tissue.SUBCUTANEOUS_FAT: TissueProperties(250.0, 70.0, 0.85, 0.05),
    Tissue.MUSCLE: TissueProperties(1050.0, 38.0, 0.75, 0.12),
    Tissue.LIVER: TissueProperties(580.0, 46.0, 0.80, 0.28),
    Tissue.LUNG: TissueProperties(1200.0, 40.0, 0.08, 0.30),
    Tissue.VESSEL_BLOOD: _BLOOD,
    Tissue.BONE: TissueProperties(550.0, 50.0, 0.45, 0.10),  # vertebral marrow
    Tissue.STOMACH: TissueProperties(2500.0, 400.0, 0.90, 0.0),  # gastric fluid, no uptake
}

# Internal tissue -> exported 4-class label (papillary muscles and trabeculae count as blood pool).
EXPORT_LABEL = np.zeros(NUM_TISSUES, dtype=np.uint8)
EXPORT_LABEL[Tissue.LV_BLOOD] = L.BLOOD_POOL
EXPORT_LABEL[Tissue.PAPILLARY] = L.BLOOD_POOL
EXPORT_LABEL[Tissue.TRABECULAE] = L.BLOOD_POOL
EXPORT_LABEL[Tissue.MYOCARDIUM] = L.HEALTHY_MYOCARDIUM
EXPORT_LABEL[Tissue.SCAR] = L.SCAR


# Native (T1, T2) in ms at 3 T (common literature values: von Knobelsdorff-Brenkenhoff 2013 myocardium
# ~1200 / 45, blood ~1900 / 200, fat ~380 / 70, liver ~810 / 35, muscle ~1400 / 32); proton density and
# ECV do not depend on the field. Tissues not listed keep their 1.5 T values scaled by 1.2 (T1) and 0.9 (T2).
T1_T2_3T_MS: dict[Tissue, tuple[float, float]] = {
    Tissue.LV_BLOOD: (1900.0, 200.0), Tissue.RV_BLOOD: (1900.0, 200.0), Tissue.VESSEL_BLOOD: (1900.0, 200.0),
    Tissue.MYOCARDIUM: (1200.0, 45.0), Tissue.PAPILLARY: (1200.0, 45.0), Tissue.TRABECULAE: (1200.0, 45.0),
    Tissue.RV_WALL: (1200.0, 45.0), Tissue.SCAR: (1470.0, 40.5),
    Tissue.EPICARDIAL_FAT: (380.0, 70.0), Tissue.SUBCUTANEOUS_FAT: (380.0, 70.0),
    Tissue.MUSCLE: (1400.0, 32.0), Tissue.LIVER: (810.0, 35.0), Tissue.STOMACH: (3000.0, 350.0),
}


def property_arrays(field_t: float = 1.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(t1, t2, pd, ecv) as float64 arrays indexed by tissue value, at 1.5 T or (field_t >= 2.5) 3 T."""
    props = [TISSUE_PROPERTIES[t] for t in Tissue]
    t1, t2 = np.array([p.t1_ms for p in props]), np.array([p.t2_ms for p in props])
    if field_t >= 2.5:
        for tissue in Tissue:
            t1[tissue], t2[tissue] = T1_T2_3T_MS.get(tissue, (1.2 * t1[tissue], 0.9 * t2[tissue]))
    return t1, t2, np.array([p.pd for p in props]), np.array([p.ecv for p in props])
