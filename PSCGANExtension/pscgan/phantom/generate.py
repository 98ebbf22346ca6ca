"""Generate phantom cases: draw parameters, rasterise every frame, apply contrast, coils and noise.

Deterministic in (seed, index): each case uses its own numpy SeedSequence([seed, index]) with
separate child streams for anatomy, scar plan, scan settings and noise, so the cheap scar plan
can be drawn alone (`case_scar_plan`).

Variety per case (phantom-1.2, ranges in PhantomConfig): 1.5 / 3 T tissue values and flip angle,
global intensity scale, smooth bias field, drifting and pulsating blood inflow brightness, tissue
texture, noise level, and an acquisition matrix below the displayed one (Fermi-filtered k-space,
zero-filled), applied to the magnitude image after noise so that noise is correlated like in scans.
phantom-1.3 (measured against Sunnybrook with `python -m evaluation.realism`, Resources/results/realism.md):
slice thickness 6-10 mm rendered as a slab (each pixel's sub-samples lie at different depths, so the
tapering heart mixes tissues through the plane), a texture of the myocardial wall that moves with it and
that scar shares, irregular trabeculae and more muscle bundles inside the smooth blood-pool label, patchy
epicardial fat, higher SNR, wider PSF and lower acquisition matrices.
phantom-1.4 (newer, chosen by name: `phantom_config("phantom-1.4")`, the shipped model's data; same table): half of the hearts
failing (dilated, thin-walled) as in the Sunnybrook data, ordinary hearts a little larger, a wider PSF and
trabecular zone, a stronger wall texture and more inflow brightness; the LV grew from 50 to 54 mm across
(Sunnybrook 58), the myocardial spread from 0.26 to 0.30 (0.63), the endocardial edge from 6.6 to 7.0 mm (9.7).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import gaussian_filter

from .. import labels as L
from ..metrics.clinical import quantify_slice
from .anatomy import BodyParams, HeartParams, sample_body, sample_heart
from .config import LEVELS, PhantomConfig
from .contrast import case_cine_signal_table, coil_sensitivities, lge_signal_table, multicoil_magnitude
from .motion import ANGLE_BINS, BIN_ANGLES_DEG, contraction_curve, es_frame_of, wall_tables
from .render import Grid, HeartRasteriser, block_majority, block_mean, render_body
from .scar import ScarPlan, sample_scar_plan, transmurality_profile
from .tissues import EXPORT_LABEL, NUM_TISSUES, Tissue

_STREAMS = ("anatomy", "scar", "scan", "noise")


@dataclass(frozen=True)
class ScanParams:
    """Acquisition of one case: image grid, timing, noise, coils, LGE settings."""

    rows: int
    cols: int
    spacing_mm: float
    rr_interval_ms: float
    snr: float
    lge_snr: float
    n_coils: int
    ti_scale: float
    lge_shift_mm: tuple[float, float]  # (down, right)
    blur_px: float  # Gaussian PSF sigma in pixels
    cine_blood_level: float  # mean LV blood intensity the cine is scaled to
    lge_blood_level: float
    field_t: float = 1.5  # 1.5 or 3 T tissue values in the cine
    flip_deg: float = 60.0  # cine flip angle
    bias_strength: float = 0.0  # log amplitude of the smooth bias field
    bias_coefficients: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)  # u, v, uv, u^2, v^2 (image coords -1..1)
    acquisition_fraction: float = 1.0  # acquired / displayed matrix along the phase-encoding axis
    readout_fraction: float = 1.0  # ... along the read axis
    phase_axis: int = 0  # 0 rows, 1 columns
    texture_amplitude: float = 0.03
    flow_inhomogeneity: float = 0.08
    inflow_pulsation: float = 0.0  # whole-pool blood brightness swing (relative amplitude)
    inflow_phase: float = 0.0
    slice_thickness_mm: float = 8.0  # phantom-1.3: drawn per case, rendered as a slab (through-plane partial volume)
    myo_texture: float = 0.0  # phantom-1.3: relative SD of the myocardial wall's own texture
    inflow_gain: float = 1.0  # phantom-1.3: cine blood brightness from through-plane inflow, over steady state


@dataclass(frozen=True)
class CaseSpec:
    """Every random choice of one case; pass as `heart=` to `generate_case` to reuse a heart."""

    heart: HeartParams
    body: BodyParams
    scan: ScanParams
    scar: ScarPlan


@dataclass
class PhantomCase:
    """One short-axis slice: cine (T, R, C) float32, cine_labels (T, R, C) uint8, lge (R, C) float32,
    labels (R, C) uint8 (= cine_labels[0], end-diastole), meta (JSON-ready dict), tissue_map (R, C)
    uint8 internal tissues at ED (`pscgan.phantom.tissues.Tissue`)."""

    cine: np.ndarray
    cine_labels: np.ndarray
    lge: np.ndarray
    labels: np.ndarray
    meta: dict
    tissue_map: np.ndarray | None = field(default=None, repr=False)


def _rngs(seed: int, index: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([int(seed), int(index)]).spawn(len(_STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(_STREAMS, children)}


def case_scar_plan(seed: int, index: int, cfg: PhantomConfig = PhantomConfig()) -> ScarPlan:
    """The scar plan `generate_case(seed, index, cfg)` uses, without rendering anything."""
    return sample_scar_plan(_rngs(seed, index)["scar"], cfg.scar_free_fraction, cfg)


def sample_scan(rng: np.random.Generator, cfg: PhantomConfig) -> ScanParams:
    """Draw the image grid and acquisition settings."""
    spacing = float(rng.uniform(*cfg.spacing_range_mm))
    size = int(np.clip(round(rng.uniform(*cfg.fov_range_mm) / spacing / 8) * 8, *cfg.image_size_range))
    rows = size
    if rng.uniform() < cfg.rectangular_fraction:
        rows = int(max(cfg.image_size_range[0], round(size * rng.uniform(0.75, 0.95) / 8) * 8))
    shift = np.clip(rng.normal(0.0, cfg.lge_shift_sd_mm, 2), -2.5, 2.5)
    return ScanParams(
        rows=rows, cols=size, spacing_mm=spacing,
        rr_interval_ms=float(rng.uniform(*cfg.rr_interval_ms_range)),
        snr=float(rng.uniform(*cfg.snr_range)), lge_snr=float(rng.uniform(*cfg.lge_snr_range)),
        n_coils=int(rng.integers(cfg.coils_range[0], cfg.coils_range[1] + 1)),
        ti_scale=float(1.0 + np.clip(rng.normal(0.0, cfg.ti_scale_sd), -0.1, 0.1)),
        lge_shift_mm=(float(shift[0]), float(shift[1])),
        blur_px=float(rng.uniform(*cfg.blur_px_range)),
        cine_blood_level=float(rng.uniform(*cfg.cine_blood_level_range)), lge_blood_level=float(rng.uniform(120.0, 300.0)),
        field_t=3.0 if rng.uniform() < cfg.field_3t_fraction else 1.5,
        flip_deg=float(rng.uniform(*cfg.flip_deg_range)),
        bias_strength=float(rng.uniform(*cfg.bias_strength_range)),
        bias_coefficients=tuple(float(v) for v in rng.normal(0.0, 1.0 / math.sqrt(5.0), 5)),
        acquisition_fraction=float(rng.uniform(*cfg.acquisition_fraction_range)),
        readout_fraction=float(rng.uniform(*cfg.readout_fraction_range)),
        phase_axis=int(rng.integers(0, 2)),
        texture_amplitude=float(rng.uniform(*cfg.texture_amplitude_range)),
        flow_inhomogeneity=float(rng.uniform(*cfg.flow_inhomogeneity_range)),
        inflow_pulsation=float(rng.uniform(*cfg.inflow_pulsation_range)),
        inflow_phase=float(rng.uniform(0, 2 * np.pi)),
        slice_thickness_mm=float(rng.uniform(*cfg.slice_thickness_range_mm)),
        myo_texture=float(rng.uniform(*cfg.myo_texture_range)),
        inflow_gain=float(rng.uniform(*cfg.inflow_gain_range)),
    )


def sample_spec(seed: int, index: int, cfg: PhantomConfig = PhantomConfig(), level: str | None = None) -> CaseSpec:
    """Every random choice of case (seed, index)."""
    rng = _rngs(seed, index)
    if level is None:
        level = str(rng["anatomy"].choice(LEVELS, p=np.asarray(cfg.level_weights) / sum(cfg.level_weights)))
    heart = sample_heart(rng["anatomy"], level, cfg)
    body = sample_body(rng["anatomy"], cfg)
    return CaseSpec(heart, body, sample_scan(rng["scan"], cfg),
                    sample_scar_plan(rng["scar"], cfg.scar_free_fraction, cfg))


class _Scene:
    """Heart-frame coordinates of one rendering (cine, or the slightly shifted LGE)."""

    def __init__(self, spec: CaseSpec, grid: Grid, tau, r_endo, r_epi, curve, shift_mm=(0.0, 0.0), texture=None):
        ss = grid.ss
        sr, sc = grid.spacing_rc
        self.centre_mm = ((grid.rows - 1) / 2 * sr + spec.heart.centre_offset_mm[0] + shift_mm[0],
                          (grid.cols - 1) / 2 * sc + spec.heart.centre_offset_mm[1] + shift_mm[1])
        self.theta = math.radians(spec.heart.rotation_deg)
        rows_mm = ((np.arange(grid.rows * ss) + 0.5) / ss - 0.5) * sr  # supersample centres
        cols_mm = ((np.arange(grid.cols * ss) + 0.5) / ss - 0.5) * sc
        x, y = self._to_heart(rows_mm[:, None], cols_mm[None, :])
        self.static = render_body(x, y, spec.body)  # (R*ss, C*ss)
        radius = HeartRasteriser.window_radius(spec.heart, r_epi[0])
        cr, cc = self.centre_mm[0] / sr, self.centre_mm[1] / sc
        r0, r1 = max(0, int(cr - radius / sr)), min(grid.rows, int(math.ceil(cr + radius / sr)) + 1)
        c0, c1 = max(0, int(cc - radius / sc)), min(grid.cols, int(math.ceil(cc + radius / sc)) + 1)
        self.window = (slice(r0, r1), slice(c0, c1))
        self.window_ss = (slice(r0 * ss, r1 * ss), slice(c0 * ss, c1 * ss))
        wx = x[self.window_ss]
        depths = slab_depths_mm(ss, spec.scan.slice_thickness_mm)  # (ss, ss), tiled over the window's blocks
        depth = np.tile(depths, (wx.shape[0] // ss, wx.shape[1] // ss))
        self.heart = HeartRasteriser(wx, y[self.window_ss], spec.heart, tau, r_endo, r_epi, curve,
                                     slab_scale=spec.heart.slab_scale(depth), texture=texture)

    def _to_heart(self, rows_mm, cols_mm):
        sx = cols_mm - self.centre_mm[1]
        sy = -(rows_mm - self.centre_mm[0])
        c, s = math.cos(self.theta), math.sin(self.theta)
        return c * sx + s * sy, -s * sx + c * sy

    def to_image_rc(self, x: float, y: float, spacing_rc) -> tuple[float, float]:
        """Heart-frame point (mm) -> (row, col) pixel coordinates."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        sx, sy = c * x - s * y, s * x + c * y
        return (self.centre_mm[0] - sy) / spacing_rc[0], (self.centre_mm[1] + sx) / spacing_rc[1]

    def frame(self, t: int) -> np.ndarray:
        return self.heart.frame(t, self.static[self.window_ss])


