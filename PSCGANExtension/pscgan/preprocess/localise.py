"""Automatic LV centre per slice: motion (first temporal harmonic) + a bright, round, moving blood pool prior.

1. Motion map: the magnitude of the first temporal harmonic |FFT_t(x)[1]| of each slice, normalised per slice
   (clipped at its 99th percentile so one flow artefact cannot dominate) and summed over the stack (short-axis
   slices share the in-plane grid), smoothed over ~15 mm. Its peak is the beating heart (LV + RV), the only
   thing in the field of view that moves at the heart rate.
2. Candidates per slice: bright connected regions of the end-diastolic frame (Otsu threshold inside a disc
   around the heart), opened a little to cut thin bridges. A region too large to be an LV (in dilated hearts
   with thin walls LV, RV and fat can join at this level) is split at the Otsu level of its own pixels. The
   parts that a stronger opening cuts apart (LV and RV joined through a bright bridge) are candidates too.
3. Score = motion around the region x roundness^2 (minor/major axis ratio) x convexity^2 (pixels / convex
   hull) x a weak closeness to the heart centre x plausible size x, when the study has a real patient
   orientation (direction not identity), a mild anatomical prior: the LV lies left-posterior (LPS) of the RV.
   The RV blood pool is a crescent (low convexity, elongated); vessels and fat move little.
4. Stack consistency: the LV centres of a short-axis stack lie near one line; each slice takes its best
   candidate within max_jump_mm of the median centre of the confidently found slices (apex: a tiny cavity;
   base: outflow tract), ignoring candidates far weaker than a typical LV; a slice with none takes the
   centre interpolated from its neighbouring slices. The centre is that of the region's widest part (its
   deepest pixels from the outline): a region that joins the LV cavity to a thinner neighbour has its
   centroid between the two.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io.study import CineStudy


@dataclass(frozen=True)
class LocaliseConfig:
    heart_sigma_mm: float = 15.0  # smoothing of the motion map
    search_radius_mm: float = 60.0  # candidates within this distance of the heart centre
    closeness_mm: float = 50.0  # Gaussian width of the distance prior
    min_area_mm2: float = 40.0
    max_area_mm2: float = 6000.0
    opening_mm: float = 2.0
    bridge_opening_mm: float = 5.0  # a second, stronger opening that cuts LV-RV bridges (see _split_at_bridges)
    max_jump_mm: float = 20.0  # a slice's centre farther than this from the stack median is re-chosen
    min_relative_score: float = 0.1  # candidates scoring below this x the stack's typical LV score are ignored
    anatomical_prior: bool = True  # LV lies left-posterior of the RV (LPS); used only for non-identity directions
    anatomical_scale_mm: float = 15.0


SMOOTH_SIGMA_PX = 1.0  # Gaussian smoothing of the ED frame before thresholding
CORE_DEPTH = 0.6  # a candidate's centre: the centroid of its pixels this deep relative to its deepest (_cavity_centre)
RING_MM = 5.0  # a candidate's motion is read in this ring around it


def _ring_width_px(mm: float) -> int:
    return max(1, int(round(RING_MM / mm)))


def _motion_map(frames: np.ndarray) -> np.ndarray:
    """(T, R, C) -> (R, C) first-harmonic magnitude, divided by its 99th percentile and clipped at 1."""
    phase = 2.0 * np.pi * np.arange(frames.shape[0]) / frames.shape[0]
    # |sum_t x_t e^(-i phase_t)|, the first bin of the FFT over time, as two weighted sums (no FFT of every bin)
    h1 = np.hypot(np.tensordot(np.cos(phase), frames, axes=1), np.tensordot(np.sin(phase), frames, axes=1))
    scale = np.percentile(h1, 99.0)
    return np.minimum(h1 / scale, 1.0) if scale > 0 else h1  # clipped: one hot spot cannot dominate


def _otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=128)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centers[int(np.argmax(between))])


def _row_extremes(pts: np.ndarray) -> np.ndarray:
    """The first and last pixel of every row of (row, col) pixels: every other pixel lies between two of
    them, so their convex hull (of points or of pixel corners) is the whole set's."""
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    rows = pts[order, 0]
    new_row = np.r_[True, rows[1:] != rows[:-1]]
    return pts[order][new_row | np.r_[new_row[1:], True]]


def _convexity(pts: np.ndarray) -> float:
    """Pixel count / area of the convex hull of the pixels' corners (1 for a convex region)."""
    from scipy.spatial import ConvexHull, QhullError

    outline = _row_extremes(pts)  # at most 2 per row instead of every pixel: the same hull
    corners = (outline[:, None, :] + np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])[None]).reshape(-1, 2)
    try:
        hull_area = ConvexHull(corners).volume  # in 2D, .volume is the area
    except QhullError:
        return 1.0
    return float(min(1.0, len(pts) / hull_area)) if hull_area > 0 else 1.0


