"""PSCGAN loss functions (paper eq. 8-17) and the alternative adversarial losses it compares.

Pure functions on tensors; every loss returns a scalar averaged over the batch. Conventions:
* logits (B, K, H, W); labels (B, H, W) int64 in [0, K) or one-hot/probabilities (B, K, H, W).
* Discriminator scores are raw (unbounded) (B, 1) tensors.

Departures / choices, stated once here:
* `mce` (eq. 8-9) is the per-class binary cross-entropy between the softmax probabilities and the
  one-hot target, SUMMED over the K classes and averaged over pixels and batch. Its first term
  -sum_k y_k log p_k is exactly the usual softmax cross-entropy; the second term
  -sum_k (1 - y_k) log(1 - p_k) additionally penalises probability given to each wrong class.
* `synthetic_regularisation` (eq. 11) is normalised per pixel: 0.5 * mean(I^2) and
  phi(.) / (number of pixels), so that nu does not depend on the image size.
* `content_loss` (eq. 15) averages the squared feature differences over channels and pixels of each
  of the three layers and sums over layers; pass detached real features when training G.
* `size_regression_loss` trains D_Seg's size head on ground truth: L1 between the predicted sizes
  and the true class fractions (eq. 17 alone only compares two predictions).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

ADVERSARIAL_LOSSES = ("hinge", "wgan-gp", "lsgan")


def _one_hot(target: Tensor, num_classes: int) -> Tensor:
    """labels (B, H, W) -> one-hot float (B, K, H, W); a float (B, K, H, W) target is returned as is."""
    if target.dtype.is_floating_point:
        if target.dim() != 4 or target.shape[1] != num_classes:
            raise ValueError(f"a float target must be (B, {num_classes}, H, W), got {tuple(target.shape)}")
        return target
    if target.min() < 0 or target.max() >= num_classes:
        raise ValueError(f"labels must be in [0, {num_classes}), got [{int(target.min())}, {int(target.max())}]")
    return F.one_hot(target.long(), num_classes).permute(0, 3, 1, 2).to(torch.float32)


def mce(logits: Tensor, target: Tensor, class_weights: Tensor | None = None) -> Tensor:
    """Multi-class cross-entropy of eq. 8-9 (see the module docstring).

    logits (B, K, H, W); target labels (B, H, W) or one-hot (B, K, H, W); optional class_weights (K,).
    """
    k = logits.shape[1]
    y = _one_hot(target, k).to(logits.dtype)
    log_p = F.log_softmax(logits, dim=1)  # (B, K, H, W)
    # log(1 - p_k) = logsumexp over the other classes - logsumexp over all classes (stable).
    others = logits.unsqueeze(1).expand(-1, k, -1, -1, -1)  # (B, K_excluded, K, H, W)
    eye = torch.eye(k, dtype=torch.bool, device=logits.device).view(1, k, k, 1, 1)
    log_not_p = torch.logsumexp(others.masked_fill(eye, float("-inf")), dim=2) - torch.logsumexp(logits, dim=1, keepdim=True)
    per_class = -(y * log_p + (1 - y) * log_not_p)  # (B, K, H, W)
    if class_weights is not None:
        per_class = per_class * class_weights.view(1, k, 1, 1).to(per_class)
    return per_class.sum(dim=1).mean()


def soft_dice(logits: Tensor, target: Tensor, eps: float = 1.0) -> Tensor:
    """1 - mean soft Dice over the foreground classes 1..K-1 (Milletari et al. 2016), pooled over the
    batch: logits (B, K, H, W), labels (B, H, W). Small classes (scar) weigh as much as large ones,
    which the per-pixel mce alone does not give."""
    k = logits.shape[1]
    p = torch.softmax(logits, dim=1)[:, 1:]
    y = _one_hot(target, k).to(p.dtype)[:, 1:]
    inter = (p * y).sum(dim=(0, 2, 3))
    denom = p.sum(dim=(0, 2, 3)) + y.sum(dim=(0, 2, 3))
    return 1.0 - ((2 * inter + eps) / (denom + eps)).mean()


def systole_mce(logits: Tensor, target: Tensor, unknown: int) -> Tensor:
    """mce of the end-systolic labels: logits (B, K, H, W), target (B, H, W) with `unknown` where a sample has no
    end-systolic labels; those samples are left out (zero when none has them)."""
    known = (target != unknown).flatten(1).all(dim=1)  # (B,): a sample's labels are all known or all unknown
    if not bool(known.any()):
        return logits.sum() * 0.0
    return mce(logits[known], target[known])


# --- adversarial losses: hinge (eq. 10, 14, 16), Wasserstein with gradient penalty, least squares ---

def hinge_d(real_score: Tensor, fake_score: Tensor) -> Tensor:
    """-E[min(0, -1 + D(real))] - E[min(0, -1 - D(fake))]."""
    return F.relu(1.0 - real_score).mean() + F.relu(1.0 + fake_score).mean()


def hinge_g(fake_score: Tensor) -> Tensor:
    """-E[D(G(x))]."""
    return -fake_score.mean()


def wgan_d(real_score: Tensor, fake_score: Tensor) -> Tensor:
    return fake_score.mean() - real_score.mean()


def wgan_g(fake_score: Tensor) -> Tensor:
    return -fake_score.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor | Sequence[Tensor]], real: Tensor, fake: Tensor, eps: Tensor | None = None,
) -> Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat = eps * real + (1 - eps) * fake (Gulrajani et al. 2017).

    `critic` may return a score or a tuple whose first item is the score; eps (B,) defaults to U(0, 1).
    """
    b = real.shape[0]
    if eps is None:
        eps = torch.rand(b, device=real.device, dtype=real.dtype)
    eps = eps.view(b, *([1] * (real.dim() - 1)))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    score = out[0] if isinstance(out, (tuple, list)) else out
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)  # (B,)
    return ((norms - 1.0) ** 2).mean()