def slab_depths_mm(ss: int, thickness_mm: float) -> np.ndarray:
    """(ss, ss) depth through the slice (mm, centre 0) of each sub-sample of a pixel: the ss * ss sub-samples
    spread evenly over the slab in a scrambled order, so the block mean averages the slab profile (rectangular
    slice profile of `thickness_mm`) as well as the pixel area."""
    n = ss * ss
    order = (np.arange(n) * 5) % n if n % 5 else np.arange(n)  # scramble: neighbours sit at distant depths
    return (((order + 0.5) / n - 0.5) * thickness_mm).reshape(ss, ss)


def _wall_texture(rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """(2, bins) angular profiles of the wall's texture, mean and endo-to-epi slope: a fine part (about
    3 degrees correlation) and a coarse one (30 degrees: regional shading of the wall, as Sunnybrook's walls
    show; realism.md), SD `amplitude` in all. Drawn independently of the scar plan, so scar stays invisible
    in cine intensity (scar and healthy wall carry the same texture)."""
    from scipy.ndimage import gaussian_filter1d

    def smooth(deg):
        prof = gaussian_filter1d(rng.standard_normal(ANGLE_BINS), deg * ANGLE_BINS / 360.0, mode="wrap")
        return prof / max(float(prof.std()), 1e-9)

    mean = 0.6 * smooth(3.0) + 0.6 * smooth(30.0)
    slope = 0.6 * smooth(3.0)
    return np.clip(amplitude * np.stack([mean, slope]), -0.45, 0.9).astype(np.float32)


def _smooth_texture(shape, rng: np.random.Generator, amplitude: float = 0.03) -> np.ndarray:
    """(R, C) multiplicative tissue texture: a coarse (2.5 px) and a fine (1 px) smooth noise, SD `amplitude`."""
    coarse = gaussian_filter(rng.standard_normal(shape), 2.5)
    fine = gaussian_filter(rng.standard_normal(shape), 1.0)
    field_ = coarse / max(coarse.std(), 1e-9) + 0.6 * fine / max(fine.std(), 1e-9)
    return (1.0 + amplitude * field_ / max(field_.std(), 1e-9)).astype(np.float32)


def _bias_field(shape, strength: float, coefficients) -> np.ndarray:
    """(R, C) smooth multiplicative bias exp(strength * quadratic polynomial) over image coordinates -1..1."""
    u = np.linspace(-1.0, 1.0, shape[0])[:, None]
    v = np.linspace(-1.0, 1.0, shape[1])[None, :]
    c = coefficients
    poly = c[0] * u + c[1] * v + c[2] * u * v + c[3] * (u * u - 1 / 3) + c[4] * (v * v - 1 / 3)
    return np.exp(strength * poly).astype(np.float32)


def _fermi_window(n: int, fraction: float, real_half: bool = False) -> np.ndarray:
    """k-space weights of an acquisition keeping `fraction` of n lines (Fermi-filtered edge)."""
    freq = np.abs(np.fft.rfftfreq(n) if real_half else np.fft.fftfreq(n))  # cycles / pixel, 0..0.5
    cut = 0.5 * fraction
    return 1.0 / (1.0 + np.exp((freq - cut) / (0.04 * cut)))


def _acquisition_windows(shape, scan: ScanParams) -> tuple[np.ndarray, float]:
    """(R, C//2+1) rfft2 weights for an acquisition matrix smaller than the displayed one (zero-filled,
    then shown at full size), and the factor by which white noise SD shrinks under it."""
    frac = [scan.readout_fraction, scan.readout_fraction]
    frac[scan.phase_axis] = scan.acquisition_fraction
    wr = _fermi_window(shape[0], frac[0])
    wc = _fermi_window(shape[1], frac[1], real_half=True)
    noise_gain = math.sqrt(float(np.mean(wr ** 2)) * float(np.mean(_fermi_window(shape[1], frac[1]) ** 2)))
    return (wr[:, None] * wc[None, :]).astype(np.float32), noise_gain


def _lowpass(images: np.ndarray, window: np.ndarray) -> np.ndarray:
    """(..., R, C) real images filtered by rfft2 weights `window` (R, C//2+1)."""
    spectrum = np.fft.rfft2(images) * window
    return np.fft.irfft2(spectrum, s=images.shape[-2:]).astype(np.float32)


def _flow_fields(shape, frames: int, rng: np.random.Generator, amplitude: float, pulsation: float = 0.0,
                 pulse_phase: float = 0.0):
    """Yield per-frame smooth fields (SD `amplitude`) that drift over the cycle (blood inflow), plus a
    whole-pool brightness swing of relative amplitude `pulsation` (through-plane inflow)."""
    a, b = (gaussian_filter(rng.standard_normal(shape), 4.0) for _ in range(2))
    a, b = a / max(a.std(), 1e-9), b / max(b.std(), 1e-9)
    for t in range(frames):
        phase = 2 * np.pi * t / frames
        swing = pulsation * (math.cos(phase + pulse_phase) - math.cos(pulse_phase))  # 0 at ED
        yield (amplitude * (np.cos(phase) * a + np.sin(phase) * b) + swing).astype(np.float32)


def render_case(spec: CaseSpec, cfg: PhantomConfig, seed: int, index: int,
                noise_rng: np.random.Generator | None = None) -> PhantomCase:
    """Render every frame of a fully specified case."""
    rng = noise_rng if noise_rng is not None else _rngs(seed, index)["noise"]
    heart, scan = spec.heart, spec.scan
    level = heart.level
    frames, ss = cfg.frames, cfg.supersampling
    grid = Grid(scan.rows, scan.cols, (scan.spacing_mm, scan.spacing_mm), ss)
    tau = transmurality_profile(spec.scar, level, BIN_ANGLES_DEG, heart.rv_insertion_deg)
    es_frame = es_frame_of(frames, heart.es_fraction)
    curve = contraction_curve(frames, es_frame)
    r_endo, r_epi = wall_tables(heart, tau, curve)

    cine_tab = case_cine_signal_table(cfg.sequence, scan.field_t, scan.flip_deg).astype(np.float32)
    cine_tab[[Tissue.LV_BLOOD, Tissue.RV_BLOOD, Tissue.VESSEL_BLOOD]] *= np.float32(scan.inflow_gain)
    scene = _Scene(spec, grid, tau, r_endo, r_epi, curve, texture=_wall_texture(rng, scan.myo_texture))
    win, win_ss = scene.window, scene.window_ss
    static_signal = block_mean(cine_tab[scene.static], ss).astype(np.float32)  # (R, C)
    clean = np.empty((frames, grid.rows, grid.cols), dtype=np.float32)
    cine_labels = np.zeros((frames, grid.rows, grid.cols), dtype=np.uint8)
    tissue_map = None
    blood_tab = np.zeros(NUM_TISSUES, dtype=np.float32)
    blood_tab[[Tissue.LV_BLOOD, Tissue.RV_BLOOD]] = 1.0
    wall_tab = np.zeros(NUM_TISSUES, dtype=np.float32)
    wall_tab[[Tissue.MYOCARDIUM, Tissue.SCAR]] = 1.0  # scar carries the same texture as healthy wall
    flow = _flow_fields((grid.rows, grid.cols), frames, rng, scan.flow_inhomogeneity, scan.inflow_pulsation,
                        scan.inflow_phase)  # (T, R, C) generator
    for t in range(frames):
        tissue = scene.frame(t)  # (window rows*ss, window cols*ss)
        clean[t] = static_signal
        signal = cine_tab[tissue] * (1.0 + scene.heart.texture * wall_tab[tissue])
        clean[t][win] = block_mean(signal, ss) * (1.0 + next(flow)[win] * block_mean(blood_tab[tissue], ss))
        cine_labels[t][win] = block_majority(EXPORT_LABEL[tissue], ss, L.NUM_CLASSES)
        if t == 0:
            full = scene.static.copy()
            full[win_ss] = tissue
            tissue_map = block_majority(full, ss, NUM_TISSUES)
    labels = cine_labels[0].copy()

    texture = _smooth_texture((grid.rows, grid.cols), rng, scan.texture_amplitude)
    torso_rc = scene.to_image_rc(*spec.body.torso_centre, grid.spacing_rc)
    sens = coil_sensitivities((grid.rows, grid.cols), grid.spacing_rc,
                              (torso_rc[0] * grid.spacing_rc[0], torso_rc[1] * grid.spacing_rc[1]),
                              (spec.body.torso_axes[1], spec.body.torso_axes[0]), scan.n_coils, rng)
    lv_r, lv_c = (int(np.clip(round(v), 0, n - 1)) for v, n in
                  zip(scene.to_image_rc(0.0, 0.0, grid.spacing_rc), (grid.rows, grid.cols)))
    sens /= np.float32(np.sqrt(np.sum(sens[:, lv_r, lv_c] ** 2)))  # RSS shading 1 at the LV centre
    bias = _bias_field((grid.rows, grid.cols), scan.bias_strength, scan.bias_coefficients)
    bias /= bias[lv_r, lv_c]
    texture_bias = texture * bias  # (R, C)
    clean = gaussian_filter(clean, (0.0, scan.blur_px, scan.blur_px)) * texture_bias  # PSF, texture, bias
    blood = labels == L.BLOOD_POOL
    heart_mask = labels > 0
    gain = scan.cine_blood_level / max(float(clean[0][blood].mean()) if blood.any() else float(cine_tab[Tissue.LV_BLOOD]), 1e-9)
    sigma = float(clean[0][heart_mask].mean()) * gain / scan.snr if heart_mask.any() else gain * float(cine_tab[Tissue.MYOCARDIUM]) / scan.snr
    window, noise_gain = _acquisition_windows((grid.rows, grid.cols), scan)
    cine = multicoil_magnitude(clean * np.float32(gain), sens, sigma / noise_gain, rng)
    cine = np.maximum(_lowpass(cine, window), 0.0)  # (T, R, C) reconstructed at a lower acquisition matrix

    lge_scene = _Scene(spec, grid, tau, r_endo, r_epi, curve, shift_mm=scan.lge_shift_mm)
    lge_full = lge_scene.static.copy()
    lge_full[lge_scene.window_ss] = lge_scene.frame(0)
    lge_tab = lge_signal_table(cfg.sequence, scan.ti_scale).astype(np.float32)
    lge_clean = gaussian_filter(block_mean(lge_tab[lge_full], ss).astype(np.float32), scan.blur_px * 1.2) * texture
    lge_blood = float(lge_clean[blood].mean()) if blood.any() else float(lge_tab[Tissue.LV_BLOOD])
    lge_gain = scan.lge_blood_level / max(lge_blood, 1e-9)
    lge = multicoil_magnitude(lge_clean * np.float32(lge_gain), sens, scan.lge_blood_level / scan.lge_snr / noise_gain, rng)
    lge = np.maximum(_lowpass(lge, window), 0.0)

    meta = _meta(spec, cfg, seed, index, scene, grid, labels, r_epi, es_frame)
    # Whole numbers, like stored MR pixel values (noise SD is several units): files compress 2.5x better.
    cine = np.round(cine).astype(np.float32)
    lge = np.round(lge).astype(np.float32)
    return PhantomCase(cine, cine_labels, lge, labels, meta, tissue_map)


def _meta(spec: CaseSpec, cfg: PhantomConfig, seed: int, index: int, scene: _Scene, grid: Grid,
          labels: np.ndarray, r_epi: np.ndarray, es_frame: int) -> dict:
    """meta.json content; the clinical figures come from `pscgan.metrics.clinical.quantify_slice`."""
    heart, scan = spec.heart, spec.scan
    insertion = {}
    for name, ang in zip(("anterior", "inferior"), heart.rv_insertion_deg):
        k = min(int(ang * ANGLE_BINS / 360.0), ANGLE_BINS - 1)
        rad = float(r_epi[0][k])
        insertion[name] = scene.to_image_rc(rad * math.cos(math.radians(ang)), rad * math.sin(math.radians(ang)),
                                            grid.spacing_rc)
    blood = labels == L.BLOOD_POOL
    if blood.any():
        rr, cc = np.nonzero(blood)
        centre = (float(rr.mean()), float(cc.mean()))
    else:
        centre = scene.to_image_rc(0.0, 0.0, grid.spacing_rc)
    q = quantify_slice(labels, grid.spacing_rc, heart.level, insertion["anterior"], insertion["inferior"], centre)
    has_scar = bool((labels == L.SCAR).any())
    return {
        "generator_version": cfg.version,
        "seed": int(seed),
        "case_index": int(index),
        "pixel_spacing_mm": [float(grid.spacing_rc[0]), float(grid.spacing_rc[1])],
        "image_size": [int(grid.rows), int(grid.cols)],
        "frames": int(cfg.frames),
        "frame_interval_ms": float(scan.rr_interval_ms / cfg.frames),
        "slice_thickness_mm": float(scan.slice_thickness_mm),
        "level": heart.level,
        "slice_position": float(heart.position),
        "lv_center_rc": [float(centre[0]), float(centre[1])],
        "rv_insertion_anterior_rc": [float(v) for v in insertion["anterior"]],
        "rv_insertion_inferior_rc": [float(v) for v in insertion["inferior"]],
        "rotation_deg": float(heart.rotation_deg),
        "territory": spec.scar.territory if has_scar else None,
        "has_scar": has_scar,
        "planned_transmurality": float(spec.scar.transmurality) if has_scar else 0.0,
        "scar_area_cm2": float(q.scar_area_cm2),
        "scar_ratio": None if q.scar_ratio is None else float(q.scar_ratio),
        "myocardium_area_cm2": float(q.myocardium_area_cm2),
        "blood_pool_area_cm2": float(q.blood_pool_area_cm2),
        "snr": float(scan.snr),
        "lge_snr": float(scan.lge_snr),
        "lge_shift_mm": [float(v) for v in scan.lge_shift_mm],
        "inversion_time_scale": float(scan.ti_scale),
        "normal_thickening": float(heart.normal_thickening),
        "segments": {str(s.segment): {"name": s.name, "scar_fraction": s.scar_fraction,
                                      "transmurality_pct": s.transmurality_pct, "has_scar": bool(s.has_scar)}
                     for s in q.segments},
        "es_frame": int(es_frame),
    }


def check_config(cfg: PhantomConfig) -> PhantomConfig:
    """InputError for settings the phantom cannot render (too few frames, no supersampling)."""
    from ..errors import InputError

    if int(cfg.frames) < 8:
        raise InputError(f"phantom frames {cfg.frames}: must be at least 8")
    if int(cfg.supersampling) < 1:
        raise InputError(f"phantom supersampling {cfg.supersampling}: must be at least 1")
    return cfg


def generate_case(seed: int, index: int, cfg: PhantomConfig = PhantomConfig(), level: str | None = None,
                  heart: CaseSpec | None = None) -> PhantomCase:
    """One phantom slice, deterministic in (seed, index). `level` forces basal / mid / apical;
    `heart` (a CaseSpec, e.g. from `sample_spec`) reuses given anatomy, scan and scar."""
    if level is not None and level not in LEVELS:
        from ..errors import InputError
        raise InputError(f"level {level!r}: must be one of {', '.join(LEVELS)}")
    check_config(cfg)
    spec = heart if heart is not None else sample_spec(seed, index, cfg, level)
    return render_case(spec, cfg, seed, index)


def generate_study(seed: int, n_slices: int = 8, cfg: PhantomConfig = PhantomConfig()) -> list[PhantomCase]:
    """One heart cut base -> apex: same grid, anatomy and scar territory, slices spread over the LV."""
    if n_slices < 1:
        from ..errors import InputError
        raise InputError(f"study slices {n_slices}: must be at least 1")
    check_config(cfg)
    spec = sample_spec(seed, 0, cfg, level="mid")
    if not spec.scar.has_scar:  # a demo study always shows an infarct
        spec = replace(spec, scar=sample_scar_plan(_rngs(seed, 0)["scar"], 0.0, cfg))
    positions = np.linspace(0.08, 0.88, n_slices) if n_slices > 1 else np.array([0.5])
    cases = []
    for i, p in enumerate(positions):
        slice_spec = replace(spec, heart=replace(spec.heart, position=float(p)))
        cases.append(render_case(slice_spec, cfg, seed, i, noise_rng=_rngs(seed, 10_000 + i)["noise"]))
    return cases
