"""Phantom generator versions: the default (phantom-1.3, the data of the models shipped up to stop 19, made
again bit for bit) and the newer phantom-1.4, chosen by name (the shipped model's data since stop 20)."""
from __future__ import annotations

import json

import pytest

from pscgan.errors import InputError
from pscgan.phantom import GENERATOR_VERSION, VERSIONS, PhantomConfig, generate_case, phantom_config, write_case


def test_phantom_13_case_is_the_one_the_earlier_shipped_models_trained_on(tmp_path):
    """Case 0 of seed 1 at phantom-1.3, as `Resources/results/train_shipped.sh` made it for the models shipped up to stop 19
    (mean and SD of its cine read from that training folder's case_00000/cine.nii.gz, which this code
    reproduced bit for bit on 2026-11-30)."""
    assert phantom_config("phantom-1.3") == PhantomConfig()
    case = generate_case(1, 0)
    assert case.meta["generator_version"] == "phantom-1.3"
    assert float(case.cine.mean()) == pytest.approx(175.50619506835938, rel=1e-5)
    assert float(case.cine.std()) == pytest.approx(180.64073181152344, rel=1e-5)
    written = write_case(case, tmp_path / "case")
    assert json.loads((written / "meta.json").read_text())["generator_version"] == "phantom-1.3"


def test_newer_version_differs_and_unknown_versions_are_one_line_errors():
    assert VERSIONS == ("phantom-1.3", "phantom-1.4") and GENERATOR_VERSION == "phantom-1.3"
    old, new = phantom_config(), phantom_config("phantom-1.4")
    case = generate_case(1, 0, new)  # training case 0 of the shipped model (and of candidate_phantom14/),
    assert case.meta["generator_version"] == "phantom-1.4"  # read back from its folder and matched bit for bit
    assert float(case.cine.mean()) == pytest.approx(174.02703857421875, rel=1e-5)
    assert old.failing_fraction < new.failing_fraction and old.blur_px_range < new.blur_px_range
    assert phantom_config("phantom-1.3", frames=16).frames == 16
    with pytest.raises(InputError, match=r"phantom-1\.2"):
        phantom_config("phantom-1.2")


def test_cli_makes_a_chosen_version(tmp_path, capsys):
    from pscgan.cli import main

    assert main(["phantom", "--out", str(tmp_path / "d"), "--cases", "1", "--seed", "3", "--quiet",
                 "--generator-version", "phantom-1.4"]) == 0
    meta = json.loads(next((tmp_path / "d").glob("case_*/meta.json")).read_text())
    assert meta["generator_version"] == "phantom-1.4"
    assert main(["phantom", "--out", str(tmp_path / "e"), "--cases", "1", "--generator-version", "nope"]) != 0
    assert "nope" in capsys.readouterr().err
