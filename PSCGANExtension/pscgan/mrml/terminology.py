"""Standard terminology codes of the three segments, in Slicer's serialized form and as a .term.json.

The codes live here (so the backend needs no resource file); `PSCGANExtension/Resources/PSCGAN.term.json`
is the same context in Slicer's terminology-context format, and a test checks both agree.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import labels as L

CONTEXT_NAME = "Segmentation category and type - PSCGAN cardiac"
SCHEMA_URL = "https://raw.githubusercontent.com/qiicr/dcmqi/master/doc/segment-context-schema.json#"


@dataclass(frozen=True)
class Code:
    """One coded concept (DICOM code sequence item)."""

    scheme: str  # CodingSchemeDesignator, e.g. "SCT"
    value: str  # CodeValue
    meaning: str  # CodeMeaning

    def serialized(self) -> str:
        return f"{self.scheme}^{self.value}^{self.meaning}"


@dataclass(frozen=True)
class SegmentTerm:
    """What a segment is: category, type, and the anatomic region it belongs to."""

    label: int
    segment_id: str
    name: str
    category: Code
    type: Code

    def serialized(self) -> str:
        """Slicer's TerminologyEntry tag: context~category~type~modifier~regionContext~region~regionModifier."""
        return f"{CONTEXT_NAME}~{self.category.serialized()}~{self.type.serialized()}~^^~~^^~^^"


TISSUE = Code("SCT", "85756007", "Tissue")
ALTERED = Code("SCT", "49755003", "Morphologically Altered Structure")
MYOCARDIUM = Code("SCT", "74281007", "Myocardium")
SCAR = Code("SCT", "12402003", "Scar")
BLOOD = Code("SCT", "87612001", "Blood")

# Order = priority when segments overlap: later wins (scar > healthy myocardium > blood pool).
TERMS: tuple[SegmentTerm, ...] = (
    SegmentTerm(L.BLOOD_POOL, "BloodPool", L.NAMES[L.BLOOD_POOL], TISSUE, BLOOD),
    SegmentTerm(L.HEALTHY_MYOCARDIUM, "HealthyMyocardium", L.NAMES[L.HEALTHY_MYOCARDIUM], TISSUE, MYOCARDIUM),
    SegmentTerm(L.SCAR, "Scar", L.NAMES[L.SCAR], ALTERED, SCAR),
)
TERM_BY_LABEL = {t.label: t for t in TERMS}


def parse_serialized(entry: str) -> dict[str, Code | str]:
    """Inverse of `SegmentTerm.serialized`: {"context", "category", "type"} from a TerminologyEntry tag."""
    parts = (entry or "").split("~")
    if len(parts) < 3:
        return {"context": "", "category": Code("", "", ""), "type": Code("", "", "")}

    def code(text: str) -> Code:
        bits = (text.split("^") + ["", "", ""])[:3]
        return Code(*bits)

    return {"context": parts[0], "category": code(parts[1]), "type": code(parts[2])}


def term_json() -> dict:
    """The terminology context in Slicer's .term.json format (SegmentationCategoryTypeContext)."""
    categories: dict[Code, list[dict]] = {}
    for term in TERMS:
        rgb = [int(round(255 * c)) for c in L.COLORS[term.label]]
        categories.setdefault(term.category, []).append(
            {
                "CodingSchemeDesignator": term.type.scheme,
                "CodeValue": term.type.value,
                "CodeMeaning": term.type.meaning,
                "3dSlicerLabel": term.name,
                "recommendedDisplayRGBValue": rgb,
                "3dSlicerIntegerLabel": term.label,
            },
        )
    return {
        "SegmentationCategoryTypeContextName": CONTEXT_NAME,
        "@schema": SCHEMA_URL,
        "SegmentationCodes": {
            "Category": [
                {
                    "CodingSchemeDesignator": cat.scheme,
                    "CodeValue": cat.value,
                    "CodeMeaning": cat.meaning,
                    "showAnatomy": "false",
                    "Type": types,
                }
                for cat, types in categories.items()
            ],
        },
    }
