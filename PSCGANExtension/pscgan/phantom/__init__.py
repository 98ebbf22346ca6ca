"""Digital cine + LGE phantom (MRXCAT-like): anatomy, motion, scar, tissue contrast, coils and noise.

Public API: PhantomConfig, PhantomCase, generate_case, generate_study, write_case, write_study,
generate_dataset. Needs numpy and scipy (SimpleITK for writing), not torch.
"""
from .config import GENERATOR_VERSION, VERSIONS, PhantomConfig, phantom_config
from .dataset import generate_dataset
from .generate import CaseSpec, PhantomCase, case_scar_plan, generate_case, generate_study, sample_spec
from .writer import write_case, write_study

__all__ = [
           "GENERATOR_VERSION",
           "VERSIONS",
           "CaseSpec",
           "PhantomCase",
           "PhantomConfig",
           "case_scar_plan",
           "generate_case",
           "generate_dataset",
           "generate_study",
           "phantom_config",
           "sample_spec",
           "write_case",
           "write_study",
]
