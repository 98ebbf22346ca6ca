"""Automatic RV insertion detection on constructed bright-blood images with a known RV contact arc."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.metrics.aha import angle_deg
from pscgan.metrics.rv_insertion import RVDetectionSettings, detect_rv_insertion, study_insertions

SIZE = 96
CENTER = (47.3, 48.6)


def construct(anterior_deg, inferior_deg, decoy_deg=0.0, noise=0.03, seed=0):
    """LV ring (blood 1.0, myocardium 0.3), an RV cavity (1.0) hugging the epicardium on the arc
    anterior -> inferior (counter-clockwise), and optionally a bright neighbour `decoy_deg` wide just
    clockwise of the anterior insertion, separated from the RV by an 8-degree dark gap."""
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    rad = np.hypot(r - CENTER[0], c - CENTER[1])
    ang = np.degrees(np.arctan2(-(r - CENTER[0]), c - CENTER[1])) % 360
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[rad < 12] = 1
    labels[(rad >= 12) & (rad < 19)] = 2
    image = np.full((SIZE, SIZE), 0.15)
    image[labels == 1] = 1.0
    image[labels == 2] = 0.3
    on_arc = np.mod(ang - anterior_deg, 360) < np.mod(inferior_deg - anterior_deg, 360)
    image[on_arc & (rad >= 19) & (rad < 33)] = 1.0  # RV cavity
    decoy = np.mod(ang - (anterior_deg - 8 - decoy_deg), 360) < decoy_deg
    image[decoy & (rad >= 19) & (rad < 30)] = 0.9
    image += np.random.default_rng(seed).normal(0, noise, image.shape)
    return image, labels


def angular_error(a, b):
    return abs((a - b + 180) % 360 - 180)


@pytest.mark.parametrize("anterior,inferior", [(120, 240), (100, 215), (160, 285), (300, 60)])
def test_detects_known_contact_arc(anterior, inferior):
    image, labels = construct(anterior, inferior)
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert found is not None
    assert angular_error(angle_deg(found.anterior_rc, CENTER), anterior) < 4
    assert angular_error(angle_deg(found.inferior_rc, CENTER), inferior) < 4
    assert math.hypot(found.anterior_rc[0] - CENTER[0], found.anterior_rc[1] - CENTER[1]) == pytest.approx(19, abs=1.5)


def test_separate_bright_neighbour_is_ignored():
    # RV arc 130 -> 230 (100 degrees); merged with the neighbour it would exceed 140 degrees
    image, labels = construct(130, 230, decoy_deg=35)
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 130) < 4
    assert found.arc_deg == pytest.approx(100, abs=5)


def test_over_long_arc_keeps_inferior_and_120_degree_septum():
    image, labels = construct(60, 240)  # bright tissue joined to the RV far anteriorly: 180-degree arc
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert angular_error(angle_deg(found.inferior_rc, CENTER), 240) < 4
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 120) < 4


def test_no_rv_gives_none_and_bad_input_raises():
    image, labels = construct(120, 121)
    assert detect_rv_insertion(image, labels, (1.2, 1.2)) is None
    assert detect_rv_insertion(image, np.where(labels == 2, 2, 0), (1.2, 1.2)) is None  # no blood pool
    with pytest.raises(InputError, match="disagree"):
        detect_rv_insertion(image[:-1], labels, (1.2, 1.2))


def test_fat_brighter_than_blood_is_not_taken_for_rv():
    """A bright ring (fat, 1.6 x blood) around the whole heart, touching the RV: only the RV counts."""
    image, labels = construct(110, 230)
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    rad = np.hypot(r - CENTER[0], c - CENTER[1])
    ang = np.degrees(np.arctan2(-(r - CENTER[0]), c - CENTER[1])) % 360
    off_rv = np.mod(ang - 110, 360) >= 120
    image[off_rv & (rad >= 19) & (rad < 24)] = 1.6  # epicardial fat
    image[~off_rv & (rad >= 33) & (rad < 37)] = 1.6  # and beyond the RV
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert found is not None
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 110) < 5
    assert angular_error(angle_deg(found.inferior_rc, CENTER), 230) < 5


def polar():
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    return np.hypot(r - CENTER[0], c - CENTER[1]), np.degrees(np.arctan2(-(r - CENTER[0]), c - CENTER[1])) % 360


def test_thin_bright_bridge_does_not_join_a_neighbour_to_the_rv():
    """A bright neighbour 10 degrees inferior of the RV, joined to it by a 2-pixel (2.4 mm) bright line (a thin
    layer of fat, as bright as blood in a bSSFP cine): the opening cuts the line, the RV arc stays 110 -> 230."""
    image, labels = construct(110, 230)
    rad, ang = polar()
    image[(np.mod(ang - 240, 360) < 60) & (rad >= 19) & (rad < 33)] = 1.0
    image[(np.mod(ang - 228, 360) < 14) & (rad >= 24) & (rad < 26)] = 1.0
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert found is not None
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 110) < 4
    assert angular_error(angle_deg(found.inferior_rc, CENTER), 230) < 4


def test_thick_fat_around_the_heart_joined_to_the_rv_is_opened_away():
    """A 6 mm layer of blood-bright fat around the rest of the heart, joined to the RV at both insertions: with
    the first (2 mm) opening the contact runs all around (no detection); the larger openings find the RV arc."""
    image, labels = construct(110, 230)
    rad, ang = polar()
    image[(np.mod(ang - 110, 360) >= 120) & (rad >= 19) & (rad < 24)] = 1.0
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert found is not None
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 110) < 4
    assert angular_error(angle_deg(found.inferior_rc, CENTER), 230) < 4
    assert detect_rv_insertion(image, labels, (1.2, 1.2), settings=RVDetectionSettings(opening_mm=(2.0,))) is None


def test_rv_blood_as_bright_as_the_brightest_lv_blood_counts():
    """The blood pool label holds papillary muscles and trabeculae (60 % of it here at 0.85, mixed with muscle)
    and pure blood (1.2): the RV at 1.3 lies above the pool's median + half the blood-myocardium contrast but
    not above its brightest blood + that, and is the RV, not fat."""
    image, labels = construct(110, 230)
    rad, ang = polar()
    rng = np.random.default_rng(3)
    pool = labels == 1
    image[pool] = np.where(rng.random(pool.sum()) < 0.6, 0.85, 1.2) + rng.normal(0, 0.03, pool.sum())
    rv = (np.mod(ang - 110, 360) < 120) & (rad >= 19) & (rad < 33)
    image[rv] = 1.3 + rng.normal(0, 0.03, rv.sum())
    found = detect_rv_insertion(image, labels, (1.2, 1.2))
    assert found is not None
    assert angular_error(angle_deg(found.anterior_rc, CENTER), 110) < 4
    assert angular_error(angle_deg(found.inferior_rc, CENTER), 230) < 4


def stack(arcs):
    """(S, R, C) images and labels, one construct() per (anterior, inferior) arc."""
    pairs = [construct(a, b, seed=k) for k, (a, b) in enumerate(arcs)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def test_study_insertions_follow_the_stack_where_one_slice_fails_or_disagrees():
    images, labels = stack([(110, 230), (115, 235), (112, 232), (120, 121), (200, 320)])  # 4: no RV; 5: off
    used = study_insertions(images, labels, (1.2, 1.2))
    assert [u.source for u in used] == ["detected"] * 5
    for k in (0, 1, 2):
        assert angular_error(angle_deg(used[k].anterior_rc, CENTER), (110, 115, 112)[k]) < 4 and not used[k].note
    for k in (3, 4):  # the stack's angles on this slice's own epicardium, with the reason
        assert angular_error(angle_deg(used[k].anterior_rc, CENTER), 112) < 5
        assert angular_error(angle_deg(used[k].inferior_rc, CENTER), 232) < 5
        assert used[k].note


def test_study_insertions_follow_the_slices_that_agree():
    """Anterior angles 150, 105, 114, 240: 150 and 114 have the same summed distance to the others (a medoid
    tie), but 105 and 114 agree within 30 degrees and 150 agrees with none: the stack's angle is 114."""
    images, labels = stack([(150, 270), (105, 225), (114, 234), (240, 0)])
    used = study_insertions(images, labels, (1.2, 1.2))
    for k, anterior in ((1, 105), (2, 114)):  # their own detection
        assert angular_error(angle_deg(used[k].anterior_rc, CENTER), anterior) < 4 and not used[k].note
    for k in (0, 3):  # the stack's angles
        assert angular_error(angle_deg(used[k].anterior_rc, CENTER), 114) < 4 and used[k].note


