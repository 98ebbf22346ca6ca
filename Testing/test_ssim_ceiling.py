"""The LGE SSIM ceiling: noise-free phantom LGE against the noisy reference the phantom writes."""
from __future__ import annotations

import json

from evaluation.ssim_ceiling import main
from pscgan.phantom.dataset import generate_dataset


def test_ceiling_is_below_one_and_the_copies_match_the_reference_anatomy(tmp_path):
    ref = tmp_path / "ref"
    generate_dataset(ref, 2, seed=13, progress=False)
    assert main(["--ref", str(ref), "--out", str(tmp_path / "out")]) == 0
    figures = json.loads((tmp_path / "out" / "ceiling.json").read_text())["aggregates"]
    assert 0.3 < figures["ssim"]["mean"] < 0.99  # noise alone keeps a perfect model below 1
    import numpy as np
    import SimpleITK as sitk

    for case in ("case_00000", "case_00001"):  # same anatomy and scar: the labels are identical
        a = sitk.GetArrayFromImage(sitk.ReadImage(str(ref / case / "labels.nii.gz")))
        b = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "clean" / case / "labels.nii.gz")))
        assert np.array_equal(a, b)


def test_copies_use_the_reference_generator_version(tmp_path):
    """A phantom-1.4 test set is regenerated as phantom-1.4 (its trabeculation and texture), not the default version:
    the clean copy's cine is the reference's cine, voxel for voxel."""
    import numpy as np
    import SimpleITK as sitk

    from pscgan.phantom.config import phantom_config

    ref = tmp_path / "ref"
    generate_dataset(ref, 1, seed=13, cfg=phantom_config("phantom-1.4"), progress=False)
    assert main(["--ref", str(ref), "--out", str(tmp_path / "out")]) == 0
    clean = tmp_path / "out" / "clean" / "case_00000"
    assert json.loads((clean / "meta.json").read_text())["generator_version"] == "phantom-1.4"
    a, b = (sitk.GetArrayFromImage(sitk.ReadImage(str(f / "cine.nii.gz"))) for f in (ref / "case_00000", clean))
    assert np.array_equal(a, b)


def test_a_folder_that_is_no_phantom_dataset_is_one_line(tmp_path, capsys):
    (tmp_path / "ref").mkdir()
    assert main(["--ref", str(tmp_path / "ref"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "dataset.json" in err and len(err.splitlines()) == 1