def _disk(radius_mm: float, mm: float) -> np.ndarray:
    radius = max(1, int(round(radius_mm / mm)))
    return np.hypot(*np.mgrid[-radius : radius + 1, -radius : radius + 1]) <= radius


def _split_at_bridges(regions: list[np.ndarray], mm: float, cfg: LocaliseConfig) -> list[np.ndarray]:
    """The parts of each region that a stronger opening (bridge_opening_mm) separates, as more candidates.

    LV and RV blood often touch at the first level through a bright bridge a few mm wide (trabeculae, a
    thin or partial-volumed septum, the RV junctions); the joined region's centroid then lies on the septum,
    10-30 mm from the LV's centre. A disk wider than the bridge and narrower than an LV cavity cuts it; the
    joined region stays a candidate too, so a small apical cavity the disk erases is not lost. An opening
    keeps a round cavity's outline, so each part's centroid is its cavity's; a thin RV crescent it erases
    altogether, leaving the LV alone."""
    from scipy import ndimage as ndi

    if not cfg.bridge_opening_mm:
        return []
    disk = _disk(cfg.bridge_opening_mm, mm)
    out = []
    for region in regions:
        opened = ndi.binary_opening(region, structure=disk)
        parts, m = ndi.label(opened)
        if m == 1 and opened.sum() > 0.9 * region.sum():
            continue  # nothing cut off: the region itself is already a candidate
        out += [parts == j for j in range(1, m + 1)]
    return out


def _cavity_centre(region: np.ndarray) -> np.ndarray:
    """(row, col) centre of the region's widest round part: the centroid of the pixels at least
    CORE_DEPTH x the deepest pixel's distance from the outline, in the piece holding the deepest pixel.
    A region joining the LV cavity to a thinner RV or a bridge has its centroid between them; the widest
    part is the LV's."""
    from scipy import ndimage as ndi

    box = ndi.find_objects(region.astype(np.int8))[0]
    depth = ndi.distance_transform_edt(np.pad(region[box], 1))  # padded: the box's edge is outline too
    deepest = np.unravel_index(int(np.argmax(depth)), depth.shape)
    core, _ = ndi.label(depth >= CORE_DEPTH * depth[deepest])
    return np.argwhere(core == core[deepest]).mean(axis=0) - 1 + np.array([box[0].start, box[1].start])


@dataclass
class _Candidate:
    center_rc: np.ndarray
    score: float


def _left_posterior_rc(study: CineStudy) -> np.ndarray | None:
    """Unit in-plane (row, col) pixel direction pointing to the patient's left-posterior, or None if unknown."""
    d = np.asarray(study.direction, float).reshape(3, 3)
    if np.allclose(d, np.eye(3)):
        return None  # arrays and synthetic data: orientation unknown
    target = np.array([1.0, 1.0, 0.0]) / np.sqrt(2.0)  # LPS: +x left, +y posterior
    v = np.array([d[:, 1] @ target, d[:, 0] @ target])  # components along the row (j) and col (i) axes
    norm = np.linalg.norm(v)
    return v / norm if norm > 0.3 else None


def _search_window(shape: tuple[int, int], heart_rc: np.ndarray, mm: float, cfg: LocaliseConfig) -> tuple[tuple, np.ndarray]:
    """(slices, (row, col) offset) of the part of a slice where `_candidates` looks: the disc of search_radius_mm
    around the heart, with a margin for the smoothing (its 4-sigma kernel) and the motion ring around a region,
    cut at the image's edges. It finds the same candidates as the whole slice, at a fraction of the cost."""
    reach = int(np.ceil(cfg.search_radius_mm / mm)) + max(int(4 * SMOOTH_SIGMA_PX), _ring_width_px(mm)) + 2
    lo = [max(0, int(v) - reach) for v in heart_rc]
    hi = [min(n, int(v) + reach + 1) for n, v in zip(shape, heart_rc)]
    return (slice(lo[0], hi[0]), slice(lo[1], hi[1])), np.array(lo, float)