def test_study_insertions_sources_given_default_and_empty_slices():
    images, labels = stack([(110, 230), (120, 121)])
    labels[1] = 0  # no myocardium: nothing to orient
    used = study_insertions(images, labels, (1.2, 1.2), anterior_rc=[(30.0, 40.0), None], inferior_rc=[(60.0, 35.0), None],
                            given_source="markup")
    assert used[0].source == "markup" and used[0].anterior_rc == (30.0, 40.0) and used[0].inferior_rc == (60.0, 35.0)
    assert used[1] is None
    images, labels = stack([(120, 121), (120, 121)])  # no RV anywhere: the documented default, on the epicardium
    for u in study_insertions(images, labels, (1.2, 1.2)):
        assert u.source == "default" and "default" in u.note
        assert angular_error(angle_deg(u.anterior_rc, CENTER), 120) < 1
        assert angular_error(angle_deg(u.inferior_rc, CENTER), 240) < 1
    with pytest.raises(InputError, match="source"):
        study_insertions(images, labels, (1.2, 1.2), given_source="guess")


def test_a_slice_whose_lv_centre_lies_on_a_wall_fragment_gets_points_off_the_centre():
    """A predicted basal slice of real cine (Sunnybrook SCD0000101 with stop 28's model) was blood pool with a
    fragment of wall under its centroid: on the rays away from the fragment the wall ended at the centre, the
    stack's angle put the anterior point on the centre itself and the study failed ("coincides with the LV
    centre"). Now the point keeps the stack's angle at the slice's usable radius, and the slice is quantified."""
    from pscgan.metrics.clinical import lv_center, quantify_slice

    images, labels = stack([(110, 230), (115, 235), (112, 232)])
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    rad = np.hypot(r - CENTER[0], c - CENTER[1])
    fragment = np.zeros((SIZE, SIZE), np.uint8)
    fragment[rad < 12] = 1
    fragment[(rad < 4) & (r >= round(CENTER[0]))] = 2  # the lower half of a small disc, its top row on the centre
    labels[2], images[2] = fragment, np.where(fragment == 1, 1.0, 0.3)
    centre = lv_center(fragment)
    assert fragment[round(centre[0]), round(centre[1])] == 2
    used = study_insertions(images, labels, (1.2, 1.2))
    for point, stack_angle in ((used[2].anterior_rc, 112), (used[2].inferior_rc, 232)):
        assert math.dist(point, centre) >= 1.0
        assert angular_error(angle_deg(point, centre), stack_angle) < 5
    q = quantify_slice(fragment, (1.2, 1.2), "basal", anterior_insertion_rc=used[2].anterior_rc,
                       inferior_insertion_rc=used[2].inferior_rc)
    assert q.myocardium_area_cm2 > 0


