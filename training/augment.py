"""Domain randomisation of training batches (issue 11, item 3): make phantom cine look like many real scanners.

`augment_batch(cine, lge, labels, rng, options)` takes the arrays of `RoiArrays.crops` and returns new ones of
the same shapes and dtypes. Every random number comes from `rng` (a numpy Generator): the same rng state
gives the same output, so a resumed run replays its epochs exactly (training.seeding). The rng is advanced
by the same amount for every batch of a given shape, whichever transforms happen to be drawn. (Torch's CPU
kernels used here are deterministic; matrix products are bit-identical for the same torch thread count.)

What is randomised, per sample, each with its own probability (AugmentOptions; the defaults are below),
in the order an acquisition produces them. Cine intensities are handled as magnitudes m = (x + 1) / 2 in
[0, 1] (x is the [-1, 1] model input) and normalised back at the end exactly as at inference
(the mapping of `pscgan.preprocess.normalise`, robust percentiles, here estimated from every 4th pixel per axis
for speed), so the cine stays in [-1, 1].

Geometric (cine, LGE and labels together; bilinear for the images, nearest for the labels, reflected at the
borders):
- rotation +-15 deg and isotropic scaling 0.9-1.1 about the ROI centre (p 0.5): the short-axis plane is
  planned by hand, so the heart's in-plane orientation varies by about this much between studies, and the
  heart size varies by about +-10 % in the fixed 1.6 mm ROI (the ROI size is physical, so only anatomy varies).
- symmetries of the square (p_dihedral, off by default): a transpose and flips of rows and columns, drawn
  uniformly from the 8 combinations (the identity included), before the rotation. Not anatomy (the RV lands
  above, below or on the other side of the LV, the ventricle twists the other way): a multiplier of distinct
  training samples for a design that has run out of them. Wall thickening, which carries the scar, does not
  depend on the direction it is seen from. Drawn only when on, so the default's random stream is unchanged.
Temporal (cine only; the labels and LGE belong to end-diastole and stay):
- frame count (p 0.5): the scan had N = 16-40 frames per cycle (the range of clinical retrospectively gated
  bSSFP, 20-30 typical; the shared Sunnybrook studies have 20): the 25 frames go to N and back with the same periodic spline
  inference uses (`resample_frames`), so the temporal blur and interpolation of an N-frame scan are seen.
- start phase (p 0.5): the cycle starts up to 2 frames before or after end-diastole (circular shift by -2..2
  frames of 25, i.e. up to 8 % of the cycle): the ECG trigger (R wave) is not exactly at the ED frame; in the
  shared Sunnybrook studies the contoured ED phase is phase 19 or 20 of 20, 1-2 frames before the first.
Photometric (cine only), in this order:
- intensity curve (p 0.8): gamma 0.67-1.5 (exp of U(-0.4, 0.4)) composed with a smooth monotone histogram
  warp (6 knots whose steps vary by a factor e^(+-0.5)), realised as a monotone Bernstein polynomial of degree
  6 (cheap to evaluate; ends fixed, order of intensities kept): bSSFP contrast depends on flip angle, TR, field
  strength and the T2/T1 ratio; real blood-to-myocardium ratios range from about 2 to 5, and fat and the
  surroundings change brightness relative to both.
- bias field (p 0.5): a smooth multiplicative gain exp(f), f bicubic from a 3 x 3 grid with std 0.1-0.3
  (gain e^(+-2 std), 0.55-1.8, at the extremes; typically +-20-30 % across the 10 cm ROI): surface-coil sensitivity
  falls off with depth from the chest wall; the same for all frames (coils do not move).
- resolution (p 0.3): area-averaged down-sampling by 1-2 per axis (independently: the phase-encoding direction
  is often coarser) and linear interpolation back: acquired in-plane pixels are 1.2-2.5 mm, often
  zero-filled or interpolated to a finer display matrix; the ROI is at 1.6 mm.
- blur / sharpen (p 0.5): x + a (x - G_sigma x), sigma 0.5-1.5 px, a in [-1, 1.5] (a < 0 blurs, a = -1 is a
  Gaussian blur, a > 0 sharpens as vendor reconstruction filters do). Resolution and blur are one matrix
  per axis (rows @ frame @ cols.T).
- noise (p 0.7): Rician (noise added to the real and imaginary channels of the magnitude), std 0.01-0.07 of the
  [0, 1] magnitude range, i.e. blood SNR about 15-100 (1.5 T/3 T bSSFP with and without parallel imaging),
  spatially correlated by a Gaussian of 0, 0.5, 0.8 or 1.2 px (interpolation, reconstruction filters),
  unit std kept; independent per frame (each frame has its own k-space data), so the background floor is
  Rayleigh. The noise fields are random windows and frames of a fixed, seeded noise bank (see _noise_bank).
The LGE target and the labels get the geometric changes only; no change depends on the labels, so no scar
information can enter the cine's intensities (the study's scientific control: scar is seen only in motion).

Cost: `python -m training.augment --cost DATA` times batches of 16 crops (25 x 64 x 64). Measured 2026-11-30
on the 2-core development machine while a training run used both cores, one torch thread: about 46 ms CPU
(90-130 ms wall) per batch; the most costly parts are the rotation (grid_sample), the resolution/blur
matrices and the noise. Not asserted by the tests.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache, lru_cache

import numpy as np


@dataclass(frozen=True)
class AugmentOptions:
    """Switches, probabilities and ranges of `augment_batch` (defaults as documented in the module)."""

    enabled: bool = True
    p_geometric: float = 0.5
    p_dihedral: float = 0.0
    max_rotation_deg: float = 15.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    p_frames: float = 0.5
    frames_range: tuple[int, int] = (16, 40)
    p_phase: float = 0.5
    max_phase_shift: int = 2
    p_curve: float = 0.8
    max_log_gamma: float = 0.4
    warp_log_step: float = 0.5
    p_bias: float = 0.5
    bias_std_range: tuple[float, float] = (0.1, 0.3)
    p_resolution: float = 0.3
    max_downsample: float = 2.0
    p_noise: float = 0.7
    noise_std_range: tuple[float, float] = (0.01, 0.07)
    p_blur: float = 0.5
    blur_sigma_range: tuple[float, float] = (0.5, 1.5)
    sharpen_range: tuple[float, float] = (-1.0, 1.5)
    clip_percentiles: tuple[float, float] = (0.5, 99.5)  # the model's PreprocessConfig.clip_percentiles

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def differences(self, stored: dict) -> list[str]:
        """The options that differ from `stored` (a to_dict() of the run being resumed); an option the stored
        dict lacks was added later and had its default then."""
        stored = {**AugmentOptions().to_dict(), **stored}
        return sorted(k for k, v in self.to_dict().items() if stored.get(k) != v)


OFF = AugmentOptions(enabled=False)
_WARP_KNOTS = 6
_BERNSTEIN_DEGREE = 6  # the intensity curve's polynomial degree
_PERCENTILE_STEP = 4  # the final normalisation's percentiles from every 4th pixel per axis (1600 per frame)
_NOISE_CORR_PX = (0.0, 0.5, 0.8, 1.2)  # the noise banks' correlation lengths (Gaussian sigma, pixels)
_NOISE_BANK_FRAMES = 64
_NOISE_BANK_SEED = 11


def augment_batch(cine: np.ndarray, lge: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  options: AugmentOptions = AugmentOptions()):
    """cine (B,T,S,S) float32 in [-1,1], lge (B,S,S) float32, labels (B,S,S) or (B,L,S,S) int64 (L label maps of
    the same anatomy, e.g. end-diastole and end-systole, moved alike) -> the same, randomised.

    Disabled options (and an empty batch) return the inputs unchanged (the same arrays) and leave `rng`
    untouched.
    """
    if not options.enabled or len(cine) == 0:
        return cine, lge, labels
    import torch

    b, t, s, _ = cine.shape
    p = _draw(rng, b, t, s, options)
    # magnitude in [0, 1]; geometry and frame resampling are affine-invariant, so they act on it directly
    m = torch.from_numpy(np.ascontiguousarray(cine, dtype=np.float32)).add(1.0).mul_(0.5).clamp_(0.0, 1.0)
    y = torch.from_numpy(np.array(lge, dtype=np.float32))
    lab = labels.copy()

    for i in np.flatnonzero(p["dihedral"]):
        m[i], y[i] = _symmetry(m[i], p["symmetry"][i]), _symmetry(y[i], p["symmetry"][i])
        lab[i] = _symmetry(torch.from_numpy(lab[i]), p["symmetry"][i]).numpy()
    geo = np.flatnonzero(p["geometric"])
    if geo.size:
        planes = torch.from_numpy(lab[geo].reshape(geo.size, -1, s, s).astype(np.float32))  # (n, L, S, S)
        mg, yg, lg = _geometric(m[geo], y[geo], planes, p["angle"][geo], p["scale"][geo])
        m[geo], y[geo] = mg, yg
        lab[geo] = lg.numpy().astype(labels.dtype).reshape(lab[geo].shape)
    _temporal(m, p["frames"], p["shift"])

    for i in np.flatnonzero(p["curve"]):
        m[i] = _apply_curve(m[i], _curve_coefficients(p["log_gamma"][i], p["warp_steps"][i]))
    bias = np.flatnonzero(p["bias"])
    if bias.size:
        fields = _bias_fields(p["bias_grid"][bias] * p["bias_std"][bias, None, None], s)
        for i, field in zip(bias, fields):
            m[i].mul_(field)
    for i in np.flatnonzero(p["resolution"] | p["blur"]):
        down = p["down"][i] if p["resolution"][i] else (1.0, 1.0)
        sigma, amount = (p["blur_sigma"][i], p["sharpen"][i]) if p["blur"][i] else (1.0, 0.0)
        rows, cols = (torch.from_numpy(_spatial_matrix(s, float(f), float(sigma), float(amount))) for f in down)
        m[i] = rows @ m[i] @ cols.T
    for i in np.flatnonzero(p["noise"]):
        _rician(m[i], float(p["noise_std"][i]), _noise(s, int(p["noise_corr"][i]), p["noise_frames"][i],
                                                       p["noise_offset"][i]))
    return _normalise_batch(m, options.clip_percentiles, _PERCENTILE_STEP).numpy(), y.numpy(), lab


def _normalise_batch(x, clip_percentiles, step: int = 1):
    """(B, ...) each sample to [-1, 1] exactly as `pscgan.preprocess.normalise` (its percentiles map to -1 and
    1, clipped beyond; min/max when they coincide; zeros when constant), batched in float32 torch for speed,
    with the percentiles taken from every step-th pixel of the last two axes. Tested against `normalise`."""
    import torch

    flat = x[..., ::step, ::step].reshape(len(x), -1).numpy()
    lo, hi = np.percentile(flat, [float(clip_percentiles[0]), float(clip_percentiles[1])], axis=1)
    same = ~(hi > lo)
    lo, hi = np.where(same, flat.min(1), lo), np.where(same, flat.max(1), hi)
    lo, hi = torch.from_numpy(lo), torch.from_numpy(hi)
    span = hi - lo
    scale = torch.where(span > 0, 2.0 / span, torch.zeros_like(span))
    shape = (-1, *([1] * (x.ndim - 1)))
    out = torch.addcmul((-1.0 - lo * scale).float().view(shape), x, scale.float().view(shape)).clamp_(-1.0, 1.0)
    if not bool((span > 0).all()):
        out[~(span > 0)] = 0.0
    return out


def _draw(rng: np.random.Generator, b: int, t: int, s: int, o: AugmentOptions) -> dict:
    """Every random parameter for b samples, always all of them, in a fixed order (a fixed rng advance)."""
    u = lambda lo, hi, size=b: rng.uniform(lo, hi, size)  # noqa: E731
    return {
        "geometric": rng.random(b) < o.p_geometric,
        "angle": np.deg2rad(u(-o.max_rotation_deg, o.max_rotation_deg)),
        "scale": u(*o.scale_range),
        "frames": np.where(rng.random(b) < o.p_frames, rng.integers(o.frames_range[0], o.frames_range[1] + 1, b), t),
        "shift": np.where(rng.random(b) < o.p_phase, rng.integers(-o.max_phase_shift, o.max_phase_shift + 1, b), 0),
        "curve": rng.random(b) < o.p_curve,
        "log_gamma": u(-o.max_log_gamma, o.max_log_gamma),
        "warp_steps": np.exp(u(-o.warp_log_step, o.warp_log_step, (b, _WARP_KNOTS - 1))),
        "bias": rng.random(b) < o.p_bias,
        "bias_std": u(*o.bias_std_range),
        "bias_grid": rng.standard_normal((b, 3, 3)),
        "resolution": rng.random(b) < o.p_resolution,
        "down": u(1.0, o.max_downsample, (b, 2)),
        "noise": rng.random(b) < o.p_noise,
        "noise_std": u(*o.noise_std_range),
        "noise_corr": rng.integers(0, len(_NOISE_CORR_PX), b),
        "noise_frames": rng.integers(0, _NOISE_BANK_FRAMES, (b, 2, t)),
        "noise_offset": rng.integers(0, s + 1, (b, 2)),
        "blur": rng.random(b) < o.p_blur,
        "blur_sigma": u(*o.blur_sigma_range),
        "sharpen": u(*o.sharpen_range),
        **({"dihedral": rng.random(b) < o.p_dihedral, "symmetry": rng.integers(0, 8, b)} if o.p_dihedral > 0
           else {"dihedral": np.zeros(b, bool), "symmetry": np.zeros(b, int)}),  # the default's stream as before
    }


def _symmetry(x, code: int):
    """(..., S, S) under one of the 8 symmetries of the square: bit 0 transposes, bit 1 flips rows, bit 2
    flips columns (code 0 is the identity)."""
    if code & 1:
        x = x.transpose(-2, -1)
    if code & 2:
        x = x.flip(-2)
    if code & 4:
        x = x.flip(-1)
    return x.contiguous()


def _geometric(cine, lge, labels, angles, scales):
    """Rotate and scale (n,T,S,S), (n,S,S), (n,L,S,S) about the centre: output pixel p samples input R p / s."""
    import torch
    import torch.nn.functional as F

    c, sn, z = np.cos(angles) / scales, np.sin(angles) / scales, np.zeros_like(angles)
    theta = torch.tensor(np.stack([np.stack([c, -sn, z], -1), np.stack([sn, c, z], -1)], 1), dtype=torch.float32)
    grid = F.affine_grid(theta, [len(angles), 1, *cine.shape[-2:]], align_corners=False)
    sample = dict(padding_mode="reflection", align_corners=False)
    img = F.grid_sample(cine, grid, mode="bilinear", **sample)
    lg = F.grid_sample(lge[:, None], grid, mode="bilinear", **sample)[:, 0]
    lab = F.grid_sample(labels, grid, mode="nearest", **sample)
    return img, lg, lab.round()


@cache
def _frames_matrix(t: int, n: int) -> np.ndarray:
    """(t, t): the linear map of t frames -> n frames -> t frames (inference's resample_frames both ways)."""
    from pscgan.preprocess import resample_frames

    eye = np.eye(t, dtype=np.float32)
    return eye if n == t else resample_frames(resample_frames(eye, n), t)


def _temporal(cine, frames, shifts) -> None:
    """In place: each sample's frames through its frame-count matrix, then started shifts[i] frames later."""
    import torch

    t = cine.shape[1]
    todo = [i for i in range(len(frames)) if frames[i] != t or shifts[i] != 0]
    if not todo:
        return
    eye = np.eye(t, dtype=np.float32)
    mats = np.stack([np.roll(_frames_matrix(t, int(n)), -int(k), axis=0) if (n != t or k) else eye
                     for n, k in zip(frames, shifts)])
    flat = cine.view(len(cine), t, -1)
    flat.copy_(torch.bmm(torch.from_numpy(mats), flat))  # identity rows for the samples left alone


def _curve_coefficients(log_gamma: float, steps: np.ndarray) -> np.ndarray:
    """Power-basis coefficients (low to high) of a monotone curve [0, 1] -> [0, 1] with ends fixed.

    The curve is a Bernstein polynomial whose control values are a random increasing sequence (cumulated
    random steps: the histogram warp) raised to the power gamma; increasing control values make the
    polynomial increasing, so no two intensities swap order. Evaluated by Horner's rule (cheap arithmetic).
    """
    from math import comb

    n = _BERNSTEIN_DEGREE
    knots = np.linspace(0.0, 1.0, len(steps) + 1)
    warp = np.concatenate([[0.0], np.cumsum(steps)]) / np.sum(steps)
    control = np.interp(np.linspace(0.0, 1.0, n + 1), knots, warp) ** np.exp(log_gamma)
    # B(m) = sum_k c_k C(n,k) m^k (1-m)^(n-k) = sum_j a_j m^j with a_j = sum_{k<=j} c_k C(n,j) C(j,k) (-1)^(j-k)
    return np.array([sum(control[k] * comb(n, j) * comb(j, k) * (-1) ** (j - k) for k in range(j + 1))
                     for j in range(n + 1)])


def _apply_curve(m, coef: np.ndarray):
    """m in [0, 1] through the polynomial with power-basis coefficients `coef` (Horner), clipped to [0, 1]."""
    y = m * float(coef[-1]) + float(coef[-2])
    for c in coef[-3::-1]:
        y.mul_(m).add_(float(c))
    return y.clamp_(0.0, 1.0)


def _bias_fields(log_grids: np.ndarray, s: int):
    """(n, 3, 3) log-gains -> (n, 1, s, s) smooth multiplicative fields."""
    import torch
    import torch.nn.functional as F

    g = torch.from_numpy(log_grids.astype(np.float32))[:, None]
    return torch.exp(F.interpolate(g, size=(s, s), mode="bicubic", align_corners=True))


@lru_cache(maxsize=4096)
def _area_linear(s: int, h: int) -> np.ndarray:
    """(s, s): area-average s samples down to h, then linear interpolation back to s (pixel centres aligned)."""
    r = s / h
    edges = np.arange(h + 1) * r
    lo, hi = np.arange(s)[None, :], np.arange(1, s + 1)[None, :]
    down = np.clip(np.minimum(hi, edges[1:, None]) - np.maximum(lo, edges[:-1, None]), 0.0, None) / r  # (h, s)
    u = np.clip((np.arange(s) + 0.5) / r - 0.5, 0.0, h - 1)
    i0 = np.minimum(np.floor(u).astype(int), h - 1)
    i1, w = np.minimum(i0 + 1, h - 1), u - i0
    up = np.zeros((s, h))
    np.add.at(up, (np.arange(s), i0), 1.0 - w)
    np.add.at(up, (np.arange(s), i1), w)
    return up @ down


def _spatial_matrix(s: int, down: float, sigma: float, amount: float) -> np.ndarray:
    """(s, s) float32 for one axis: down-sampling by `down` and back, then x + amount (x - G_sigma x)
    (sigma rounded to 0.01 px so that the Gaussian matrices can be cached)."""
    h = max(2, round(s / down))
    res = np.eye(s) if h >= s else _area_linear(s, h)
    sharp = np.eye(s) if amount == 0.0 else (1.0 + amount) * np.eye(s) - amount * _gaussian_matrix(s, round(sigma, 2))
    return (sharp @ res).astype(np.float32)


@lru_cache(maxsize=1024)
def _gaussian_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) float32: 1-D Gaussian smoothing of length n as a matrix (mirrored borders, rows sum to 1)."""
    r = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    taps /= taps.sum()
    rows = np.repeat(np.arange(n), 2 * r + 1)
    cols = (np.arange(n)[:, None] + np.arange(-r, r + 1)).ravel()
    cols = np.abs(cols)
    cols = np.where(cols > n - 1, 2 * (n - 1) - cols, cols)
    g = np.zeros((n, n), np.float64)
    np.add.at(g, (rows, cols), np.tile(taps, n))
    return g


def _blur(m, sigma: float):
    """Gaussian blur of the last two axes of (..., S, S) (two matrix products)."""
    import torch

    g = torch.from_numpy(_gaussian_matrix(m.shape[-1], sigma).astype(np.float32))
    return g @ m @ g.T


@cache
def _noise_bank(s: int, level: int):
    """(_NOISE_BANK_FRAMES, 2s, 2s) float32 unit-std Gaussian noise, smoothed by _NOISE_CORR_PX[level] px.

    Fixed (seeded once): a sample's noise is a random choice of frames and window from it (`_noise`), which
    is far cheaper than drawing 2 x 25 x 64 x 64 new normals per sample and still never repeats for the
    model (64^2 frame choices per frame times 65^2 windows).
    """
    import torch

    bank = np.random.default_rng(_NOISE_BANK_SEED).standard_normal((_NOISE_BANK_FRAMES, 2 * s, 2 * s), np.float32)
    sigma = _NOISE_CORR_PX[level]
    out = torch.from_numpy(bank)
    if sigma > 0:
        out = _blur(out, sigma)
        out = out / out.std()
    return out.contiguous()


def _noise(s: int, level: int, frames: np.ndarray, offset: np.ndarray):
    """(2, T, s, s) noise: bank frames `frames` (2, T), window at `offset` (row, col)."""
    r, c = int(offset[0]), int(offset[1])
    return _noise_bank(s, level)[:, r : r + s, c : c + s][frames]


def _rician(m, std: float, noise) -> None:
    """In place: m -> |(m + std n0) + i std n1|, Rician noise (Rayleigh where m = 0); `noise` is overwritten."""
    import torch

    re, im = noise[0], noise[1]
    torch.add(m, re, alpha=std, out=re)
    re.mul_(re).addcmul_(im, im, value=std * std)
    torch.sqrt(re, out=m)


if __name__ == "__main__":
    import sys

    from .augment_show import main

    sys.exit(main())
