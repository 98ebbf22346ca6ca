"""AHA segment assignment and clinical scar figures on analytically constructed masks."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.metrics.aha import SEGMENT_NAMES, aha_segment_map, segments_for_level
from pscgan.metrics.clinical import combine_segments, lv_center, quantify_slice, transmurality_category

SIZE = 64
CENTER = (31.6, 32.3)


def polar(shape=(SIZE, SIZE), center=CENTER):
    """Radius and screen counter-clockwise angle (deg) of every pixel centre."""
    r, c = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    return np.hypot(r - center[0], c - center[1]), np.degrees(np.arctan2(-(r - center[0]), c - center[1])) % 360


def point_at(angle_deg, radius=20.0, center=CENTER):
    a = math.radians(angle_deg)
    return (center[0] - radius * math.sin(a), center[1] + radius * math.cos(a))


def ring(inner=10.0, outer=18.0, center=CENTER, shape=(SIZE, SIZE)):
    rad, _ = polar(shape, center)
    lab = np.zeros(shape, np.uint8)
    lab[rad < inner] = 1
    lab[(rad >= inner) & (rad < outer)] = 2
    return lab


def in_arc(angle, start, stop):
    """angle within the counter-clockwise arc from start to stop (degrees)."""
    return np.mod(angle - start, 360) < np.mod(stop - start, 360)


def test_levels_and_names():
    assert segments_for_level("basal") == [1, 2, 3, 4, 5, 6]
    assert segments_for_level("Mid") == list(range(7, 13))
    assert segments_for_level("apical") == [13, 14, 15, 16]
    assert SEGMENT_NAMES[8] == "mid anteroseptal" and SEGMENT_NAMES[16] == "apical lateral"
    with pytest.raises(InputError, match="level"):
        segments_for_level("apex-ish")


@pytest.mark.parametrize("anterior_deg", [120.0, 97.0, 143.5])
def test_basal_sectors_follow_anterior_insertion(anterior_deg):
    seg = aha_segment_map((SIZE, SIZE), CENTER, point_at(anterior_deg), "basal")
    rad, ang = polar()
    expected_order = [2, 3, 4, 5, 6, 1]
    for k, number in enumerate(expected_order):
        sector = in_arc(ang, anterior_deg + 60 * k + 1, anterior_deg + 60 * (k + 1) - 1) & (rad > 2)
        assert np.all(seg[sector] == number), number


def test_default_insertion_puts_anterior_up_and_septum_left():
    seg = aha_segment_map((SIZE, SIZE), CENTER, None, "mid")
    r0, c0 = int(round(CENTER[0])), int(round(CENTER[1]))
    assert seg[r0 - 20, c0] == 7  # straight up: anterior
    assert seg[r0 + 20, c0] == 10  # straight down: inferior
    up_left, down_left = point_at(150), point_at(210)
    assert seg[int(round(up_left[0])), int(round(up_left[1]))] == 8
    assert seg[int(round(down_left[0])), int(round(down_left[1]))] == 9


def test_apical_septal_centred_on_bisector_of_both_insertions():
    anterior, inferior = 100.0, 220.0  # bisector 160
    seg = aha_segment_map((SIZE, SIZE), CENTER, point_at(anterior), "apical", point_at(inferior))
    rad, ang = polar()
    for centre_deg, number in [(160, 14), (250, 15), (340, 16), (70, 13)]:
        sector = in_arc(ang, centre_deg - 44, centre_deg + 44) & (rad > 2)
        assert np.all(seg[sector] == number), number
    # with the anterior insertion only: bisector at anterior + 60 = 160 as well here
    seg_single = aha_segment_map((SIZE, SIZE), CENTER, point_at(anterior), "apical")
    assert np.array_equal(seg_single, seg)


def wedge_case(anterior_deg, center=CENTER, shape=(SIZE, SIZE)):
    """Ring with a half-wall scar wedge in the middle of segment 7 (mid anterior)."""
    lab = ring(center=center, shape=shape)
    rad, ang = polar(shape, center)
    mid7 = anterior_deg - 30.0  # segment 7 spans [anterior - 60, anterior)
    lab[(lab == 2) & in_arc(ang, mid7 - 18, mid7 + 18) & (rad < 14)] = 3
    return lab


def test_scar_wedge_in_segment_7_found_only_there():
    anterior = 110.0
    q = quantify_slice(wedge_case(anterior), (1.4, 1.4), "mid", anterior_insertion_rc=point_at(anterior))
    flagged = [s.segment for s in q.segments if s.has_scar]
    assert flagged == [7]
    for s in q.segments:
        if s.segment != 7:
            assert s.scar_pixels == 0 and s.transmurality_pct == 0.0 and s.category == "0"
    assert q.segment(7).scar_pixels == int((wedge_case(anterior) == 3).sum())


def test_rotating_image_and_insertion_together_changes_nothing():
    anterior = 110.0
    lab = wedge_case(anterior)
    q = quantify_slice(lab, (1.4, 1.4), "mid", anterior_insertion_rc=point_at(anterior))
    # exact 90-degree rotation (counter-clockwise on screen): (r, c) -> (C-1-c, r)
    rotated = np.rot90(lab)
    ins = point_at(anterior)
    ins_rot = (SIZE - 1 - ins[1], ins[0])
    q_rot = quantify_slice(rotated, (1.4, 1.4), "mid", anterior_insertion_rc=ins_rot)
    for a, b in zip(q.segments, q_rot.segments):
        assert (a.segment, a.scar_pixels, a.myocardium_pixels, a.has_scar) == (b.segment, b.scar_pixels,
                                                                                  b.myocardium_pixels, b.has_scar)
        assert a.transmurality_pct == pytest.approx(b.transmurality_pct, abs=3.0)
    assert q.scar_area_cm2 == pytest.approx(q_rot.scar_area_cm2)
    # arbitrary rotation: rebuild the phantom rotated by 37 degrees (anatomy and insertion together)
    q_37 = quantify_slice(wedge_case(anterior + 37.0), (1.4, 1.4), "mid",
                          anterior_insertion_rc=point_at(anterior + 37.0))
    assert [s.segment for s in q_37.segments if s.has_scar] == [7]
    assert q_37.segment(7).transmurality_pct == pytest.approx(q.segment(7).transmurality_pct, abs=5.0)


@pytest.mark.parametrize("depth", [0.0, 2.0, 4.0, 5.0, 8.0])
def test_transmurality_of_band_with_known_depth(depth):
    inner, outer = 10.0, 18.0
    lab = ring(inner, outer)
    rad, _ang = polar()
    lab[(lab == 2) & (rad < inner + depth)] = 3  # subendocardial band all around
    q = quantify_slice(lab, (1.0, 1.0), "basal", center_rc=CENTER)
    expected = 100.0 * depth / (outer - inner)
    one_pixel = 100.0 / (outer - inner)
    for s in q.segments:
        assert abs(s.transmurality_pct - expected) <= one_pixel, (s.segment, s.transmurality_pct)
        assert s.category == transmurality_category(s.transmurality_pct)
    assert q.scar_ratio == pytest.approx((lab == 3).sum() / ((lab == 2).sum() + (lab == 3).sum()))


def test_transmurality_ignores_myocardium_beyond_the_first_wall():
    lab = ring(10, 16)
    rad, _ = polar()
    lab[(rad >= 24) & (rad < 27)] = 3  # unrelated "scar" far outside the LV wall
    q = quantify_slice(lab, (1.0, 1.0), "mid", center_rc=CENTER)
    assert all(s.transmurality_pct == 0.0 for s in q.segments)


def test_areas_and_ratio_from_spacing():
    lab = wedge_case(120.0)
    spacing = (1.25, 0.8)
    q = quantify_slice(lab, spacing, "mid")
    px = spacing[0] * spacing[1] / 100.0
    assert q.scar_area_cm2 == pytest.approx((lab == 3).sum() * px)
    assert q.myocardium_area_cm2 == pytest.approx(((lab == 2) | (lab == 3)).sum() * px)
    assert q.blood_pool_area_cm2 == pytest.approx((lab == 1).sum() * px)
    assert q.scar_ratio == pytest.approx((lab == 3).sum() / ((lab == 2) | (lab == 3)).sum())
    rows, cols = np.nonzero(lab == 1)
    assert lv_center(lab) == pytest.approx((rows.mean(), cols.mean()))
    text = json.dumps(q.to_dict())
    assert json.loads(text)["segments"][0]["segment"] == 7


def test_empty_myocardium_gives_undefined_ratio():
    lab = np.zeros((SIZE, SIZE), np.uint8)
    lab[20:30, 20:30] = 1
    q = quantify_slice(lab, (1.0, 1.0), "apical")
    assert q.scar_ratio is None
    assert json.loads(json.dumps(q.to_dict()))["scar_ratio"] is None
    assert all(s.transmurality_pct is None and s.category == "not measured" for s in q.segments)
    empty = quantify_slice(np.zeros((8, 8), np.uint8), (1.0, 1.0), "mid")
    assert empty.center_rc is None and empty.scar_ratio is None
    with pytest.raises(InputError, match="LV centre"):
        lv_center(np.zeros((8, 8), np.uint8))


def test_combine_segments_over_slices():
    q1 = quantify_slice(wedge_case(120.0), (1.0, 1.0), "mid")
    q2 = quantify_slice(ring(), (1.0, 1.0), "mid")
    combined = combine_segments([q1, q2])
    assert sorted(combined) == list(range(7, 13))
    assert combined[7].transmurality_pct == pytest.approx(q1.segment(7).transmurality_pct / 2)
    assert combined[7].scar_pixels == q1.segment(7).scar_pixels and combined[7].has_scar


@pytest.mark.parametrize("pct,category", [(0.0, "0"), (0.4, "0"), (0.6, "1-25"), (25.4, "1-25"), (25.6, "26-50"),
                                          (50.0, "26-50"), (51.0, "51-75"), (75.0, "51-75"), (76.0, "76-100"),
                                          (100.0, "76-100"), (None, "not measured")])
def test_transmurality_categories(pct, category):
    assert transmurality_category(pct) == category


def test_bad_inputs_give_clear_errors():
    lab = ring()
    with pytest.raises(InputError, match="outside 0-3"):
        quantify_slice(lab + 2, (1.0, 1.0), "mid")
    with pytest.raises(InputError, match="2-D"):
        quantify_slice(lab[None], (1.0, 1.0), "mid")
    with pytest.raises(InputError, match="spacing"):
        quantify_slice(lab, (0.0, 1.0), "mid")
    with pytest.raises(InputError, match="insertion"):
        quantify_slice(lab, (1.0, 1.0), "mid", anterior_insertion_rc=CENTER, center_rc=CENTER)
    with pytest.raises(InputError, match="whole numbers"):
        quantify_slice(lab + 0.5, (1.0, 1.0), "mid")