def test_any_label_stack_gets_insertion_points_off_its_centres_and_is_quantified():
    """Random stacks of overlapping discs of every class, as a badly failed segmentation might look: the
    orientation never fails and never puts a point on a slice's LV centre (one of these 300 stacks did before
    stop 28: 'inferior RV insertion ...: coincides with the LV centre')."""
    from pscgan.metrics.clinical import lv_center, quantify_slice

    rng = np.random.default_rng(0)
    r, c = np.mgrid[0:64, 0:64]
    for _ in range(300):
        labels = np.zeros((3, 64, 64), np.uint8)
        images = rng.random((3, 64, 64))
        for s in range(3):
            for _ in range(rng.integers(1, 6)):
                cr, cc, radius = rng.uniform(10, 54), rng.uniform(10, 54), rng.uniform(0.5, 10)
                labels[s][np.hypot(r - cr, c - cc) < radius] = rng.integers(1, 4)
            images[s][labels[s] == 1] += 1.0
        for s, used in enumerate(study_insertions(images, labels, (1.5, 1.5))):
            if used is None:
                continue
            centre = lv_center(labels[s])
            assert min(math.dist(used.anterior_rc, centre), math.dist(used.inferior_rc, centre)) > 1.0 - 1e-9
            quantify_slice(labels[s], (1.5, 1.5), ("basal", "mid", "apical")[s], anterior_insertion_rc=used.anterior_rc,
                           inferior_insertion_rc=used.inferior_rc)
