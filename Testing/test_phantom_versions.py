"""Earlier phantom generator versions can be made again: the shipped model's phantom-1.3 training data."""
from __future__ import annotations

import json

import pytest

from pscgan.errors import InputError
from pscgan.phantom import GENERATOR_VERSION, VERSIONS, generate_case, phantom_config, write_case


def test_phantom_13_case_is_the_one_the_shipped_model_trained_on(tmp_path):
    """Case 0 of seed 1 at phantom-1.3, as `Resources/results/train_shipped.sh` made it for the shipped model
    (mean and SD of its cine read from that training folder's case_00000/cine.nii.gz, which this code
    reproduced bit for bit on 2026-11-30)."""
    case = generate_case(1, 0, phantom_config("phantom-1.3"))
    assert case.meta["generator_version"] == "phantom-1.3"
    assert float(case.cine.mean()) == pytest.approx(175.50619506835938, rel=1e-5)
    assert float(case.cine.std()) == pytest.approx(180.64073181152344, rel=1e-5)
    written = write_case(case, tmp_path / "case")
    assert json.loads((written / "meta.json").read_text())["generator_version"] == "phantom-1.3"


def test_current_version_differs_and_unknown_versions_are_one_line_errors():
    assert VERSIONS[-1] == GENERATOR_VERSION and phantom_config().version == GENERATOR_VERSION
    old, new = phantom_config("phantom-1.3"), phantom_config()
    assert old.failing_fraction < new.failing_fraction and old.blur_px_range < new.blur_px_range
    assert phantom_config("phantom-1.3", frames=16).frames == 16
    with pytest.raises(InputError, match="phantom-1.2"):
        phantom_config("phantom-1.2")


def test_cli_makes_an_earlier_version(tmp_path, capsys):
    from pscgan.cli import main

    assert main(["phantom", "--out", str(tmp_path / "d"), "--cases", "1", "--seed", "3", "--quiet",
                 "--generator-version", "phantom-1.3"]) == 0
    meta = json.loads(next((tmp_path / "d").glob("case_*/meta.json")).read_text())
    assert meta["generator_version"] == "phantom-1.3"
    assert main(["phantom", "--out", str(tmp_path / "e"), "--cases", "1", "--generator-version", "nope"]) != 0
    assert "nope" in capsys.readouterr().err