def lsgan_d(real_score: Tensor, fake_score: Tensor) -> Tensor:
    """0.5 E[(D(real) - 1)^2] + 0.5 E[D(fake)^2] (Mao et al. 2017)."""
    return 0.5 * ((real_score - 1.0) ** 2).mean() + 0.5 * (fake_score**2).mean()


def lsgan_g(fake_score: Tensor) -> Tensor:
    return 0.5 * ((fake_score - 1.0) ** 2).mean()


def adversarial_d(kind: str, real_score: Tensor, fake_score: Tensor) -> Tensor:
    """Discriminator loss of the configured kind (the WGAN-GP penalty is added separately)."""
    if kind == "hinge":
        return hinge_d(real_score, fake_score)
    if kind == "wgan-gp":
        return wgan_d(real_score, fake_score)
    if kind == "lsgan":
        return lsgan_d(real_score, fake_score)
    raise ValueError(f"unknown adversarial loss {kind!r}; choose one of {ADVERSARIAL_LOSSES}")


def adversarial_g(kind: str, fake_score: Tensor) -> Tensor:
    if kind == "hinge":
        return hinge_g(fake_score)
    if kind == "wgan-gp":
        return wgan_g(fake_score)
    if kind == "lsgan":
        return lsgan_g(fake_score)
    raise ValueError(f"unknown adversarial loss {kind!r}; choose one of {ADVERSARIAL_LOSSES}")


# --- synthetic regularisation (eq. 11-13) ---

def ogs(u: Tensor, group_size: int = 3) -> Tensor:
    """Overlapping group sparsity phi(u) of eq. 12-13, per image: sum over (i, j) of the L2 norm of
    the K x K group u[i - m1 .. i + m2, j - m1 .. j + m2] (zeros outside), m1 = (K-1)//2, m2 = K//2.

    u (B, C, H, W) -> (B,) summed over channels and positions.
    """
    k = group_size
    m1, m2 = (k - 1) // 2, k // 2
    sq = F.pad(u * u, (m1, m2, m1, m2))  # (B, C, H + K - 1, W + K - 1)
    group_energy = F.avg_pool2d(sq, k, stride=1) * (k * k)  # (B, C, H, W): sum over each group
    nonzero = group_energy > 0
    # sqrt with a zero (not infinite) gradient at 0: all-zero groups contribute exactly 0.
    norms = torch.where(nonzero, torch.sqrt(torch.where(nonzero, group_energy, torch.ones_like(group_energy))), 0.0)
    return norms.flatten(1).sum(dim=1)


def image_differences(img: Tensor) -> tuple[Tensor, Tensor]:
    """(I[i+1, j] - I[i, j], I[i, j+1] - I[i, j]) of (B, C, H, W): shapes (B, C, H-1, W), (B, C, H, W-1)."""
    return img[:, :, 1:, :] - img[:, :, :-1, :], img[:, :, :, 1:] - img[:, :, :, :-1]


def ogs_tv(img: Tensor, group_size: int = 3) -> Tensor:
    """phi(dI/di) + phi(dI/dj) per image, averaged over the batch (eq. 11's bracket, unnormalised)."""
    dx, dy = image_differences(img)
    return (ogs(dx, group_size) + ogs(dy, group_size)).mean()


def synthetic_regularisation(img: Tensor, nu: float, group_size: int = 3) -> Tensor:
    """Eq. 11 normalised per pixel: 0.5 * mean(I^2) + nu * (phi(dx) + phi(dy)) / (C * H * W)."""
    pixels = img[0].numel()
    return 0.5 * (img**2).mean() + nu * ogs_tv(img, group_size) / pixels


# --- synthetic content loss (eq. 15) ---

def content_loss(real_feats: Sequence[Tensor], fake_feats: Sequence[Tensor]) -> Tensor:
    """Sum over layers of mean((D_conv_i(real) - D_conv_i(fake))^2) (eq. 15)."""
    if len(real_feats) != len(fake_feats):
        raise ValueError(f"{len(real_feats)} real but {len(fake_feats)} fake feature maps")
    return sum(F.mse_loss(f, r) for r, f in zip(real_feats, fake_feats))


# --- segmentation auxiliary loss (eq. 17) ---

def auxiliary_size_loss(pred_sizes_real: Tensor, pred_sizes_fake: Tensor) -> Tensor:
    """Eq. 17: E || D_aux(real) - D_aux(fake) ||_1, sizes (B, K) -> mean over batch of the L1 norm."""
    return (pred_sizes_real - pred_sizes_fake).abs().sum(dim=1).mean()


def class_fractions(target: Tensor, num_classes: int = 4) -> Tensor:
    """Fraction of pixels per class, (B, K): labels (B, H, W) or one-hot/probabilities (B, K, H, W)."""
    return _one_hot(target, num_classes).flatten(2).mean(dim=2)


def size_regression_loss(pred_sizes: Tensor, target: Tensor) -> Tensor:
    """L1 between D_Seg's predicted class sizes (fractions, (B, K)) and the true fractions of `target`."""
    true = class_fractions(target, pred_sizes.shape[1]).to(pred_sizes)
    return (pred_sizes - true).abs().sum(dim=1).mean()


def reconstruction_l1(fake: Tensor, real: Tensor) -> Tensor:
    """Pixel L1 between synthesised and real LGE (a departure; weight TrainingConfig.recon_weight, 0 = paper)."""
    return (fake - real).abs().mean()