def _candidates(
    ed: np.ndarray,
    motion: np.ndarray,
    heart_rc: np.ndarray,
    mm: float,
    cfg: LocaliseConfig,
    left_posterior_rc: np.ndarray | None = None,
) -> list[_Candidate]:
    from scipy import ndimage as ndi

    window, offset = _search_window(ed.shape, heart_rc, mm, cfg)
    ed, motion, heart_rc = ed[window], motion[window], heart_rc - offset  # window coordinates from here on
    r, c = ed.shape
    rr, cc = np.mgrid[0:r, 0:c]
    dist_mm = np.hypot(rr - heart_rc[0], cc - heart_rc[1]) * mm
    disc = dist_mm < cfg.search_radius_mm
    smooth = ndi.gaussian_filter(ed.astype(np.float64), SMOOTH_SIGMA_PX)
    if disc.sum() < 16:
        return []
    disk = _disk(cfg.opening_mm, mm)
    labels, n = ndi.label(ndi.binary_opening((smooth > _otsu(smooth[disc])) & disc, structure=disk))
    regions = []
    for k in range(1, n + 1):
        region = labels == k
        if region.sum() * mm * mm <= cfg.max_area_mm2 or region.sum() < 16:
            regions.append(region)
            continue
        # Too large to be an LV: in dilated hearts with thin walls the first level joins LV, RV and fat.
        # Split it at the Otsu level of its own pixels (the myocardium lies below it, blood above).
        parts, m = ndi.label(ndi.binary_opening(region & (smooth > _otsu(smooth[region])), structure=disk))
        regions += [parts == j for j in range(1, m + 1)]
    regions += _split_at_bridges(regions, mm, cfg)
    out: list[_Candidate] = []
    ring_width = _ring_width_px(mm)
    for region in regions:
        area_mm2 = region.sum() * mm * mm
        if not cfg.min_area_mm2 <= area_mm2 <= cfg.max_area_mm2:
            continue
        pts = np.argwhere(region).astype(float)
        center = pts.mean(axis=0)
        cov = np.cov(pts.T) if len(pts) > 2 else np.eye(2)
        ev = np.sort(np.linalg.eigvalsh(cov))
        axis_ratio = float(np.sqrt(max(ev[0], 1e-6) / max(ev[1], 1e-6)))
        convexity = _convexity(pts)  # crescents (RV) are far from convex
        grown = ndi.binary_dilation(ndi.binary_fill_holes(region), iterations=ring_width)
        motion_here = float(motion[grown].mean())
        d = float(np.hypot(*(center - heart_rc))) * mm
        closeness = float(np.exp(-0.5 * (d / cfg.closeness_mm) ** 2))
        size_prior = float(np.clip(area_mm2 / 300.0, 0.2, 1.0))  # tiny blobs are less likely the LV
        score = motion_here * axis_ratio**2 * convexity**2 * closeness * size_prior
        if left_posterior_rc is not None:  # the LV is left-posterior of the heart's motion centre, the RV not
            along = float((center - heart_rc) @ left_posterior_rc) * mm
            score *= 1.0 + 0.5 * np.tanh(along / cfg.anatomical_scale_mm)
        if not region[int(round(center[0])), int(round(center[1]))]:
            score *= 0.5  # ring or crescent: its centroid lies outside it
        out.append(_Candidate(center_rc=_cavity_centre(region) + offset, score=score))
    return sorted(out, key=lambda cand: -cand.score)


def locate_lv(study: CineStudy, cfg: LocaliseConfig = LocaliseConfig()) -> np.ndarray:
    """Automatic LV centre per slice, (S, 2) float (row, col) in native pixel coordinates."""
    from scipy import ndimage as ndi

    pixels = np.asarray(study.pixels, dtype=np.float32)  # (S, T, R, C)
    s, _, r, c = pixels.shape
    mm = float(np.sqrt(study.spacing[0] * study.spacing[1]))  # in-plane mm per pixel
    motions = np.stack([_motion_map(pixels[k]) for k in range(s)])  # (S, R, C)
    stack_motion = ndi.gaussian_filter(motions.sum(axis=0), cfg.heart_sigma_mm / mm)
    heart_rc = np.array(np.unravel_index(int(np.argmax(stack_motion)), (r, c)), float)

    lp = _left_posterior_rc(study) if cfg.anatomical_prior else None
    per_slice = [_candidates(pixels[k, 0], motions[k], heart_rc, mm, cfg, lp) for k in range(s)]
    best = [cands[0] if cands else None for cands in per_slice]
    scores = np.array([b.score if b else 0.0 for b in best])
    confident = [k for k in range(s) if best[k] is not None and scores[k] >= 0.5 * scores.max()]
    if not confident:
        return np.tile(heart_rc, (s, 1))
    median = np.median(np.stack([best[k].center_rc for k in confident]), axis=0)
    floor = cfg.min_relative_score * float(np.median(scores[confident]))  # weaker than this: noise, not an LV

    centers = np.full((s, 2), np.nan)
    for k in range(s):
        near = [
            cand
            for cand in per_slice[k]
            if np.hypot(*(cand.center_rc - median)) * mm <= cfg.max_jump_mm and cand.score >= floor
        ]
        if near:
            centers[k] = max(near, key=lambda cand: cand.score).center_rc
    known = np.flatnonzero(~np.isnan(centers[:, 0]))
    if known.size == 0:
        return np.tile(median, (s, 1))
    for axis in range(2):  # slices without a plausible candidate: interpolate from neighbours
        centers[:, axis] = np.interp(np.arange(s), known, centers[known, axis])
    return centers
