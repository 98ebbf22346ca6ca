"""Package discovery for the two import roots: `pscgan` lives inside the Slicer module folder
(so Slicer installs it with the module), `training` at the repository root."""
from setuptools import find_packages, setup

setup(
    package_dir={"pscgan": "PSCGANExtension/pscgan", "training": "training"},
    packages=[p for p in find_packages("PSCGANExtension") if p.startswith("pscgan")]
    + [p for p in find_packages(".") if p.startswith(("training", "evaluation"))],
)
